#!/usr/bin/env node
// Bundles the browser entry (dist/index.js, with mediasoup-client and @splatcast/proto) into one ESM file for
// <script type="module">: dist/browser/splatcast.js, minified, with a source map. Fails over the size budget.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'browser', 'splatcast.js');
/** Budget for the minified bundle: 324 KiB measured (mediasoup-client and the protobuf runtime are most of it). */
const MAX_BYTES = 360 * 1024;

await build({
  entryPoints: [path.join(root, 'dist', 'index.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  outfile,
  logLevel: 'warning',
});
const size = statSync(outfile).size;
console.log(`client-sdk: ${path.relative(root, outfile)} ${(size / 1024).toFixed(1)} KiB`);
if (size > MAX_BYTES) {
  console.error(`client-sdk: the bundle is over its budget of ${MAX_BYTES / 1024} KiB`);
  process.exit(1);
}
