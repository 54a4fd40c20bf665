// npm run bench:ablation — the paper's table 5 on our data: for each held-out person, a motion prior pre-trained on
// every other clip (identity-free: the person is never in it), then five identities from the first 5 s of their
// clip, scored on the rest: no prior (the from-scratch baseline), prior, prior + aligner, prior + hook, and the full
// method (prior + aligner + hook + geometry regulariser), and the full method without its warm-up. With --seeds, each
// identity is trained once per seed; every variant is then compared with the baseline of the same seed frame by
// frame (paired.ts). Datasets are prepared on first use and kept in --work. Prints the tables, then the JSON (also
// written with --json FILE). Interrupted runs resume (pre-training and training keep checkpoints; finished
// identities and scores are reused). --train-only pre-trains and trains without scoring (on a GPU machine that lacks
// the landmark model, say); a later run without it scores what was trained and keeps the training's times.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseDevice, type DeviceRequest } from '../device.js';
import { evaluateIdentity, type FrameScore } from '../eval/evaluate.js';
import { defaultModelConfig } from '../model/config.js';
import { readDatasetManifest } from '../prepare/dataset-manifest.js';
import { prepareDataset, splitByTime } from '../prepare/prepare-dataset.js';
import { probeVideo } from '../prepare/probe.js';
import { loadMotionPrior } from '../train/motion-prior.js';
import { pretrainMotionPrior } from '../train/pretrain.js';
import { ADAPT_SCHEDULE, DEFAULT_SCHEDULE, type ScheduleOptions } from '../train/stages.js';
import { trainIdentity } from '../train/trainer.js';
import { type PairedDifference, pairedDifference } from './paired.js';

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
    variants: { type: 'string', default: 'scratch,prior,prior+aligner,prior+hook,full,full-no-warmup' },
    seeds: { type: 'string', default: '1' },
    json: { type: 'string' },
    'train-only': { type: 'boolean', default: false },
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

/**
 * Prepared once per clip and split: `pretrain` (the default 10 % test tail) or `heldout` (the first N s train). The
 * two differ only in the manifest's split, so a held-out split is made from a prepared pre-training one when there
 * is one: its manifest with the split redrawn, beside links to the same images.
 */
async function dataset(clip: string, split: 'pretrain' | 'heldout'): Promise<string> {
  const name = clip.replace(/\.mp4$/, '');
  const out = path.join(work, 'datasets', `${name}-${split}`);
  if (existsSync(path.join(out, 'dataset.json'))) return out;
  const heldoutFraction = (duration: number) => Math.max(0.1, 1 - trainSeconds / duration);
  const prepared = path.join(work, 'datasets', `${name}-pretrain`);
  if (split === 'heldout' && existsSync(path.join(prepared, 'dataset.json'))) {
    const manifest = await readDatasetManifest(prepared);
    manifest.split = splitByTime(manifest.frameCount, heldoutFraction(manifest.source.duration));
    await mkdir(out, { recursive: true });
    for (const entry of await readdir(prepared))
      if (entry !== 'dataset.json' && !existsSync(path.join(out, entry)))
        await symlink(path.join('..', `${name}-pretrain`, entry), path.join(out, entry));
    await writeFile(path.join(out, 'dataset.json'), `${JSON.stringify(manifest)}\n`);
    return out;
  }
  const file = path.join(values.media, clip);
  const { duration } = await probeVideo(file);
  const testFraction = split === 'pretrain' ? 0.1 : heldoutFraction(duration);
  console.error(`preparing ${clip} (${split}, test fraction ${testFraction.toFixed(2)})`);
  await prepareDataset(file, out, { size: prepareSize, testFraction });
  return out;
}

const VARIANTS = ['scratch', 'prior', 'prior+aligner', 'prior+hook', 'full', 'full-no-warmup'] as const;
type Variant = (typeof VARIANTS)[number];
const variants = values.variants.split(',') as Variant[];
for (const v of variants)
  if (!VARIANTS.includes(v)) throw new Error(`--variants: unknown "${v}" (${VARIANTS.join(', ')})`);
const seeds = values.seeds.split(',').map(Number);
for (const seed of seeds) if (!Number.isInteger(seed) || seed < 1) throw new Error(`--seeds: "${values.seeds}"`);

interface Row {
  person: string;
  variant: Variant;
  seed: number;
  psnr: number;
  psnrFace: number;
  ssimFace: number;
  lmd: number | null;
  trainSeconds: number;
  iterations: number;
  /** Where it was trained (the scoring run may be elsewhere) and the training's peak device memory. */
  trainDevice: string;
  trainPeakBytes: number | null;
  frames: number;
  /** Mean mouth opening rendered / real, and their correlation through time (evaluate.ts). */
  openingRatio: number | null;
  openingCorrelation: number | null;
  /** The same correlation with the head held still: what the speech, not the nodding, moves (evaluate.ts). */
  stillOpeningCorrelation: number | null;
  /** Per held-out frame, in order: what the paired comparison reads. */
  perFrame: { psnr: number; lmd: number | null; opening: FrameScore['mouthOpening'] }[];
}

/** Each variant against the baseline of the same person and seed, frame by frame. */
interface Paired {
  person: string;
  variant: Variant;
  seeds: number[];
  /** Pooled over the seeds' frames: the frames' noise, not the spread between training runs (perSeed shows it). */
  psnr: PairedDifference;
  lmd: PairedDifference;
  perSeed: { seed: number; psnr: number; lmd: number }[];
}

const rows: Row[] = [];
interface PriorRun {
  person: string;
  videos: string[];
  seconds: number;
  peakDeviceBytes: number | null;
  device: string;
}
const priors: PriorRun[] = [];
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
    const run: PriorRun = {
      person,
      videos: others,
      seconds: (performance.now() - started) / 1000,
      peakDeviceBytes: result.peakDeviceBytes,
      device: choice.device,
    };
    await writeFile(`${priorFile}.run.json`, `${JSON.stringify(run)}\n`);
  }
  // The pre-training's own record, also when it ran in an earlier invocation.
  if (existsSync(`${priorFile}.run.json`)) priors.push(JSON.parse(await readFile(`${priorFile}.run.json`, 'utf8')));
  const data = await dataset(person, 'heldout');
  for (const seed of seeds)
    for (const variant of variants) {
      const identity = path.join(work, 'identities', `${name}-${variant}${seed === 1 ? '' : `-seed${seed}`}`);
      const scoreFile = `${identity}.score.json`;
      const kept = existsSync(scoreFile) ? (JSON.parse(await readFile(scoreFile, 'utf8')) as Partial<Row>) : null;
      let trained =
        kept?.trainSeconds !== undefined
          ? {
              seconds: kept.trainSeconds,
              iterations: kept.iterations,
              device: kept.trainDevice ?? choice.device,
              peakBytes: kept.trainPeakBytes ?? null,
            }
          : null;
      if (kept?.stillOpeningCorrelation !== undefined) {
        rows.push({ ...kept, seed } as Row);
        continue;
      }
      if (!trained) {
        const result = await trainIdentity({
          dataset: data,
          out: identity,
          device: choice.device,
          size,
          seed,
          ...(await variantSetup(variant, priorFile)),
          onLog: (line) => console.error(`[${name} ${variant} seed ${seed}] ${line}`),
        });
        trained = {
          seconds: result.seconds,
          iterations: result.iterations,
          device: choice.device,
          peakBytes: result.peakDeviceBytes,
        };
      }
      if (values['train-only']) {
        const { seconds, iterations, device, peakBytes } = trained;
        const record = { trainSeconds: seconds, iterations, trainDevice: device, trainPeakBytes: peakBytes };
        await writeFile(scoreFile, `${JSON.stringify(record)}\n`);
        continue;
      }
      // A score from before the pose-frozen opening was kept is re-scored from its identity, not retrained.
      const score = await evaluateIdentity({ identity, dataset: data, device: choice.device, video: false });
      const row: Row = {
        person,
        variant,
        seed,
        psnr: score.psnr,
        psnrFace: score.psnrFace,
        ssimFace: score.ssimFace,
        lmd: score.lmd,
        trainSeconds: trained.seconds,
        iterations: trained.iterations ?? 0,
        trainDevice: trained.device,
        trainPeakBytes: trained.peakBytes,
        frames: score.frames,
        openingRatio: score.mouthOpening ? score.mouthOpening.rendered / score.mouthOpening.real : null,
        openingCorrelation: score.mouthOpening?.correlation ?? null,
        stillOpeningCorrelation: score.mouthOpening?.poseFrozen?.correlation ?? null,
        perFrame: score.perFrame.map((p) => ({ psnr: p.psnr, lmd: p.lmd, opening: p.mouthOpening })),
      };
      await writeFile(scoreFile, `${JSON.stringify(row)}\n`);
      rows.push(row);
    }
}

/** The schedule, model and prior of one variant. */
async function variantSetup(variant: Variant, priorFile: string) {
  const withPrior = variant !== 'scratch';
  const schedule: Partial<ScheduleOptions> = withPrior
    ? {
        ...ADAPT_SCHEDULE,
        faceIterations: aFace as number,
        staticIterations: aStatic as number,
        warmupIterations: variant === 'full-no-warmup' ? 0 : (aWarmup as number),
        aligner: variant === 'prior+aligner' || variant.startsWith('full'),
        geometry: variant.startsWith('full') ? ADAPT_SCHEDULE.geometry : null,
      }
    : { ...DEFAULT_SCHEDULE, faceIterations: aFace as number, staticIterations: aStatic as number };
  schedule.mouthIterations = aMouth as number;
  schedule.fuseIterations = aFuse as number;
  const prior = withPrior ? await loadMotionPrior(priorFile) : undefined;
  const model = structuredClone(prior?.model ?? defaultModelConfig());
  model.mouth.hook = variant === 'scratch' || variant === 'prior+hook' || variant.startsWith('full');
  return { schedule, model, ...(prior ? { prior: { ...prior, model } } : {}) };
}

/** Every variant's per-frame scores against the baseline's, pooled over the seeds both have. */
function pairedAgainstBaseline(): Paired[] {
  const out: Paired[] = [];
  for (const person of held)
    for (const variant of variants) {
      if (variant === 'scratch') continue;
      const a: Row['perFrame'] = [];
      const b: Row['perFrame'] = [];
      const used: number[] = [];
      const perSeed: Paired['perSeed'] = [];
      for (const seed of seeds) {
        const mine = rows.find((r) => r.person === person && r.variant === variant && r.seed === seed);
        const base = rows.find((r) => r.person === person && r.variant === 'scratch' && r.seed === seed);
        if (!mine || !base || mine.perFrame.length !== base.perFrame.length) continue;
        a.push(...mine.perFrame);
        b.push(...base.perFrame);
        used.push(seed);
        const one = (key: 'psnr' | 'lmd') =>
          pairedDifference(
            mine.perFrame.map((p) => p[key]),
            base.perFrame.map((p) => p[key]),
          ).mean;
        perSeed.push({ seed, psnr: one('psnr'), lmd: one('lmd') });
      }
      if (used.length === 0) continue;
      out.push({
        person,
        variant,
        seeds: used,
        psnr: pairedDifference(
          a.map((p) => p.psnr),
          b.map((p) => p.psnr),
        ),
        lmd: pairedDifference(
          a.map((p) => p.lmd),
          b.map((p) => p.lmd),
        ),
        perSeed,
      });
    }
  return out;
}

if (values['train-only']) {
  console.log(`trained; run again without --train-only to score. Pre-training: ${JSON.stringify(priors)}`);
  process.exit(0);
}
const f = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
console.log(
  '| person | variant | seed | PSNR | PSNR face | SSIM face | LMD (px) | opening rendered/real | opening corr. | corr., head still | training s | iterations | trained on |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.person} | ${r.variant} | ${r.seed} | ${f(r.psnr, 2)} | ${f(r.psnrFace, 2)} | ${f(r.ssimFace, 3)} | ${f(r.lmd, 2)} | ${f(r.openingRatio, 2)} | ${f(r.openingCorrelation, 2)} | ${f(r.stillOpeningCorrelation, 2)} | ${f(r.trainSeconds, 1)} | ${r.iterations} | ${r.trainDevice} |`,
  );
const paired = pairedAgainstBaseline();
const pm = (d: PairedDifference, digits: number) =>
  Number.isNaN(d.mean)
    ? '—'
    : `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(digits)} ± ${d.standardError.toFixed(digits)}`;
console.log(
  '\nAgainst the baseline, frame by frame (mean difference ± standard error; PSNR up and LMD down are better):',
);
console.log('| person | variant | seeds | Δ PSNR (dB) | Δ LMD (px) | frames | Δ PSNR per seed | Δ LMD per seed |');
console.log('|---|---|---|---|---|---|---|---|');
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
for (const p of paired)
  console.log(
    `| ${p.person} | ${p.variant} | ${p.seeds.join(',')} | ${pm(p.psnr, 3)} | ${pm(p.lmd, 3)} | ${p.psnr.n} | ` +
      `${p.perSeed.map((x) => signed(x.psnr)).join(' / ')} | ${p.perSeed.map((x) => signed(x.lmd)).join(' / ')} |`,
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
  seeds,
  priors,
  rows: rows.map(({ perFrame: _, ...row }) => row),
  paired,
};
console.log(JSON.stringify(report, null, 2));
if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
