import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { loadIdentity, saveIdentity } from '../src/identity/package.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../src/identity/safetensors.js';
import { defaultModelConfig } from '../src/model/config.js';

const root = await mkdtemp(path.join(tmpdir(), 'splatcast-identity-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
const model = defaultModelConfig();
for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
  grid.log2Table = 10;
const base = path.join(root, 'base');
const fixture = await makeFixtureIdentity({
  out: base,
  seed: 11,
  faceGaussians: 2000,
  mouthGaussians: 400,
  frames: 10,
  model,
});

let cases = 0;
/** A fresh copy of the base package, changed by `mutate`. */
async function corrupted(mutate: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, `case-${cases++}`);
  await cp(base, dir, { recursive: true });
  await mutate(dir);
  return dir;
}
const file = (dir: string, name: string) => path.join(dir, name);
// biome-ignore lint/suspicious/noExplicitAny: the tests corrupt the manifest's JSON freely
async function editManifest(dir: string, edit: (m: Record<string, any>) => void) {
  const m = JSON.parse(await readFile(file(dir, 'identity.json'), 'utf8'));
  edit(m);
  await writeFile(file(dir, 'identity.json'), JSON.stringify(m));
}
/** Rewrites the weights as a valid safetensors file (changed by `edit`) with a matching checksum. */
async function editWeights(dir: string, edit: (tensors: Map<string, SafetensorsTensor>) => void) {
  const { tensors } = decodeSafetensors(await readFile(file(dir, 'weights.safetensors')));
  edit(tensors);
  const bytes = encodeSafetensors(tensors);
  await writeFile(file(dir, 'weights.safetensors'), bytes);
  const sum = createHash('sha256').update(bytes).digest('hex');
  await editManifest(dir, (m) => {
    m.checksums['weights.safetensors'] = sum;
  });
}

t.test('round trip', async (t) => {
  const loaded = await loadIdentity(base);
  t.same(loaded.manifest, fixture.manifest);
  t.equal(loaded.tracks.pose.length, 10 * 16);
  t.equal(loaded.tracks.expression.length, 10 * model.expressionDim);
  const again = path.join(root, 'again');
  const manifest = await saveIdentity(again, loaded);
  t.same(manifest.checksums, fixture.manifest.checksums, 'saving a loaded package reproduces its bytes');
  // Replacing an existing package leaves exactly one directory and no temporaries behind.
  await saveIdentity(again, loaded);
  t.same(
    (await readdir(root)).filter((n) => n.startsWith('.')),
    [],
  );
  t.same((await loadIdentity(again)).manifest.checksums, fixture.manifest.checksums);
});

const rejections: [string, (dir: string) => Promise<void>, RegExp][] = [
  [
    'truncated weights',
    async (dir) => {
      const bytes = await readFile(file(dir, 'weights.safetensors'));
      await writeFile(file(dir, 'weights.safetensors'), bytes.subarray(0, bytes.length - 1000));
    },
    /weights\.safetensors: .*outside the \d+ data bytes \(truncated\?\)/,
  ],
  [
    'weights shorter than the header length field',
    (dir) => writeFile(file(dir, 'weights.safetensors'), Buffer.from([1, 2, 3])),
    /weights\.safetensors: file is 3 bytes, shorter than the 8-byte header length/,
  ],
  [
    'bad header length',
    async (dir) => {
      const bytes = await readFile(file(dir, 'weights.safetensors'));
      bytes.writeBigUInt64LE(1n << 40n, 0);
      await writeFile(file(dir, 'weights.safetensors'), bytes);
    },
    /weights\.safetensors: header length 1099511627776 is out of bounds/,
  ],
  [
    'header length past the end of the file',
    async (dir) => {
      const bytes = await readFile(file(dir, 'weights.safetensors'));
      bytes.writeBigUInt64LE(BigInt(bytes.length), 0);
      await writeFile(file(dir, 'weights.safetensors'), bytes);
    },
    /weights\.safetensors: header length \d+ runs past the end of the file/,
  ],
  [
    'header JSON garbage',
    async (dir) => {
      const bytes = await readFile(file(dir, 'weights.safetensors'));
      bytes.write('{"face.xyz": [oops', 8, 'latin1');
      await writeFile(file(dir, 'weights.safetensors'), bytes);
    },
    /weights\.safetensors: header is not valid UTF-8 JSON/,
  ],
  [
    'wrong shape',
    (dir) =>
      editWeights(dir, (tensors) => {
        tensors.set('face.aligner', { dtype: 'F32', shape: [7], data: new Float32Array(7) });
      }),
    /weights\.safetensors: tensor "face\.aligner" has shape \[7\], the model config needs \[1344\]/,
  ],
  [
    'missing tensor',
    (dir) =>
      editWeights(dir, (tensors) => {
        tensors.delete('mouth.hookScaler');
      }),
    /weights\.safetensors: missing tensors: mouth\.hookScaler/,
  ],
  [
    'unexpected tensor',
    (dir) =>
      editWeights(dir, (tensors) => {
        tensors.set('face.extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
      }),
    /weights\.safetensors: unexpected tensors: face\.extra/,
  ],
  [
    'NaN in a weight',
    (dir) =>
      editWeights(dir, (tensors) => {
        (tensors.get('face.opacity')?.data as Float32Array)[17] = Number.NaN;
      }),
    /weights\.safetensors: tensor "face\.opacity" has a non-finite value at element 17/,
  ],
  [
    'NaN in pose (JSON writes it as null)',
    (dir) =>
      editManifest(dir, (m) => {
        m.tracks.pose[3][5] = Number.NaN;
      }),
    /identity\.json: tracks\.pose\.3\.5: .*expected number/i,
  ],
  [
    'NaN in pose written as a bare token',
    async (dir) => {
      const text = await readFile(file(dir, 'identity.json'), 'utf8');
      await writeFile(file(dir, 'identity.json'), text.replace(/"pose": \[\n\s*\[[^,]+/, '"pose": [[NaN'));
    },
    /identity\.json: not valid UTF-8 JSON/,
  ],
  [
    'pose that is not rigid',
    (dir) =>
      editManifest(dir, (m) => {
        m.tracks.pose[2][0] = 2;
      }),
    /identity\.json: tracks\.pose\.2: rotation part is not orthonormal/,
  ],
  [
    'plateIndex out of range',
    (dir) =>
      editManifest(dir, (m) => {
        m.tracks.plateIndex[4] = 1;
      }),
    /identity\.json: tracks\.plateIndex\.4 is 1, out of range for 1 plates/,
  ],
  [
    'track lengths differ',
    (dir) =>
      editManifest(dir, (m) => {
        m.tracks.expression.pop();
      }),
    /identity\.json: tracks\.expression has 9 frames, tracks\.pose has 10/,
  ],
  [
    'expression width differs from the model',
    (dir) =>
      editManifest(dir, (m) => {
        m.tracks.expression[6].push(0);
      }),
    /identity\.json: tracks\.expression\.6 has 7 values, model\.expressionDim is 6/,
  ],
  ['missing weights', (dir) => rm(file(dir, 'weights.safetensors')), /weights\.safetensors: missing file/],
  ['missing plates', (dir) => rm(file(dir, 'plates.bin')), /plates\.bin: missing file/],
  ['missing manifest', (dir) => rm(file(dir, 'identity.json')), /identity\.json: missing file/],
  [
    'wrong formatVersion',
    (dir) =>
      editManifest(dir, (m) => {
        m.formatVersion = 2;
      }),
    /identity\.json: formatVersion 2 is not supported \(this engine reads 1\)/,
  ],
  [
    'unknown manifest key',
    (dir) =>
      editManifest(dir, (m) => {
        m.render.fov = 30;
      }),
    /identity\.json: render: Unrecognized key: "fov"/,
  ],
  [
    'trained identity without a source video',
    (dir) =>
      editManifest(dir, (m) => {
        m.kind = 'trained';
      }),
    /identity\.json: provenance\.source: a trained identity must name the video/,
  ],
  [
    'weights checksum mismatch',
    async (dir) => {
      const bytes = await readFile(file(dir, 'weights.safetensors'));
      bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x10;
      await writeFile(file(dir, 'weights.safetensors'), bytes);
    },
    /weights\.safetensors: checksum mismatch: SHA-256 is [0-9a-f]{64}, identity\.json says/,
  ],
  [
    'plates checksum mismatch',
    (dir) =>
      editManifest(dir, (m) => {
        m.checksums['plates.bin'] = '0'.repeat(64);
      }),
    /plates\.bin: checksum mismatch/,
  ],
  [
    'corrupt plate stream',
    async (dir) => {
      const bytes = await readFile(file(dir, 'plates.bin'));
      bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0xff;
      await writeFile(file(dir, 'plates.bin'), bytes);
    },
    /plates\.bin: plate 0 does not inflate/,
  ],
  [
    'truncated plates',
    async (dir) => {
      const bytes = await readFile(file(dir, 'plates.bin'));
      await writeFile(file(dir, 'plates.bin'), bytes.subarray(0, bytes.length - 10));
    },
    /plates\.bin: plate streams total \d+ bytes but the file has \d+: truncated/,
  ],
];

for (const [name, mutate, error] of rejections)
  t.test(`rejects: ${name}`, async (t) => {
    await t.rejects(loadIdentity(await corrupted(mutate)), error);
  });

t.test('rejects a directory that is not there', async (t) => {
  await t.rejects(loadIdentity(path.join(root, 'nowhere')), /nowhere: no identity package here \(ENOENT\)/);
});

t.test('save validates before writing and leaves nothing behind', async (t) => {
  const weights = { ...fixture.weights, 'face.xyz': new Float32Array(5) };
  await t.rejects(
    saveIdentity(path.join(root, 'bad-save'), { ...fixture, weights }),
    /weights\.safetensors: tensor "face\.xyz" has 5 values, shape \[2000, 3\] needs 6000/,
  );
  const manifest = { ...fixture.manifest, tracks: { ...fixture.manifest.tracks, plateIndex: new Array(10).fill(3) } };
  await t.rejects(saveIdentity(path.join(root, 'bad-save'), { ...fixture, manifest }), /plateIndex\.0 is 3/);
  const entries = await readdir(root);
  t.notOk(entries.includes('bad-save'));
  t.same(
    entries.filter((n) => n.startsWith('.')),
    [],
  );
});

t.test('errors name the file with its directory', async (t) => {
  const dir = await corrupted((d) => rm(file(d, 'plates.bin')));
  await t.rejects(loadIdentity(dir), { file: path.join(dir, 'plates.bin'), problem: 'missing file' });
});

t.test('a model config the engine cannot build is rejected', async (t) => {
  const dir = await corrupted((d) =>
    editManifest(d, (m) => {
      m.model.face.motionGrid.levels = 100000;
    }),
  );
  await t.rejects(loadIdentity(dir), /identity\.json: model: the engine cannot build this config/);
});
