// Trains an identity from one prepared dataset (no motion prior): the stages of stages.ts, one frame per
// iteration, density control, checkpoints every N iterations and resume after a crash, then an identity package
// that `splatcast render` and the server load as is. A library call with progress, cancellation and resume, so the
// CLI and the server's job runner drive the same code.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { IdentityManifest } from '../identity/manifest.js';
import { GAUSSIAN_TENSORS, type IdentityWeights } from '../identity/tensors.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { rng } from '../model/init.js';
import { addon } from '../native/addon.js';
import { readDatasetManifest } from '../prepare/dataset-manifest.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import { Adam } from './adam.js';
import { type CheckpointState, loadLatestCheckpoint, saveCheckpoint } from './checkpoint.js';
import { attributeWidths, densify, resetOpacity } from './densify.js';
import { type IdentityDetails, writeTrainedIdentity } from './export.js';
import { type DensifyStatsTensors, FrameGraph } from './frame-graph.js';
import { branchBoxes, countsOf, gaussiansInBox, initialWeights } from './initial-weights.js';
import { type Branch, type GaussianCounts, ModelParams } from './model-params.js';
import { DEFAULT_SCHEDULE, type ScheduleOptions, type Stage, type StageName, trainingStages } from './stages.js';
import { TrainingData, type TrainingFrame } from './training-data.js';

export interface TrainProgress {
  stage: StageName;
  /** Iterations of this stage done, of stageIterations. */
  iteration: number;
  stageIterations: number;
  /** Iterations of all stages done, of total. */
  done: number;
  total: number;
  /** Photometric loss ((1 - 0.2) L1 + 0.2 D-SSIM) averaged since the last report. */
  loss: number;
  /** PSNR (dB) of the last frame against its target. */
  psnr: number;
  gaussians: GaussianCounts;
  iterationsPerSecond: number;
  etaSeconds: number;
}

export interface TrainOptions {
  /** Prepared dataset directory (splatcast prepare). */
  dataset: string;
  /** Identity package directory to write. */
  out: string;
  device: DeviceKind;
  /** Square training size in pixels (default: the dataset's size). */
  size?: number;
  schedule?: Partial<ScheduleOptions>;
  /** Model config (default: defaultModelConfig()); its audio layout is what the server will stream with. */
  model?: ModelConfig;
  /** Starting Gaussian counts (official: 2,000 face, 5,000 mouth in a 0.2-m cube; ours start in fitted boxes). */
  initialGaussians?: GaussianCounts;
  seed?: number;
  /** Where checkpoints go (default: `<out>.checkpoints`); removed after a successful run unless keepCheckpoints. */
  checkpointDir?: string;
  checkpointEvery?: number;
  keepCheckpoints?: boolean;
  /** Continue from the newest matching checkpoint (default true). */
  resume?: boolean;
  /** Use only the first N training frames (tests). */
  maxFrames?: number;
  identity?: Partial<IdentityDetails>;
  onProgress?: (progress: TrainProgress) => void;
  /** Iterations between progress reports (default 20). */
  progressEvery?: number;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  manifest: IdentityManifest;
  iterations: number;
  seconds: number;
  stages: { name: StageName; iterations: number; seconds: number; loss: number; psnr: number }[];
  gaussians: GaussianCounts;
  /** Iterations the run resumed after (0: a fresh start). */
  resumedAt: number;
  /** Most device memory in use at a progress report (CUDA: the whole GPU's, as cudaMemGetInfo sees it). */
  peakDeviceBytes: number | null;
}

export class TrainingAborted extends Error {
  override name = 'AbortError';
  constructor(readonly checkpoint: string | null) {
    super(`training was cancelled${checkpoint ? `; it resumes from ${checkpoint}` : ''}`);
  }
}

/** Per-iteration randomness from (seed, stage, iteration): a resumed run draws exactly what it would have. */
const randomFor = (seed: number, stage: number, iteration: number) =>
  rng((seed * 1000003 + stage * 7919 + iteration * 104729) >>> 0);

export async function trainIdentity(options: TrainOptions): Promise<TrainResult> {
  const model = options.model ?? defaultModelConfig();
  const seed = options.seed ?? 1;
  const schedule: ScheduleOptions = { ...DEFAULT_SCHEDULE, ...options.schedule };
  const stages = trainingStages(schedule);
  const log = options.onLog ?? (() => {});
  const checkpointDir = options.checkpointDir ?? `${path.resolve(options.out)}.checkpoints`;
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const progressEvery = options.progressEvery ?? 20;
  options.signal?.throwIfAborted();

  const data = await TrainingData.load(options.dataset, {
    device: options.device,
    size: options.size ?? (await peekSize(options.dataset)),
    model,
    part: 'train',
    ...(options.maxFrames !== undefined ? { maxFrames: options.maxFrames } : {}),
  });
  const graph = new FrameGraph(options.device, model, data.size);
  let params: ModelParams | undefined;
  try {
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          data.manifest.source.sha256,
          data.size,
          data.frames.length,
          model,
          schedule,
          seed,
          options.initialGaussians,
        ]),
      )
      .digest('hex');
    const checkpoint =
      options.resume === false
        ? null
        : await loadLatestCheckpoint(checkpointDir, model, fingerprint, (name, why) =>
            log(`checkpoint ${name} skipped: ${why}`),
          );
    const start = checkpoint?.state ?? { stage: 0, iteration: 0, done: 0, seconds: 0 };
    if (checkpoint)
      log(`resuming after iteration ${start.done} (stage ${stages[start.stage]?.name}, iteration ${start.iteration})`);
    params = checkpoint
      ? new ModelParams(options.device, model, checkpoint.weights, checkpoint.state.gaussians)
      : freshParams(options.device, model, data, options.initialGaussians ?? { face: 4000, mouth: 1000 }, seed);
    const P = params;
    const total = stages.reduce((n, s) => n + s.iterations, 0);
    const began = performance.now();
    const elapsed = () => start.seconds + (performance.now() - began) / 1000;
    let done = start.done;
    let reportedAt = { done, seconds: elapsed() };
    const stageResults: TrainResult['stages'] = [];
    let peakDeviceBytes: number | null = null;
    const sampleMemory = () => {
      if (options.device !== 'cuda') return;
      const { freeBytes, totalBytes } = addon.cudaInfo();
      if (freeBytes !== undefined && totalBytes !== undefined)
        peakDeviceBytes = Math.max(peakDeviceBytes ?? 0, totalBytes - freeBytes);
    };

    for (let si = start.stage; si < stages.length; si++) {
      const stage = stages[si] as Stage;
      const resumed = checkpoint && si === start.stage ? checkpoint : null;
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
      let stats = stage.densify
        ? statsTensors(options.device, P.gaussians[stage.densify.branch], resumed?.stats ?? null)
        : null;
      const trained = stage.groups.map((g) => g.name);
      const stageBegan = elapsed();
      let lossSum = 0;
      let lossCount = 0;
      let last = { loss: Number.NaN, psnr: Number.NaN };
      let psnr = Number.NaN;
      try {
        if (resumed) adam.restore(resumed.state.adamStep, resumed.moments);
        const save = async (iteration: number) =>
          saveCheckpoint(checkpointDir, model, {
            state: {
              fingerprint,
              stage: si,
              iteration,
              done,
              gaussians: P.gaussians,
              adamStep: adam.step,
              seconds: elapsed(),
            } satisfies CheckpointState,
            weights: P.readWeights(),
            moments: Object.fromEntries(
              trained.map((name) => {
                const { m, v } = adam.moments(name);
                return [name, { m: m.read(), v: v.read() }];
              }),
            ),
            stats: stats
              ? { accum: stats.accum.read(), count: stats.count.read(), maxRadii: stats.maxRadii.read() }
              : null,
          });
        for (let it = (resumed?.state.iteration ?? 0) + 1; it <= stage.iterations; it++) {
          if (options.signal?.aborted) throw new TrainingAborted(await save(it - 1));
          const random = randomFor(seed, si, it);
          const frame = pickFrame(data.frames, random, stage.sampleOpenMouths);
          P.zeroGrad(trained);
          const image = graph.forward(P, frame, stage.plan, true);
          const branchStats = {
            face: null,
            mouth: null,
            ...(stage.densify && stats ? { [stage.densify.branch]: stats } : {}),
          };
          const losses = graph.backward(P, branchStats);
          adam.update();
          done++;
          if (it % progressEvery === 0 || it === stage.iterations)
            psnr = framePsnr(image, stage.plan.faceTarget ? frame.faceTarget : frame.target);
          if (stage.densify && stats) stats = densifyStep(P, adam, stage, it, stats, random, data.size, log);
          if (it % progressEvery === 0 || it === stage.iterations) {
            const loss = (losses.l1.read()[0] as number) + (losses.dssim.read()[0] as number);
            lossSum += loss;
            lossCount++;
            last = { loss: lossSum / lossCount, psnr };
            lossSum = 0;
            lossCount = 0;
            sampleMemory();
            const now = elapsed();
            const rate = (done - reportedAt.done) / Math.max(1e-9, now - reportedAt.seconds);
            reportedAt = { done, seconds: now };
            options.onProgress?.({
              stage: stage.name,
              iteration: it,
              stageIterations: stage.iterations,
              done,
              total,
              loss: last.loss,
              psnr: last.psnr,
              gaussians: P.gaussians,
              iterationsPerSecond: rate,
              etaSeconds: rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY,
            });
          }
          if (it % checkpointEvery === 0 && it < stage.iterations) await save(it);
        }
        await save(stage.iterations);
      } finally {
        adam.dispose();
        if (stats) for (const t of Object.values(stats)) t.dispose();
      }
      stageResults.push({ name: stage.name, iterations: stage.iterations, seconds: elapsed() - stageBegan, ...last });
      log(
        `stage ${stage.name}: ${stage.iterations} iterations in ${(elapsed() - stageBegan).toFixed(1)} s, loss ${last.loss.toFixed(4)}, PSNR ${last.psnr.toFixed(2)} dB, ${P.gaussians.face} + ${P.gaussians.mouth} Gaussians`,
      );
    }
    const manifest = await writeTrainedIdentity(options.out, {
      model,
      weights: P.readWeights(),
      gaussians: P.gaussians,
      dataset: data,
      tools: {
        trainer: 'splatcast-train-1',
        iterations: String(total),
        seed: String(seed),
        trainingSize: String(data.size),
      },
      details: options.identity ?? {},
    });
    if (!options.keepCheckpoints) await rm(checkpointDir, { recursive: true, force: true });
    return {
      manifest,
      iterations: total,
      seconds: elapsed(),
      stages: stageResults,
      gaussians: P.gaussians,
      resumedAt: start.done,
      peakDeviceBytes,
    };
  } finally {
    params?.dispose();
    graph.dispose();
    data.dispose();
  }
}

async function peekSize(dataset: string): Promise<number> {
  return (await readDatasetManifest(dataset)).size;
}

/** Gaussians in boxes fitted to the canonical face, coloured by the first training frame under each point. */
function freshParams(
  device: DeviceKind,
  model: ModelConfig,
  data: TrainingData,
  counts: GaussianCounts,
  seed: number,
): ModelParams {
  const random = rng(seed);
  const boxes = branchBoxes(data.manifest.canonicalFace);
  const first = data.frames[0] as TrainingFrame;
  const colour = colourUnder(first, data.size, data.intrinsics);
  const gaussians = {
    face: gaussiansInBox(random, counts.face, boxes.face, model.face.shDegree, colour),
    mouth: gaussiansInBox(random, counts.mouth, boxes.mouth, model.mouth.shDegree, () => [0.55, 0.35, 0.35]),
  };
  const weights: IdentityWeights = initialWeights(random, model, gaussians);
  return new ModelParams(device, model, weights, countsOf(gaussians));
}

/** The frame's ground-truth colour where a head-space point projects (grey outside the image). */
function colourUnder(frame: TrainingFrame, size: number, k: TrainingData['intrinsics']) {
  const pose = frame.camera.read();
  const rgb = frame.host.target;
  return (x: number, y: number, z: number): [number, number, number] => {
    const c = [0, 1, 2].map(
      (r) =>
        (pose[4 * r] as number) * x +
        (pose[4 * r + 1] as number) * y +
        (pose[4 * r + 2] as number) * z +
        (pose[4 * r + 3] as number),
    );
    const [cx, cy, cz] = c as [number, number, number];
    if (cz <= 0) return [0.5, 0.5, 0.5];
    const u = Math.floor((k.fx * cx) / cz + k.cx);
    const v = Math.floor((k.fy * cy) / cz + k.cy);
    if (u < 0 || v < 0 || u >= size || v >= size) return [0.5, 0.5, 0.5];
    const p = 3 * (v * size + u);
    return [(rgb[p] as number) / 255, (rgb[p + 1] as number) / 255, (rgb[p + 2] as number) / 255];
  };
}

function pickFrame(frames: TrainingFrame[], random: () => number, openMouths: boolean): TrainingFrame {
  if (openMouths && random() < 0.5) {
    const sorted = [...frames].sort((a, b) => b.mouthOpen - a.mouthOpen);
    return sorted[Math.floor(random() * Math.max(1, Math.ceil(sorted.length / 2)))] as TrainingFrame;
  }
  return frames[Math.floor(random() * frames.length)] as TrainingFrame;
}

function statsTensors(
  device: DeviceKind,
  n: number,
  from: { accum: Float32Array; count: Float32Array; maxRadii: Float32Array } | null,
): DensifyStatsTensors {
  const make = (data?: Float32Array) =>
    data && data.length === n ? Tensor.from(device, 'f32', [n], data) : Tensor.zeros(device, 'f32', [n]);
  return { accum: make(from?.accum), count: make(from?.count), maxRadii: make(from?.maxRadii) };
}

/** Density control at branch iteration k: grow and prune every `every` iterations, reset opacity now and then. */
function densifyStep(
  P: ModelParams,
  adam: Adam,
  stage: Stage,
  it: number,
  stats: DensifyStatsTensors,
  random: () => number,
  size: number,
  log: (line: string) => void,
): DensifyStatsTensors {
  const d = stage.densify;
  if (!d) return stats;
  const k = stage.branchOffset + it;
  const branch: Branch = d.branch;
  const shDegree = P.model[branch].shDegree;
  const widths = attributeWidths(shDegree);
  let out = stats;
  if (k >= d.from && k <= d.until && k % d.every === 0) {
    const result = densify(
      P.readGaussians(branch),
      { accum: stats.accum.read(), count: stats.count.read(), maxRadii: stats.maxRadii.read() },
      // After the first opacity reset, as 3DGS, Gaussians covering too much of the screen go too.
      { ...d.config, maxScreenRadius: k > d.resetOpacityEvery ? (d.config.maxScreenRadius ?? 0.1 * size) : null },
      shDegree,
      random,
    );
    const replaced = P.setGaussians(branch, result.gaussians);
    for (const attribute of GAUSSIAN_TENSORS) {
      const entry = replaced[attribute];
      adam.replace(`${branch}.${attribute}`, entry.value, entry.grad, result.carry, widths[attribute]);
    }
    for (const t of Object.values(stats)) t.dispose();
    out = statsTensors(stats.accum.device, result.gaussians.opacity.length, null);
    if (result.cloned + result.split + result.pruned > 0)
      log(
        `${branch} densify at ${k}: +${result.cloned} cloned, ${result.split} split, -${result.pruned} pruned -> ${result.gaussians.opacity.length}`,
      );
  }
  if (k % d.resetOpacityEvery === 0 && k < d.until) {
    const opacity = P.value(`${branch}.opacity`);
    opacity.write(resetOpacity(opacity.read()));
    const n = opacity.size;
    adam.replace(`${branch}.opacity`, opacity, P.grad(`${branch}.opacity`), new Int32Array(n).fill(-1), 1);
  }
  return out;
}

/** PSNR (dB) of a rendered image against its target (images in 0..1). */
function framePsnr(rendered: Tensor<'f32'>, target: Tensor<'f32'>): number {
  const image = rendered.read();
  const reference = target.read();
  let se = 0;
  for (let i = 0; i < image.length; i++) se += ((image[i] as number) - (reference[i] as number)) ** 2;
  return 10 * Math.log10(1 / Math.max(1e-12, se / image.length));
}
