import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { expectedTensorShapes, type IdentityWeights, TENSOR_NAMES } from '../src/identity/tensors.js';
import { defaultModelConfig } from '../src/model/config.js';
import { rng, uniform } from '../src/testing/random.js';
import { type Checkpoint, loadLatestCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';

const model = defaultModelConfig();
for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
  grid.log2Table = 8;
const gaussians = { face: 30, mouth: 10 };
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-ckpt-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

function checkpoint(done: number, seed: number): Checkpoint {
  const random = rng(seed);
  const shapes = expectedTensorShapes(model, gaussians);
  const weights = Object.fromEntries(
    TENSOR_NAMES.map((n) => [
      n,
      uniform(
        random,
        shapes[n].reduce((a, b) => a * b, 1),
      ),
    ]),
  ) as IdentityWeights;
  return {
    state: { fingerprint: 'run-a', stage: 1, iteration: done, done, gaussians, adamStep: done, seconds: 1.5 },
    weights,
    moments: { 'face.xyz': { m: uniform(random, 90), v: uniform(random, 90, 0, 1) } },
    stats: { accum: uniform(random, 30), count: uniform(random, 30), maxRadii: uniform(random, 30) },
  };
}

t.test('the newest checkpoint of the run comes back exactly; only two are kept', async (t) => {
  for (const done of [100, 200, 300]) await saveCheckpoint(dir, model, checkpoint(done, done));
  t.same((await readdir(dir)).sort(), ['checkpoint-000000200', 'checkpoint-000000300']);
  const c = await loadLatestCheckpoint(dir, model, 'run-a');
  const want = checkpoint(300, 300);
  t.same(c?.state, want.state);
  t.same(Array.from(c?.weights['face.decoder'] ?? []), Array.from(want.weights['face.decoder']));
  t.same(Array.from(c?.moments['face.xyz']?.v ?? []), Array.from(want.moments['face.xyz']?.v ?? []));
  t.same(Array.from(c?.stats?.maxRadii ?? []), Array.from(want.stats?.maxRadii ?? []));
});

t.test('a damaged newest checkpoint falls back to the one before; another run is not resumed', async (t) => {
  await truncate(path.join(dir, 'checkpoint-000000300', 'tensors.safetensors'), 1000);
  const skipped: string[] = [];
  const c = await loadLatestCheckpoint(dir, model, 'run-a', (name, why) => skipped.push(`${name}: ${why}`));
  t.equal(c?.state.done, 200);
  t.match(skipped[0], /^checkpoint-000000300: /);
  await writeFile(path.join(dir, 'checkpoint-000000200', 'state.json'), '{ not json');
  t.equal(await loadLatestCheckpoint(dir, model, 'run-a'), null, 'nothing usable left');
  await saveCheckpoint(dir, model, checkpoint(400, 4));
  const why: string[] = [];
  t.equal(await loadLatestCheckpoint(dir, model, 'run-b', (_, reason) => why.push(reason)), null);
  t.match(why[0], /another run/);
  t.equal(await loadLatestCheckpoint(path.join(dir, 'nowhere'), model, 'run-a'), null, 'no directory: fresh start');
});
