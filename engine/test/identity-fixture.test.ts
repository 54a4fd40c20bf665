import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { loadIdentity } from '../src/identity/package.js';
import { defaultModelConfig, type ModelConfig } from '../src/model/config.js';

const video = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/media/video/may_5s.mp4');

/** The default model with small hash tables, so the test writes a few MB, not 40. */
function smallModel(): ModelConfig {
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  return model;
}

const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-fixture-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const small = { faceGaussians: 2000, mouthGaussians: 400, frames: 10, model: smallModel() };

t.test('a small fixture loads back unchanged and is labelled', async (t) => {
  const made = await makeFixtureIdentity({ out: path.join(dir, 'a'), seed: 3, ...small });
  const loaded = await loadIdentity(path.join(dir, 'a'));
  t.equal(loaded.manifest.kind, 'fixture');
  t.equal(loaded.manifest.consent.subjectConsent, false);
  t.match(loaded.manifest.consent.statement, /fixture/i);
  t.equal(loaded.tracks.frames, 10);
  t.same(loaded.manifest, made.manifest);
  for (const [name, data] of Object.entries(made.weights))
    t.ok(sameBytes(loaded.weights[name as keyof typeof made.weights], data), name);
  t.ok(sameBytes(loaded.plates[0] as Uint8Array, made.plates[0] as Uint8Array), 'plate');
  t.ok(sameBytes(loaded.tracks.pose, made.tracks.pose), 'pose');
  t.ok(sameBytes(loaded.tracks.expression, made.tracks.expression), 'expression');
});

t.test('deterministic for a seed', async (t) => {
  const [a, b, c] = await Promise.all(
    [5, 5, 6].map((seed, i) => makeFixtureIdentity({ out: path.join(dir, `seed-${i}`), seed, ...small })),
  );
  t.same(a?.manifest.checksums, b?.manifest.checksums);
  t.same(a?.manifest.tracks, b?.manifest.tracks);
  t.not(a?.manifest.checksums['weights.safetensors'], c?.manifest.checksums['weights.safetensors']);
});

t.test('realistic geometry: head-sized face, mouth behind the lips, mm scales, camera about 1 m away', async (t) => {
  const id = await makeFixtureIdentity({ out: path.join(dir, 'geometry'), seed: 9, ...small });
  const xyz = id.weights['face.xyz'];
  let [minY, maxY] = [Infinity, -Infinity];
  for (let i = 1; i < xyz.length; i += 3)
    [minY, maxY] = [Math.min(minY, xyz[i] as number), Math.max(maxY, xyz[i] as number)];
  t.ok(maxY - minY > 0.16 && maxY - minY < 0.2, `face height ${maxY - minY} m`);
  const mouth = id.weights['mouth.xyz'];
  for (let i = 0; i < mouth.length; i += 3) {
    if (!((mouth[i + 2] as number) < -0.05 && Math.abs(mouth[i] as number) < 0.03))
      t.fail(`mouth Gaussian ${i / 3} is not behind the lips`);
  }
  const scale = Array.from(id.weights['face.scale'], (r) => Math.log1p(Math.exp(r)));
  t.ok(Math.min(...scale) >= 0.00099 && Math.max(...scale) <= 0.00301, 'softplus(scale) in 1..3 mm');
  const opacity = Array.from(id.weights['face.opacity'], (r) => 1 / (1 + Math.exp(-r)));
  t.ok(Math.min(...opacity) >= 0.59 && Math.max(...opacity) <= 0.951, 'sigmoid(opacity) in 0.6..0.95');
  for (let f = 0; f < id.tracks.frames; f++) {
    const tz = id.tracks.pose[f * 16 + 11] as number;
    t.ok(tz > 0.88 && tz < 1.02, `frame ${f}: camera ${tz} m from the head`);
  }
});

t.test('blinks appear in the expression track', async (t) => {
  const id = await makeFixtureIdentity({ out: path.join(dir, 'blinks'), seed: 4, ...small, frames: 125 });
  const dim = id.manifest.model.expressionDim;
  const blink = Array.from({ length: 125 }, (_, f) => id.tracks.expression[f * dim + dim - 1] as number);
  t.ok(Math.max(...blink) >= 1.5, 'at least one blink within 5 s');
  t.ok(blink.filter((b) => b === 0).length > 100, 'eyes open most of the time');
});

t.test(
  'plate cut from a real video frame',
  { skip: existsSync(video) ? false : `test video missing: ${video}` },
  async (t) => {
    const id = await makeFixtureIdentity({ out: path.join(dir, 'video'), seed: 1, ...small, plateSource: video });
    const plate = (await loadIdentity(path.join(dir, 'video'))).plates[0] as Uint8Array;
    t.equal(plate.length, 512 * 512 * 3);
    let [lo, hi] = [255, 0];
    for (const v of plate) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    t.ok(hi - lo > 100, `plate is not constant (range ${lo}..${hi})`);
    t.equal(id.manifest.provenance.source?.name, 'may_5s.mp4');
    t.match(id.manifest.provenance.tools, { ffmpeg: /\S/ });
  },
);
