#!/usr/bin/env node
// Makes sure mediasoup and its C++ worker (mediasoup-worker) are installed, on machines with and without internet.
//
// npm's `allowScripts` policy in the root package.json denies mediasoup's own postinstall (offline it fails the
// whole `npm install`: it downloads a prebuilt worker from GitHub, then falls back to pip and meson downloads). This
// script, the root package's postinstall, does the same job so that it works both ways:
//   1. a worker that passes mediasoup's start probe is there already: done;
//   2. otherwise mediasoup's own postinstall runs (with internet: the prebuilt worker, or mediasoup's local build);
//   3. when that fails (no internet), the worker is built from the npm package's own sources against Debian's
//      libraries by scripts/mediasoup-offline/build.mjs, which caches it per mediasoup version.
// MEDIASOUP_WORKER_BIN (mediasoup's own variable) skips everything: the worker is provided.
// npm before 11.x ignores allowScripts and runs mediasoup's postinstall itself (fine with internet).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOfflineWorker, OfflineBuildError, workerPath, workerRuns } from './mediasoup-offline/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'node_modules', 'mediasoup');
const workerBin = workerPath(pkgDir);

function log(message) {
  console.log(`splatcast mediasoup: ${message}`);
}

function die(message) {
  console.error(`splatcast mediasoup: ${message}`);
  process.exit(1);
}

if (process.env.MEDIASOUP_WORKER_BIN) {
  log(`MEDIASOUP_WORKER_BIN=${process.env.MEDIASOUP_WORKER_BIN} given; not checking the bundled worker`);
  process.exit(0);
}

if (!existsSync(path.join(pkgDir, 'package.json'))) die(`mediasoup is not installed in ${pkgDir}`);
const version = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
if (workerRuns(workerBin)) {
  log(`mediasoup ${version}: worker present`);
  process.exit(0);
}

log(`mediasoup ${version}: no worker yet; trying mediasoup's own installer (prebuilt download)`);
const own = spawnSync(process.execPath, ['npm-scripts.mjs', 'postinstall'], {
  cwd: pkgDir,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  timeout: 30 * 60 * 1000,
});
if (own.status === 0 && workerRuns(workerBin)) {
  log(`mediasoup ${version}: worker installed by mediasoup's own installer`);
  process.exit(0);
}
log("mediasoup's own installer could not get a worker (no internet?); building it offline");

try {
  buildOfflineWorker(pkgDir, log);
} catch (error) {
  if (!(error instanceof OfflineBuildError)) throw error;
  const said = (own.stderr || own.stdout || String(own.error)).trim().split('\n').slice(-3).join(' | ');
  die(
    `mediasoup ${version} has no worker: none could be downloaded (mediasoup's installer said: ${said}) and the ` +
      `offline build failed: ${error.message}. Give the machine internet access, or set MEDIASOUP_WORKER_BIN to a ` +
      'built worker.',
  );
}
if (!workerRuns(workerBin)) die(`the offline build finished but ${workerBin} does not pass mediasoup's start probe`);
log(`mediasoup ${version}: worker ready`);
