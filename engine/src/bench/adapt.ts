// npm run bench:adapt — what a customer waits for: a new identity from a few seconds of video, end to end. Prepares
// the clip (tracking, masks, plates, audio features) and adapts a motion prior to it, and reports every stage's wall
// time against the 3-minute target. Prints a table, then the JSON (also written with --json FILE).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { prepareDataset } from '../prepare/prepare-dataset.js';
import { loadMotionPrior } from '../train/motion-prior.js';
import { ADAPT_SCHEDULE, type ScheduleOptions } from '../train/stages.js';
import { trainIdentity } from '../train/trainer.js';

const TARGET_SECONDS = 180;

const { values } = parseArgs({
  options: {
    clip: { type: 'string', default: path.resolve('../shared/media/video/aoc_8s.mp4') },
    prior: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    device: { type: 'string', default: 'auto' },
    size: { type: 'string' },
    'prepare-size': { type: 'string', default: '512' },
    /** Identity schedule: face,static,warmup,mouth,fuse (default ADAPT_SCHEDULE's). */
    'adapt-iters': { type: 'string' },
    json: { type: 'string' },
  },
});
if (!values.prior) {
  console.error(
    'usage: npm run bench:adapt -- --prior PRIOR.safetensors [--clip VIDEO] [--seconds 5] [--device auto|cpu|cuda]\n' +
      '                           [--size N] [--prepare-size 512] [--adapt-iters face,static,warmup,mouth,fuse] [--json F]',
  );
  process.exit(2);
}
const choice = chooseDevice(values.device as DeviceRequest);
const prepareSize = Number(values['prepare-size']);
const size = Number(values.size ?? (choice.device === 'cuda' ? prepareSize : 128));
const d = ADAPT_SCHEDULE;
const [face, stat, warmup, mouth, fuse] = values['adapt-iters']
  ? values['adapt-iters'].split(',').map(Number)
  : [d.faceIterations, d.staticIterations, d.warmupIterations, d.mouthIterations, d.fuseIterations];
const schedule: Partial<ScheduleOptions> = {
  faceIterations: face as number,
  staticIterations: stat as number,
  warmupIterations: warmup as number,
  mouthIterations: mouth as number,
  fuseIterations: fuse as number,
};

const work = await mkdtemp(path.join(os.tmpdir(), 'splatcast-bench-adapt-'));
try {
  const began = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;
  const prepared = await prepareDataset(values.clip, path.join(work, 'dataset'), {
    size: prepareSize,
    limits: { maxSeconds: Number(values.seconds) },
  });
  const prepareSeconds = since(began);
  const loadBegan = performance.now();
  const prior = await loadMotionPrior(values.prior);
  const priorSeconds = since(loadBegan);
  const trainBegan = performance.now();
  const trained = await trainIdentity({
    dataset: path.join(work, 'dataset'),
    out: path.join(work, 'identity'),
    device: choice.device,
    size,
    prior,
    schedule,
    onLog: (line) => console.error(line),
  });
  const adaptSeconds = since(trainBegan);
  const total = since(began);
  const stages = [
    ...Object.entries(prepared.timings).map(([name, seconds]) => ({ step: `prepare: ${name}`, seconds })),
    { step: 'prepare (wall)', seconds: prepareSeconds },
    { step: 'load the prior', seconds: priorSeconds },
    ...trained.stages.map((s) => ({ step: `adapt: ${s.name} (${s.iterations} it)`, seconds: s.seconds })),
    { step: 'adapt (wall: data upload, stages, export)', seconds: adaptSeconds },
  ];
  console.log('| step | seconds |');
  console.log('|---|---|');
  for (const s of stages) console.log(`| ${s.step} | ${s.seconds.toFixed(1)} |`);
  console.log(`| **end to end** | **${total.toFixed(1)}** (target ≤ ${TARGET_SECONDS}) |`);
  const report = {
    device: choice.device,
    reason: choice.reason,
    date: new Date().toISOString(),
    clip: path.basename(values.clip),
    seconds: Number(values.seconds),
    frames: prepared.manifest.frameCount,
    prepareSize,
    size,
    schedule,
    priorVideos: prior.provenance.datasets.map((v) => v.name),
    stages,
    iterations: trained.iterations,
    gaussians: trained.gaussians,
    peakDeviceBytes: trained.peakDeviceBytes,
    totalSeconds: total,
    targetSeconds: TARGET_SECONDS,
  };
  console.log(JSON.stringify(report, null, 2));
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
