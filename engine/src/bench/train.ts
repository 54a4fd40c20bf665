// npm run bench:train — training step throughput per stage (forward, loss, backward through every op, AdamW update)
// on a fixture identity of trained size (40,000 face + 8,000 mouth Gaussians by default) against a random target.
// Density control and progress read-backs (every 100 and 20 steps in a real run) are not in these numbers; the
// real runs' wall times are in docs/quality.md. Prints a table, then the JSON (also written with --json FILE).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { makeFixtureIdentity } from '../identity/fixture.js';
import { addon } from '../native/addon.js';
import { fixtureFrame } from '../testing/fixture-frame.js';
import { rng, uniform } from '../testing/random.js';
import { Adam } from '../train/adam.js';
import { FrameGraph } from '../train/frame-graph.js';
import { ModelParams } from '../train/model-params.js';
import { DEFAULT_SCHEDULE, trainingStages } from '../train/stages.js';
import { median } from './sampling.js';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'auto' },
    size: { type: 'string' },
    face: { type: 'string', default: '40000' },
    mouth: { type: 'string', default: '8000' },
    iterations: { type: 'string' },
    json: { type: 'string' },
  },
});
const choice = chooseDevice(values.device as DeviceRequest);
const gpu = choice.device === 'cuda';
const size = Number(values.size ?? (gpu ? 512 : 128));
const iterations = Number(values.iterations ?? (gpu ? 200 : 10));
const tmp = await mkdtemp(path.join(os.tmpdir(), 'splatcast-bench-train-'));
try {
  const identity = await makeFixtureIdentity({
    out: path.join(tmp, 'id'),
    faceGaussians: Number(values.face),
    mouthGaussians: Number(values.mouth),
    frames: 8,
    seed: 5,
  });
  const m = identity.manifest;
  const frames = [0, 1, 2, 3].map((t) =>
    fixtureFrame(identity, choice.device, size, t, uniform(rng(t), size * size * 3, 0, 1), t),
  );
  const stages = trainingStages(DEFAULT_SCHEDULE);
  const rows = [];
  for (const stage of stages) {
    const P = new ModelParams(choice.device, m.model, identity.weights, m.gaussians);
    const graph = new FrameGraph(choice.device, m.model, size);
    const adam = new Adam(
      stage.groups.map((g) => ({
        name: g.name,
        params: P.value(g.name),
        grads: P.grad(g.name),
        lr: g.lr,
        weightDecay: g.weightDecay,
      })),
      { eps: 1e-15 },
    );
    const names = stage.groups.map((g) => g.name);
    const step = (i: number) => {
      P.zeroGrad(names);
      graph.forward(P, frames[i % frames.length] as (typeof frames)[number], stage.plan, true);
      graph.backward(P, { face: null, mouth: null });
      adam.update();
    };
    for (let i = 0; i < 5; i++) step(i);
    if (gpu) addon.synchronize();
    // Batches of 10 steps, synchronised at each end: the median batch time per step is robust to stray stalls.
    const times: number[] = [];
    for (let i = 0; i < iterations; i += 10) {
      const start = performance.now();
      for (let k = 0; k < 10; k++) step(i + k);
      if (gpu) addon.synchronize();
      times.push((performance.now() - start) / 10);
    }
    const ms = median(times);
    rows.push({ stage: stage.name, msPerIteration: round(ms), iterationsPerSecond: round(1000 / ms) });
    adam.dispose();
    graph.dispose();
    P.dispose();
  }
  for (const f of frames)
    for (const tensor of [f.target, f.faceTarget, f.plate, f.camera, f.expression, f.windows]) tensor.dispose();
  const face = rows.find((r) => r.stage === 'face');
  const result = {
    benchmark: 'train',
    date: new Date().toISOString(),
    device: choice.device,
    deviceName: gpu ? choice.cuda.name : `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
    resolution: `${size}x${size}`,
    gaussians: m.gaussians,
    iterations,
    stages: rows,
    secondsFor10kFaceIterations: face ? round(face.msPerIteration * 10) : null,
  };
  console.log(
    `train benchmark on ${result.deviceName}: ${result.resolution}, ${m.gaussians.face} face + ${m.gaussians.mouth} mouth Gaussians`,
  );
  console.log('\nstage        ms/iteration  iterations/s');
  for (const r of rows)
    console.log(
      `  ${r.stage.padEnd(11)} ${r.msPerIteration.toFixed(3).padStart(10)}  ${r.iterationsPerSecond.toFixed(1).padStart(10)}`,
    );
  console.log(`\n10k face iterations: ${result.secondsFor10kFaceIterations} s\n`);
  console.log(JSON.stringify(result, null, 2));
  if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
