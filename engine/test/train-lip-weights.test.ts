// The lips' extra loss weight: the map covers the lips (padded) and nothing else, its edges follow the landmarks
// smoothly, and the training graph's loss and gradient take it (weights of 2 everywhere double the L1; weights on
// the lips add to it and change the gradients).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { defaultModelConfig } from '../src/model/config.js';
import { LANDMARKS, OUTER_LIPS } from '../src/prepare/landmarks.js';
import { Tensor } from '../src/tensor.js';
import { fixtureFrame } from '../src/testing/fixture-frame.js';
import { rng, uniform } from '../src/testing/random.js';
import { FrameGraph, type GraphPlan } from '../src/train/frame-graph.js';
import { lipWeightMap } from '../src/train/lip-weights.js';
import { ModelParams } from '../src/train/model-params.js';

/** Landmarks with the outer lips on an ellipse centred at (cx, cy), half-width a, half-height b; the rest far away. */
function lips(cx: number, cy: number, a: number, b: number): Float32Array {
  const out = new Float32Array(LANDMARKS * 2).fill(-1000);
  OUTER_LIPS.forEach((i, k) => {
    const angle = (2 * Math.PI * k) / OUTER_LIPS.length;
    out[2 * i] = cx + a * Math.cos(angle);
    out[2 * i + 1] = cy + b * Math.sin(angle);
  });
  return out;
}

t.test('the weight map: 1 + w over the padded lips, 1 elsewhere', async (t) => {
  const size = 64;
  // Lips 20 px wide (x 22..42), 8 px tall (y 36..44): padded by 5 px, the box is x 17..47, y 31..49.
  const map = lipWeightMap(lips(32, 40, 10, 4), size, 3);
  t.equal(map.length, size * size);
  const at = (x: number, y: number) => map[y * size + x] as number;
  t.equal(at(32, 40), 4, 'inside: 1 + w');
  t.equal(at(18, 32), 4, 'inside the padding');
  t.equal(at(5, 5), 1, 'far away: 1');
  t.equal(at(16, 40), 1, 'left of the box');
  t.equal(at(47, 40), 1, 'right of the box');
  t.equal(at(32, 49), 1, 'below the box');
  let extra = 0;
  for (const v of map) extra += v - 1;
  t.ok(Math.abs(extra - 3 * 30 * 18) < 1e-3, `the extra weight sums to w times the box's area (${extra})`);
  t.same(lipWeightMap(lips(32, 40, 10, 4), size, 0), new Float32Array(size * size).fill(1), 'w = 0: all ones');
  t.throws(() => lipWeightMap(lips(32, 40, 10, 4), size, -1), /lip weight must be >= 0/);
  t.throws(() => lipWeightMap(lips(32, 40, 10, 4), size, Number.NaN), /lip weight must be >= 0/);
});

t.test('fractional edges move the weight smoothly; a box past the border is clipped', async (t) => {
  const size = 64;
  const shifted = lipWeightMap(lips(32.5, 40, 10, 4), size, 2);
  const row = (map: Float32Array, y: number) => Array.from(map.subarray(y * size, (y + 1) * size));
  const r = row(shifted, 40);
  t.equal(r[17], 1 + 2 * 0.5, 'left edge pixel half covered');
  t.equal(r[47], 1 + 2 * 0.5, 'right edge pixel half covered');
  const corner = lipWeightMap(lips(2, 62, 10, 4), size, 2);
  t.equal(corner[63 * size + 0], 3, 'clipped at the image corner, still weighted inside');
  t.equal(corner.length, size * size);
});

t.test("the training loss takes the frame's weights", async (t) => {
  const SIZE = 32;
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-lip-weights-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const identity = await makeFixtureIdentity({
    out: path.join(dir, 'id'),
    seed: 5,
    faceGaussians: 300,
    mouthGaussians: 100,
    frames: 2,
    model,
  });
  const target = uniform(rng(3), SIZE * SIZE * 3, 0, 1);
  const frame = fixtureFrame(identity, 'cpu', SIZE, 1, target, 4);
  const P = new ModelParams('cpu', identity.manifest.model, identity.weights, identity.manifest.gaussians);
  const graph = new FrameGraph('cpu', identity.manifest.model, SIZE);
  const plan: GraphPlan = {
    faceMotion: false,
    mouth: false,
    aligner: false,
    face: 'all',
    mouthTraining: 'none',
    audio: false,
    faceTarget: false,
  };
  const run = (weights: Float32Array | null) => {
    frame.lossWeight = weights && Tensor.from('cpu', 'f32', [1, SIZE, SIZE], weights);
    P.zeroGrad();
    graph.forward(P, frame, plan, true);
    const { l1 } = graph.backward(P, { face: null, mouth: null });
    const out = { l1: l1.read()[0] as number, sh: P.grad('face.sh').read() };
    frame.lossWeight?.dispose();
    return out;
  };
  t.teardown(() => {
    P.dispose();
    graph.dispose();
  });
  const plain = run(null);
  const doubled = run(new Float32Array(SIZE * SIZE).fill(2));
  t.ok(Math.abs(doubled.l1 / plain.l1 - 2) < 1e-5, `weights of 2 double the L1 (${doubled.l1} / ${plain.l1})`);
  const weighted = run(lipWeightMap(lips(16, 20, 6, 3), SIZE, 4));
  t.ok(weighted.l1 > plain.l1, `weighted L1 ${weighted.l1} > plain ${plain.l1}`);
  t.ok(weighted.l1 < 5 * plain.l1, 'but at most 1 + w times it');
  t.notSame(weighted.sh, plain.sh, 'the colour gradients change');
});
