// Trains an identity from one prepared dataset (no motion prior): the stages of stages.ts, one frame per
// iteration, density control, checkpoints every N iterations and resume after a crash, then an identity package
// that `splatcast render` and the server load as is. A library call with progress, cancellation and resume, so the
// CLI and the server's job runner drive the same code.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { IdentityManifest } from '../identity/manifest.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import type { DeviceKind } from '../tensor.js';
import { Adam } from './adam.js';
import { type CheckpointState, loadLatestCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type IdentityDetails, writeTrainedIdentity } from './export.js';
import { FrameGraph } from './frame-graph.js';
import {
  densifyStep,
  deviceBytesInUse,
  framePsnr,
  freshParams,
  peekSize,
  pickFrame,
  randomFor,
  statsTensors,
} from './iteration.js';
import { type GaussianCounts, ModelParams } from './model-params.js';
import { type MotionPrior, PRIOR_TENSORS } from './motion-prior.js';
import {
  ADAPT_SCHEDULE,
  DEFAULT_SCHEDULE,
  type ScheduleOptions,
  type Stage,
  type StageName,
  trainingStages,
} from './stages.js';
import { TrainingData } from './training-data.js';

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
  /**
   * Motion-aligned adaptation (InsTaG section 3.3): start the universal motion fields and audio encoders from this
   * pre-trained prior (its model config is the identity's; the schedule defaults to ADAPT_SCHEDULE).
   */
  prior?: MotionPrior;
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

export async function trainIdentity(options: TrainOptions): Promise<TrainResult> {
  const prior = options.prior ?? null;
  if (prior && options.model && JSON.stringify(options.model) !== JSON.stringify(prior.model))
    throw new RangeError(
      "trainIdentity: `model` differs from the motion prior's model config (leave it out to use the prior's)",
    );
  const model = prior?.model ?? options.model ?? defaultModelConfig();
  const seed = options.seed ?? 1;
  const schedule: ScheduleOptions = { ...(prior ? ADAPT_SCHEDULE : DEFAULT_SCHEDULE), ...options.schedule };
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
    geometry: schedule.geometry !== null,
    lipWeight: schedule.lipWeight,
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
          prior?.provenance ?? null,
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
      : freshParams(
          options.device,
          model,
          data,
          options.initialGaussians ?? { face: 4000, mouth: 1000 },
          seed,
          prior ? Object.fromEntries(PRIOR_TENSORS.map((name) => [name, prior.weights[name]])) : {},
        );
    const P = params;
    const total = stages.reduce((n, s) => n + s.iterations, 0);
    const began = performance.now();
    const elapsed = () => start.seconds + (performance.now() - began) / 1000;
    let done = start.done;
    let reportedAt = { done, seconds: elapsed() };
    const stageResults: TrainResult['stages'] = [];
    let peakDeviceBytes: number | null = null;
    const sampleMemory = () => {
      const bytes = deviceBytesInUse(options.device);
      if (bytes !== null) peakDeviceBytes = Math.max(peakDeviceBytes ?? 0, bytes);
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
        ...(prior
          ? {
              motionPrior: prior.provenance.datasets.map((d) => d.name).join(', '),
              motionPriorCreatedAt: prior.provenance.createdAt,
            }
          : {}),
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
