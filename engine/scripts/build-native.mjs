#!/usr/bin/env node
// Builds the native engine addon with CMake. Why CMake and not node-gyp: CMake has first-class CUDA support
// (architectures, static runtime, separate host/device compilers); node-gyp would need hand-written nvcc rules.
// Why not cmake-js: it downloads Node headers at build time, which fails offline; Node ships its headers.
//
// SPLATCAST_CUDA=auto (default) builds the CUDA backend when nvcc is found; =on requires it; =off skips it.
// SPLATCAST_BUILD_DIR builds elsewhere than engine/build (the loader honours it too).
// SPLATCAST_CUDA_ARCHS overrides the GPU architectures (CMake syntax, e.g. "90-real").
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const engineDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.SPLATCAST_BUILD_DIR
  ? path.resolve(process.env.SPLATCAST_BUILD_DIR)
  : path.join(engineDir, 'build');
const require = createRequire(import.meta.url);

function die(message) {
  console.error(`splatcast engine build: ${message}`);
  process.exit(1);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function nodeHeaders() {
  const candidates = [
    process.env.SPLATCAST_NODE_INCLUDE,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
  if (!found)
    die(
      `Node.js headers (node_api.h) not found in ${candidates.join(', ')}; install Node.js with its headers ` +
        '(the official tarball has them; Debian: apt-get install libnode-dev) or set SPLATCAST_NODE_INCLUDE',
    );
  return found;
}

function findNvcc() {
  const fromPath = which('nvcc');
  if (fromPath) return fromPath;
  const home = process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda';
  const candidate = path.join(home, 'bin', 'nvcc');
  return existsSync(candidate) ? candidate : null;
}

const mode = (process.env.SPLATCAST_CUDA || 'auto').toLowerCase();
if (!['auto', 'on', 'off'].includes(mode)) die(`SPLATCAST_CUDA must be auto, on or off (got "${mode}")`);
if (!which('cmake')) die('cmake not found: apt-get install cmake (see README, "System packages")');
const nvcc = mode === 'off' ? null : findNvcc();
if (mode === 'on' && !nvcc) die('SPLATCAST_CUDA=on but nvcc was not found (set CUDA_HOME or put nvcc on PATH)');
const withCuda = Boolean(nvcc);

const args = [
  '-S',
  path.join(engineDir, 'native'),
  '-B',
  buildDir,
  '-DCMAKE_BUILD_TYPE=Release',
  `-DNODE_INCLUDE_DIR=${nodeHeaders()}`,
  `-DNODE_ADDON_API_DIR=${require('node-addon-api').include_dir.replace(/"/g, '')}`,
  `-DSPLATCAST_CUDA=${withCuda ? 'ON' : 'OFF'}`,
];
if (withCuda) args.push(`-DCMAKE_CUDA_COMPILER=${nvcc}`);
if (process.env.SPLATCAST_CUDA_ARCHS) args.push(`-DCMAKE_CUDA_ARCHITECTURES=${process.env.SPLATCAST_CUDA_ARCHS}`);

console.log(`splatcast engine build: CUDA backend ${withCuda ? `on (${nvcc})` : 'off'}`);
try {
  execFileSync('cmake', args, { stdio: 'inherit' });
  execFileSync(
    'cmake',
    ['--build', buildDir, '--parallel', String(Math.max(2, (await import('node:os')).cpus().length))],
    {
      stdio: 'inherit',
    },
  );
} catch {
  die('native build failed (see the compiler output above)');
}
