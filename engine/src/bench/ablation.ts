// npm run bench:ablation — the paper's table 5 on our data: for each held-out person, a motion prior pre-trained on
// every other clip (identity-free: the person is never in it), then five identities from the first 5 s of their
// clip, scored on the rest: no prior (the from-scratch baseline), prior, prior + aligner, prior + hook, and the full
// method (prior + aligner + hook + geometry regulariser). Datasets are prepared on first use and kept in --work.
// Prints a table, then the JSON (also written with --json FILE). Interrupted runs resume (pre-training and training
// keep checkpoints; finished identities and scores are reused).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { evaluateIdentity } from '../eval/evaluate.js';
import { defaultModelConfig } from '../model/config.js';
import { prepareDataset } from '../prepare/prepare-dataset.js';
import { probeVideo } from '../prepare/probe.js';
import { loadMotionPrior } from '../train/motion-prior.js';
import { pretrainMotionPrior } from '../train/pretrain.js';
import { ADAPT_SCHEDULE, DEFAULT_SCHEDULE, type ScheduleOptions } from '../train/stages.js';
import { trainIdentity } from '../train/trainer.js';

const { values } = parseArgs({
  options: {
    media: { type: 'string', default: path.resolve('../shared/media/video') },
    held: { type: 'string', default: 'aoc_8s.mp4,german_anchor_20s.mp4' },
    work: { type: 'string', default: 'out/ablation' },
    device: { type: 'string', default: 'auto' },
    size: { type: 'string' },
    'prepare-size': { type: 'string', default: '512' },
    'train-seconds': { type: 'string', default: '5' },
    /** Per-video pre-training iterations: static,face,mouth. */
    'pretrain-iters': { type: 'string' },
    /** Identity schedules: face,static,warmup,mouth,fuse (warm-up applies to the prior variants). */
    'adapt-iters': { type: 'string' },
    variants: { type: 'string', default: 'scratch,prior,prior+aligner,prior+hook,full' },
    json: { type: 'string' },
  },
});
const choice = chooseDevice(values.device as DeviceRequest);
const gpu = choice.device === 'cuda';
const prepareSize = Number(values['prepare-size']);
const size = Number(values.size ?? (gpu ? prepareSize : 128));
const trainSeconds = Number(values['train-seconds']);
const ints = (text: string | undefined, fallback: number[]) => (text ? text.split(',').map(Number) : fallback);
const [pStatic, pFace, pMouth] = ints(
  values['pretrain-iters'],
  gpu ? [1000, 6000, 3000] : [200, 1000, 400],
) as number[];
const [aFace, aStatic, aWarmup, aMouth, aFuse] = ints(
  values['adapt-iters'],
  gpu ? [10000, 500, 3000, 4000, 1000] : [3000, 300, 600, 1000, 300],
) as number[];
const work = path.resolve(values.work);
await mkdir(work, { recursive: true });
const clips = (await readdir(values.media)).filter((f) => f.endsWith('.mp4')).sort();
const held = values.held.split(',');
for (const h of held) if (!clips.includes(h)) throw new Error(`--held ${h}: not in ${values.media}`);

/** Prepared once per clip and split: `pretrain` (the default 10 % test tail) or `heldout` (the first N s train). */
async function dataset(clip: string, split: 'pretrain' | 'heldout'): Promise<string> {
  const out = path.join(work, 'datasets', `${clip.replace(/\.mp4$/, '')}-${split}`);
  if (existsSync(path.join(out, 'dataset.json'))) return out;
  const file = path.join(values.media, clip);
  const { duration } = await probeVideo(file);
  const testFraction = split === 'pretrain' ? 0.1 : Math.max(0.1, 1 - trainSeconds / duration);
  console.error(`preparing ${clip} (${split}, test fraction ${testFraction.toFixed(2)})`);
  await prepareDataset(file, out, { size: prepareSize, testFraction });
  return out;
}

type Variant = 'scratch' | 'prior' | 'prior+aligner' | 'prior+hook' | 'full';
const variants = values.variants.split(',') as Variant[];

interface Row {
  person: string;
  variant: Variant;
  psnr: number;
  psnrFace: number;
  ssimFace: number;
  lmd: number | null;
  trainSeconds: number;
  iterations: number;
  frames: number;
}

const rows: Row[] = [];
const priors: { person: string; videos: string[]; seconds: number; peakDeviceBytes: number | null }[] = [];
for (const person of held) {
  const name = person.replace(/\.mp4$/, '');
  const others = clips.filter((c) => c !== person);
  const priorFile = path.join(work, `prior-without-${name}.safetensors`);
  if (variants.some((v) => v !== 'scratch') && !existsSync(priorFile)) {
    const datasets = [];
    for (const c of others) datasets.push(await dataset(c, 'pretrain'));
    const started = performance.now();
    const result = await pretrainMotionPrior({
      datasets,
      out: priorFile,
      device: choice.device,
      size,
      schedule: {
        staticIterations: pStatic as number,
        faceIterations: pFace as number,
        mouthIterations: pMouth as number,
      },
      onLog: (line) => console.error(`[pretrain -${name}] ${line}`),
    });
    priors.push({
      person,
      videos: others,
      seconds: (performance.now() - started) / 1000,
      peakDeviceBytes: result.peakDeviceBytes,
    });
  }
  const data = await dataset(person, 'heldout');
  for (const variant of variants) {
    const identity = path.join(work, 'identities', `${name}-${variant}`);
    const scoreFile = `${identity}.score.json`;
    if (existsSync(scoreFile)) {
      rows.push(JSON.parse(await readFile(scoreFile, 'utf8')) as Row);
      continue;
    }
    const schedule: Partial<ScheduleOptions> =
      variant === 'scratch'
        ? { ...DEFAULT_SCHEDULE, faceIterations: aFace as number, staticIterations: aStatic as number }
        : {
            ...ADAPT_SCHEDULE,
            faceIterations: aFace as number,
            staticIterations: aStatic as number,
            warmupIterations: aWarmup as number,
            aligner: variant === 'prior+aligner' || variant === 'full',
            geometry: variant === 'full' ? ADAPT_SCHEDULE.geometry : null,
          };
    schedule.mouthIterations = aMouth as number;
    schedule.fuseIterations = aFuse as number;
    const prior = variant === 'scratch' ? undefined : await loadMotionPrior(priorFile);
    const model = structuredClone(prior?.model ?? defaultModelConfig());
    model.mouth.hook = variant === 'scratch' || variant === 'prior+hook' || variant === 'full';
    const trained = await trainIdentity({
      dataset: data,
      out: identity,
      device: choice.device,
      size,
      model,
      ...(prior ? { prior: { ...prior, model } } : {}),
      schedule,
      onLog: (line) => console.error(`[${name} ${variant}] ${line}`),
    });
    const score = await evaluateIdentity({ identity, dataset: data, device: choice.device, video: false });
    const row: Row = {
      person,
      variant,
      psnr: score.psnr,
      psnrFace: score.psnrFace,
      ssimFace: score.ssimFace,
      lmd: score.lmd,
      trainSeconds: trained.seconds,
      iterations: trained.iterations,
      frames: score.frames,
    };
    await writeFile(scoreFile, `${JSON.stringify(row)}\n`);
    rows.push(row);
  }
}

const f = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
console.log('| person | variant | PSNR | PSNR face | SSIM face | LMD (px) | training s | iterations |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.person} | ${r.variant} | ${f(r.psnr, 2)} | ${f(r.psnrFace, 2)} | ${f(r.ssimFace, 3)} | ${f(r.lmd, 2)} | ${f(r.trainSeconds, 1)} | ${r.iterations} |`,
  );
const report = {
  device: choice.device,
  reason: choice.reason,
  date: new Date().toISOString(),
  size,
  prepareSize,
  trainSeconds,
  pretrainIterations: { static: pStatic, face: pFace, mouth: pMouth },
  adaptIterations: { face: aFace, static: aStatic, warmup: aWarmup, mouth: aMouth, fuse: aFuse },
  priors,
  rows,
};
console.log(JSON.stringify(report, null, 2));
if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
