#!/usr/bin/env node
// Builds the server's media addon (native/src: VP8 through libvpx, H.264 through OpenH264) into native/build/.
// A plain g++ call rather than node-gyp or CMake: four C++ files and two system libraries found by pkg-config;
// node-gyp would download Node headers (offline machines cannot), and Node ships them next to its binary.
// Needs Debian's libvpx-dev and libopenh264-dev (scripts/setup-system.sh installs them).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(serverDir, 'native', 'src');
const outDir = path.join(serverDir, 'native', 'build');
const out = path.join(outDir, 'splatcast_media.node');
const require = createRequire(import.meta.url);

function die(message) {
  console.error(`splatcast media addon: ${message}`);
  process.exit(1);
}

function nodeHeaders() {
  const candidates = [
    process.env.SPLATCAST_NODE_INCLUDE,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
  if (!found) die(`Node.js headers (node_api.h) not found in ${candidates.join(', ')}; set SPLATCAST_NODE_INCLUDE`);
  return found;
}

function pkgConfig(args) {
  const r = spawnSync('pkg-config', args, { encoding: 'utf8' });
  if (r.error) die('pkg-config not found: run scripts/setup-system.sh (Debian: apt-get install pkg-config)');
  if (r.status !== 0)
    die(
      `${r.stderr.trim()}\nmissing codec libraries: run scripts/setup-system.sh (Debian: apt-get install libvpx-dev libopenh264-dev)`,
    );
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}

const sources = readdirSync(srcDir)
  .filter((f) => f.endsWith('.cpp'))
  .map((f) => path.join(srcDir, f));
const inputs = [...sources, ...readdirSync(srcDir).map((f) => path.join(srcDir, f)), import.meta.filename];
if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs)) {
  console.log('splatcast media addon: up to date');
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const args = [
  '-std=c++17',
  '-O2',
  '-fPIC',
  '-shared',
  '-fvisibility=hidden',
  '-Wall',
  '-DNAPI_VERSION=8',
  '-DNODE_ADDON_API_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeHeaders()}`,
  `-I${require('node-addon-api').include_dir.replace(/"/g, '')}`,
  ...pkgConfig(['--cflags', 'vpx', 'openh264']),
  ...sources,
  '-o',
  out,
  ...pkgConfig(['--libs', 'vpx', 'openh264']),
];
console.log('splatcast media addon: building (libvpx, OpenH264)');
try {
  execFileSync(process.env.CXX || 'g++', args, { stdio: 'inherit' });
} catch {
  die('compilation failed (see above)');
}
console.log(`splatcast media addon: built ${path.relative(serverDir, out)}`);
