#!/usr/bin/env node
// Builds mediasoup's C++ worker (mediasoup-worker) from the sources inside its npm package, against Debian's
// libraries, downloading nothing: for machines that reach only the npm registry and the Debian archive, where
// mediasoup's own postinstall fails (it fetches a prebuilt worker from GitHub, then pip packages and meson wraps).
//
//   node scripts/mediasoup-offline/build.mjs [DIR]   (DIR: the installed mediasoup package; default: ours)
//
// mediasoup's meson build pulls its dependencies as "wraps" (source archives from the internet). Each wrap is
// replaced by a folder of subprojects/ here, named after the wrap, that points meson at the Debian package instead
// (scripts/setup-system.sh installs them): libuv, OpenSSL, abseil, flatbuffers as they are; libsrtp 3 through a
// small layer over libsrtp 2; ankerl::unordered_dense through the standard containers. Two source patches: the
// meson version mediasoup asks for, when Debian's is older and nothing newer is used, and the DTLS BIO callback
// (see patchDtlsCallback). The worker is cached per mediasoup version and recipe (the files of this folder), so a
// reinstall copies it in a second; a clean build takes about 7 minutes on 2 cores.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHIMS = path.join(here, 'subprojects');
/** Wraps mediasoup declares but a Linux release build of the worker never opens (Windows getopt, test framework). */
const UNUSED_WRAPS = new Set(['wingetopt', 'catch2']);
/** pkg-config modules the shims ask for, and the Debian package of each. */
const SYSTEM_LIBRARIES = {
  libuv: 'libuv1-dev',
  openssl: 'libssl-dev',
  libsrtp2: 'libsrtp2-dev',
  flatbuffers: 'libflatbuffers-dev',
  absl_base: 'libabsl-dev',
  absl_strings: 'libabsl-dev',
  absl_optional: 'libabsl-dev',
  absl_memory: 'libabsl-dev',
  absl_flat_hash_map: 'libabsl-dev',
  absl_inlined_vector: 'libabsl-dev',
};
/** Bump when the build itself changes (patches, meson options); the shims' contents are hashed on their own. */
const RECIPE = 1;
const TOOLS = {
  meson: 'meson',
  ninja: 'ninja-build',
  'pkg-config': 'pkg-config',
  'c++': 'g++',
  flatc: 'flatbuffers-compiler',
};

export class OfflineBuildError extends Error {}

/** mediasoup's own start probe: a worker run without MEDIASOUP_VERSION in its environment exits with 41. */
export function workerRuns(bin) {
  return existsSync(bin) && spawnSync(bin, [], { env: {}, stdio: 'ignore' }).status === 41;
}

/** Where the worker goes in the package: mediasoup looks there by default. */
export function workerPath(pkgDir) {
  return path.join(pkgDir, 'worker', 'out', 'Release', 'mediasoup-worker');
}

/**
 * Puts a worker built offline into `pkgDir` (from the cache when this version was built before) and returns its
 * path. Throws OfflineBuildError with what to do when something is missing.
 */
export function buildOfflineWorker(pkgDir, log = (message) => console.log(`mediasoup offline build: ${message}`)) {
  const version = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  const out = workerPath(pkgDir);
  const cached = path.join(cacheRoot(), `${version}-${recipeHash()}`, 'mediasoup-worker');
  if (workerRuns(cached)) {
    install(cached, out);
    log(`mediasoup-worker ${version} from the cache (${cached})`);
    return out;
  }
  const wraps = wrapDirectories(path.join(pkgDir, 'worker', 'subprojects'), version);
  checkSystem();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'mediasoup-offline-'));
  try {
    const source = path.join(scratch, 'worker');
    copySources(path.join(pkgDir, 'worker'), source);
    for (const [wrap, directory] of wraps)
      copyTree(path.join(SHIMS, wrap), path.join(source, 'subprojects', directory));
    relaxMesonVersion(path.join(source, 'meson.build'));
    patchDtlsCallback(path.join(source, 'src', 'RTC', 'DtlsTransport.cpp'));
    const build = path.join(scratch, 'build');
    log(`building mediasoup-worker ${version} against Debian's libraries (about 7 minutes on 2 cores)`);
    run(
      'meson',
      ['setup', '--wrap-mode=nodownload', '--buildtype=release', '-Db_ndebug=true', build],
      source,
      path.join(scratch, 'meson-setup.log'),
    );
    run(
      'ninja',
      ['-C', build, `-j${os.availableParallelism()}`, 'mediasoup-worker'],
      source,
      path.join(scratch, 'ninja.log'),
    );
    const built = path.join(build, 'mediasoup-worker');
    execFileSync('strip', [built]);
    if (!workerRuns(built)) throw new OfflineBuildError(`the built ${built} fails mediasoup's start probe`);
    install(built, cached);
    install(built, out);
    log(`mediasoup-worker ${version} built: ${out} (cached in ${path.dirname(cached)})`);
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function cacheRoot() {
  if (process.env.SPLATCAST_MEDIASOUP_CACHE) return process.env.SPLATCAST_MEDIASOUP_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'splatcast', 'mediasoup-worker');
}

/** A change of the shims, or of RECIPE, makes a new cache entry: a stale worker is never reused. */
function recipeHash() {
  const hash = createHash('sha256').update(`recipe ${RECIPE}\0`);
  for (const file of listFiles(SHIMS).sort())
    hash.update(path.relative(here, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : [full];
  });
}

/** [wrap name, directory meson expects] for every wrap the build opens; each must have a shim here. */
function wrapDirectories(subprojects, version) {
  const wraps = [];
  for (const file of readdirSync(subprojects).filter((f) => f.endsWith('.wrap'))) {
    const name = file.slice(0, -'.wrap'.length);
    if (UNUSED_WRAPS.has(name)) continue;
    const directory = /^directory\s*=\s*(\S+)/m.exec(readFileSync(path.join(subprojects, file), 'utf8'))?.[1];
    if (!directory) throw new OfflineBuildError(`${file} of mediasoup ${version} names no directory`);
    if (!existsSync(path.join(SHIMS, name)))
      throw new OfflineBuildError(
        `mediasoup ${version} needs "${name}", which scripts/mediasoup-offline/subprojects has no stand-in for ` +
          '(a newer mediasoup added a dependency: add a folder mapping it to a Debian package)',
      );
    wraps.push([name, directory]);
  }
  return wraps;
}

function checkSystem() {
  const missing = new Set();
  for (const [tool, pkg] of Object.entries(TOOLS))
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) missing.add(pkg);
  if (!missing.has('pkg-config'))
    for (const [module, pkg] of Object.entries(SYSTEM_LIBRARIES))
      if (spawnSync('pkg-config', ['--exists', module]).status !== 0) missing.add(pkg);
  if (missing.size > 0)
    throw new OfflineBuildError(
      `building mediasoup's worker offline needs the Debian packages ${[...missing].join(' ')}: ` +
        'run `sudo scripts/setup-system.sh` (it installs everything Splatcast needs), then `npm install` again',
    );
}

/** The worker's sources without earlier build output (out/ can hold gigabytes of a previous attempt). */
function copySources(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (entry === 'out') continue;
    copyTree(path.join(from, entry), path.join(to, entry));
  }
}

function copyTree(from, to) {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) copyTree(path.join(from, entry), path.join(to, entry));
  } else copyFileSync(from, to);
}

/** mediasoup asks for meson >= 1.1.0; Debian 12 has 1.0.1, which builds it (no 1.1 feature is used). */
function relaxMesonVersion(mesonBuild) {
  const installed = execFileSync('meson', ['--version'], { encoding: 'utf8' }).trim();
  const text = readFileSync(mesonBuild, 'utf8');
  const required = /meson_version\s*:\s*'>=\s*([\d.]+)'/.exec(text)?.[1];
  if (!required || compareVersions(installed, required) >= 0) return;
  writeFileSync(mesonBuild, text.replace(/meson_version\s*:\s*'>=\s*[\d.]+'/, `meson_version: '>= ${installed}'`));
}

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * mediasoup's BIO callback for outgoing DTLS returns OpenSSL's result only when the operation is exactly
 * BIO_CB_RETURN, and 1 for everything else. Debian's OpenSSL 3 is built with kernel TLS, and asks the BIO whether
 * kTLS is on through a control call, whose return phase arrives as BIO_CB_CTRL | BIO_CB_RETURN: the callback says 1,
 * "on", and the worker crashes on the first DTLS handshake. Every return phase must pass OpenSSL's result through.
 */
function patchDtlsCallback(file) {
  const text = readFileSync(file, 'utf8');
  const broken = '(operationType == BIO_CB_RETURN)';
  const fixed = '((operationType & BIO_CB_RETURN) != 0)';
  if (text.includes(fixed) || text.includes('(operationType & BIO_CB_RETURN)')) return; // fixed upstream
  if (!text.includes(broken))
    throw new OfflineBuildError(
      `${path.basename(file)} changed: check mediasoup's DTLS BIO callback against a kTLS-enabled OpenSSL by hand ` +
        '(see patchDtlsCallback in scripts/mediasoup-offline/build.mjs)',
    );
  writeFileSync(file, text.replace(broken, fixed));
}

function run(command, args, cwd, logFile) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  writeFileSync(logFile, `${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.status === 0) return;
  const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-40).join('\n');
  throw new OfflineBuildError(
    `${command} ${args[0]} failed (${result.error?.message ?? `exit ${result.status}`}):\n${tail}`,
  );
}

/** Copies through a temporary name and renames, so that a half-written worker is never found. */
function install(from, to) {
  mkdirSync(path.dirname(to), { recursive: true });
  const partial = `${to}.partial-${process.pid}`;
  copyFileSync(from, partial);
  renameSync(partial, to);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pkgDir = path.resolve(process.argv[2] ?? path.join(here, '..', '..', 'node_modules', 'mediasoup'));
  try {
    buildOfflineWorker(pkgDir);
  } catch (error) {
    console.error(`mediasoup offline build: ${error instanceof OfflineBuildError ? error.message : error.stack}`);
    process.exit(1);
  }
}
