// Adaptation's geometry regulariser: the mesh prior puts the canonical face where the camera sees it, and the
// training graph's backward includes the regulariser's gradient (finite differences through the whole graph).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { defaultModelConfig } from '../src/model/config.js';
import { loadCanonicalFace } from '../src/prepare/canonical-face.js';
import { Tensor } from '../src/tensor.js';
import { fixtureFrame } from '../src/testing/fixture-frame.js';
import { derivativeAlong } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';
import { DSSIM_LAMBDA, FrameGraph, type GraphPlan } from '../src/train/frame-graph.js';
import { renderMeshPrior } from '../src/train/geometry-prior.js';
import { ModelParams } from '../src/train/model-params.js';

t.test('mesh prior: the posed canonical face, depth and normals facing the camera', async (t) => {
  const face = await loadCanonicalFace();
  t.ok(face.triangles.length >= 3 * 800, `${face.triangles.length / 3} triangles`);
  const size = 128;
  const intrinsics = { fx: 300, fy: 300, cx: 64, cy: 64 };
  // The head 0.6 m in front of the camera, turned 20 degrees about y.
  const a = (20 * Math.PI) / 180;
  const pose = [Math.cos(a), 0, Math.sin(a), 0, 0, 1, 0, 0, -Math.sin(a), 0, Math.cos(a), 0.6, 0, 0, 0, 1];
  const V = face.vertices.length / 3;
  const landmarks = new Float32Array(478 * 2);
  const depths: number[] = [];
  for (let i = 0; i < V; i++) {
    const [x, y, z] = [0, 1, 2].map((k) => face.vertices[3 * i + k] as number) as [number, number, number];
    const c = [0, 1, 2].map(
      (r) =>
        (pose[4 * r] as number) * x +
        (pose[4 * r + 1] as number) * y +
        (pose[4 * r + 2] as number) * z +
        (pose[4 * r + 3] as number),
    ) as [number, number, number];
    landmarks[2 * i] = (intrinsics.fx * c[0]) / c[2] + intrinsics.cx;
    landmarks[2 * i + 1] = (intrinsics.fy * c[1]) / c[2] + intrinsics.cy;
    depths.push(c[2]);
  }
  const prior = renderMeshPrior({
    landmarks,
    pose,
    vertices: face.vertices,
    triangles: face.triangles,
    intrinsics,
    size,
  });
  let covered = 0;
  let facing = 0;
  let nonUnit = 0;
  for (let p = 0; p < size * size; p++) {
    if (!((prior[4 * p + 3] as number) > 0)) continue;
    covered++;
    if ((prior[4 * p + 2] as number) < 0) facing++;
    if (Math.abs(Math.hypot(prior[4 * p] as number, prior[4 * p + 1] as number, prior[4 * p + 2] as number) - 1) > 1e-4)
      nonUnit++;
  }
  t.equal(nonUnit, 0, 'unit normals');
  // The canonical face (about 15 x 20 cm) 0.6 m away at f = 300: about 75 x 100 pixels, less its rounded outline.
  t.ok(covered > 4000 && covered < 8000, `${covered} pixels covered`);
  t.ok(facing / covered > 0.97, `${((100 * facing) / covered).toFixed(1)} % of normals face the camera`);
  // At the nose tip (vertex 1) the prior's depth is the vertex's, and it is the nearest point of the face.
  const [u, v] = [Math.floor(landmarks[2] as number), Math.floor(landmarks[3] as number)];
  const nose = prior[4 * (v * size + u) + 3] as number;
  t.ok(
    Math.abs(nose - (depths[1] as number)) < 0.005,
    `nose depth ${nose.toFixed(4)} vs vertex ${depths[1]?.toFixed(4)}`,
  );
  t.ok(nose < Math.max(...depths), 'nearer than the back of the mesh');
});

t.test('the training backward includes the geometry regulariser', async (t) => {
  const SIZE = 48;
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-geometry-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const identity = await makeFixtureIdentity({
    out: path.join(dir, 'id'),
    seed: 3,
    faceGaussians: 600,
    mouthGaussians: 200,
    frames: 4,
    model,
  });
  const random = rng(31);
  const frame = fixtureFrame(identity, 'cpu', SIZE, 1, uniform(random, SIZE * SIZE * 3, 0, 1), 9);
  // A prior everywhere: a slanted plane's depth and a fixed normal, unlike the fixture's blob of Gaussians.
  const prior = new Float32Array(SIZE * SIZE * 4);
  for (let p = 0; p < SIZE * SIZE; p++) prior.set([0.3, -0.2, -0.93, 0.5 + 0.002 * (p % SIZE)], 4 * p);
  frame.geometry = Tensor.from('cpu', 'f32', [1, SIZE, SIZE, 4], prior);
  const P = new ModelParams('cpu', identity.manifest.model, identity.weights, identity.manifest.gaussians);
  const graph = new FrameGraph('cpu', identity.manifest.model, SIZE);
  t.teardown(() => {
    P.dispose();
    graph.dispose();
    frame.geometry?.dispose();
  });
  const plan: GraphPlan = {
    faceMotion: true,
    mouth: false,
    aligner: false,
    face: 'all',
    mouthTraining: 'none',
    audio: false,
    faceTarget: true,
    geometry: { weightDepth: 0.5, weightNormal: 0.5 },
  };
  let terms = [0, 0];
  const loss = (geometry = true) => {
    P.zeroGrad();
    graph.forward(P, frame, geometry ? plan : { ...plan, geometry: null }, true);
    const out = graph.backward(P, { face: null, mouth: null });
    terms = out.geometry ? [...out.geometry.read()] : [0, 0];
    return (
      (1 - DSSIM_LAMBDA) * (out.l1.read()[0] as number) +
      DSSIM_LAMBDA * (out.dssim.read()[0] as number) +
      terms.reduce((a, b) => a + b, 0)
    );
  };
  loss(false);
  const without = P.grad('face.xyz').read();
  const L0 = loss();
  t.ok(
    (terms[0] as number) > 0 && (terms[1] as number) > 0,
    `depth ${terms[0]?.toFixed(4)}, normal ${terms[1]?.toFixed(4)}`,
  );
  const grad = P.grad('face.xyz').read();
  t.ok(
    grad.some((v, i) => Math.abs(v - (without[i] as number)) > 1e-6),
    'the regulariser changes the Gaussians’ gradient',
  );
  for (const [name, relative] of [
    ['face.xyz', 1e-3],
    ['face.scale', 1e-3],
    ['face.opacity', 1e-3],
  ] as const) {
    loss();
    const { norm, numeric, error } = derivativeAlong(loss, P.value(name), P.grad(name).read(), relative, L0);
    t.ok(error < 0.05, `${name}: |gradient| ${norm.toExponential(4)}, finite difference ${numeric.toExponential(4)}`);
  }
});
