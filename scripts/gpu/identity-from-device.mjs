// Rebuilds an identity package trained on the device machine from what comes back (identity.json and the weights'
// split parts; plates.bin is ~60 MB and stays behind) and the local copy of its dataset: the plates are re-read
// from the dataset's training frames (the device trained on their packed copy, so the bytes differ and the package
// is written anew with its own checksums). Evaluation does not use them: it composites over each test frame's plate.
// Usage: node scripts/gpu/identity-from-device.mjs IDENTITY.json DATASET_DIR OUT_DIR WEIGHTS.part00 [PART ...]
import { readFile } from 'node:fs/promises';
import { saveIdentity } from '../../engine/dist/identity/package.js';
import { decodeSafetensors } from '../../engine/dist/identity/safetensors.js';
import { DatasetReader } from '../../engine/dist/prepare/dataset-reader.js';

const [manifestFile, datasetDir, out, ...parts] = process.argv.slice(2);
if (!manifestFile || !datasetDir || !out || parts.length === 0) {
  console.error('usage: identity-from-device.mjs IDENTITY.json DATASET_DIR OUT_DIR WEIGHTS.part00 [PART ...]');
  process.exit(2);
}
const { checksums: _, ...manifest } = JSON.parse(await readFile(manifestFile, 'utf8'));
const bytes = Buffer.concat(await Promise.all(parts.map((p) => readFile(p))));
const weights = Object.fromEntries(
  [...decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).tensors].map(([name, t]) => [
    name,
    t.data,
  ]),
);
const reader = await DatasetReader.open(datasetDir);
const frames = reader.frames('train');
if (frames.length !== manifest.plates.count)
  throw new Error(`${datasetDir} has ${frames.length} training frames, the identity ${manifest.plates.count} plates`);
const plates = await Promise.all(frames.map((t) => reader.torsoPlate(t)));
await saveIdentity(out, { manifest, weights, plates });
console.log(`${out}: ${manifest.gaussians.face} + ${manifest.gaussians.mouth} Gaussians, ${plates.length} plates`);
