// Identity-free pre-training (InsTaG section 3.2): one Universal Motion Field per branch, shared by every training
// video, plus per video its own Gaussians (the personalised structure field) and a Personalized Field that keeps
// its person's motion out of the shared one; the Negative Contrast Loss pushes the personal motions apart. Each
// iteration trains one video (round-robin) on one of its frames. The universal fields and the audio encoders are
// the output: a motion prior file. A library call with progress, cancellation and resume, as trainIdentity.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SafetensorsTensor } from '../identity/safetensors.js';
import { expectedTensorShapes, type IdentityWeights, TENSOR_NAMES, type TensorName } from '../identity/tensors.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { rng } from '../model/init.js';
import type { DeviceKind } from '../tensor.js';
import { Adam, type ParamGroup } from './adam.js';
import { CheckpointError, momentsOf } from './checkpoint.js';
import { readNewestCheckpoint, writeCheckpoint } from './checkpoint-store.js';
import { type DensifyStatsTensors, FrameGraph } from './frame-graph.js';
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
import { PRIOR_TENSORS, type PriorProvenance, saveMotionPrior } from './motion-prior.js';
import { PERSONAL_TENSORS, PersonalField, PersonalFieldOps } from './personal-field.js';
import type { PersonalMotion } from './personal-pass.js';
import { DEFAULT_SCHEDULE, networkGroups, type Stage, trainingStages } from './stages.js';
import { TrainingAborted } from './trainer.js';
import { TrainingData } from './training-data.js';

export interface PretrainSchedule {
  /** Per video: static face iterations (its head before any motion). */
  staticIterations: number;
  /** Per video: face iterations with the motion fields (after the static ones). */
  faceIterations: number;
  /** Per video: mouth iterations. */
  mouthIterations: number;
}

export const DEFAULT_PRETRAIN_SCHEDULE: PretrainSchedule = {
  staticIterations: 1000,
  faceIterations: 6000,
  mouthIterations: 3000,
};

export interface PretrainProgress {
  stage: 'face-static' | 'face' | 'mouth';
  iteration: number;
  stageIterations: number;
  done: number;
  total: number;
  /** The video of the last iteration (index into datasets). */
  video: number;
  loss: number;
  /** Negative Contrast Loss of the last iteration (0 in the static stage). */
  contrast: number;
  /** How much of the training branch's motion the video's personal field made (null in the static stage). */
  personal: PersonalMotion | null;
  psnr: number;
  iterationsPerSecond: number;
  etaSeconds: number;
}

export interface PretrainOptions {
  /** Prepared dataset directories, one per video; at least one (the contrast loss needs two). */
  datasets: string[];
  /** The motion prior file to write. */
  out: string;
  device: DeviceKind;
  /** Square training size (default: the first dataset's size; every dataset is loaded at it). */
  size?: number;
  schedule?: Partial<PretrainSchedule>;
  model?: ModelConfig;
  /** Starting Gaussians of every video (as trainIdentity's). */
  initialGaussians?: GaussianCounts;
  /** lambda_C (paper: 1). */
  contrastWeight?: number;
  seed?: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  keepCheckpoints?: boolean;
  resume?: boolean;
  maxFrames?: number;
  onProgress?: (progress: PretrainProgress) => void;
  progressEvery?: number;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PretrainResult {
  provenance: PriorProvenance;
  iterations: number;
  seconds: number;
  resumedAt: number;
  peakDeviceBytes: number | null;
}

/** The universal tensors (shared, in the prior) and each video's own (its Gaussians and its aligners, unused). */
const SHARED: readonly TensorName[] = PRIOR_TENSORS;
const OWN = TENSOR_NAMES.filter((name) => !SHARED.includes(name));

interface Video {
  data: TrainingData;
  params: ModelParams;
  personal: PersonalField;
  /** Iterations this video has had in each branch (density control and its schedules count these). */
  counts: { face: number; mouth: number };
}

interface PretrainState {
  fingerprint: string;
  done: number;
  stage: number;
  iteration: number;
  seconds: number;
  videos: { gaussians: { face: number; mouth: number }; counts: { face: number; mouth: number } }[];
  /** Update counts of the stage's optimisers, by key (shared, v<i>.gaussians, v<i>.personal). */
  adamSteps: Record<string, number>;
}

export async function pretrainMotionPrior(options: PretrainOptions): Promise<PretrainResult> {
  if (options.datasets.length === 0) throw new RangeError('pretrain: give at least one dataset');
  const model = options.model ?? defaultModelConfig();
  const seed = options.seed ?? 1;
  const schedule: PretrainSchedule = { ...DEFAULT_PRETRAIN_SCHEDULE, ...options.schedule };
  const k = options.datasets.length;
  const counts = options.initialGaussians ?? { face: 4000, mouth: 1000 };
  const contrastWeight = (options.contrastWeight ?? 1) * Math.max(0, k - 1);
  const log = options.onLog ?? (() => {});
  const checkpointDir = options.checkpointDir ?? `${path.resolve(options.out)}.checkpoints`;
  const checkpointEvery = options.checkpointEvery ?? 2000;
  const progressEvery = options.progressEvery ?? 20;
  options.signal?.throwIfAborted();
  // Per video the identity trainer's stages (no warm-up, no fuse: appearance is not what the prior keeps).
  const stages = trainingStages({
    faceIterations: schedule.staticIterations + schedule.faceIterations,
    staticIterations: schedule.staticIterations,
    warmupIterations: 0,
    mouthIterations: schedule.mouthIterations,
    fuseIterations: 0,
    aligner: false,
    geometry: null,
    lipWeight: 0,
    networkLr: DEFAULT_SCHEDULE.networkLr,
    maxGaussians: DEFAULT_SCHEDULE.maxGaussians,
  });

  const size = options.size ?? (await peekSize(options.datasets[0] as string));
  const datas: TrainingData[] = [];
  const videos: Video[] = [];
  const personalOps = new PersonalFieldOps(model);
  let graph: FrameGraph | undefined;
  try {
    for (const dataset of options.datasets)
      datas.push(
        await TrainingData.load(dataset, {
          device: options.device,
          size,
          model,
          part: 'train',
          ...(options.maxFrames !== undefined ? { maxFrames: options.maxFrames } : {}),
        }),
      );
    graph = new FrameGraph(options.device, model, size);
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          datas.map((d) => d.manifest.source.sha256),
          size,
          model,
          schedule,
          seed,
          contrastWeight,
          counts,
        ]),
      )
      .digest('hex');
    const checkpoint =
      options.resume === false
        ? null
        : await readNewestCheckpoint(
            checkpointDir,
            fingerprint,
            (state, tensors) => decodeState(state as PretrainState, tensors, model, personalOps),
            (name, why) => log(`checkpoint ${name} skipped: ${why}`),
          );
    // Video 0 owns the shared tensors; the others borrow them.
    datas.forEach((data, i) => {
      const random = rng(seed + 7 * i);
      const restored = checkpoint?.videos[i];
      const params = restored
        ? new ModelParams(
            options.device,
            model,
            restored.weights,
            restored.gaussians,
            i === 0 ? undefined : { from: (videos[0] as Video).params, names: SHARED },
          )
        : fresh(options.device, model, data, counts, seed + i, i === 0 ? null : (videos[0] as Video).params);
      const personal = new PersonalField(
        options.device,
        personalOps,
        restored?.personal ?? personalOps.initialWeights(random),
      );
      videos.push({ data, params, personal, counts: restored?.counts ?? { face: 0, mouth: 0 } });
    });
    const start = checkpoint?.state ?? { stage: 0, iteration: 0, done: 0, seconds: 0 };
    if (checkpoint) log(`resuming after iteration ${start.done} (stage ${stages[start.stage]?.name})`);

    const total = stages.reduce((n, s) => n + s.iterations * k, 0);
    const began = performance.now();
    const elapsed = () => start.seconds + (performance.now() - began) / 1000;
    let done = start.done;
    let reportedAt = { done, seconds: elapsed() };
    let peakDeviceBytes: number | null = null;
    const g = graph;

    for (let si = start.stage; si < stages.length; si++) {
      const stage = stages[si] as Stage;
      const branch = stage.densify?.branch ?? 'face';
      const moving = stage.plan.faceMotion || stage.plan.mouthTraining === 'all';
      const resumed = checkpoint && si === start.stage ? checkpoint : null;
      const optimisers = new Map<string, Adam>();
      const own = (name: string) => !SHARED.includes(name as TensorName);
      const group = (P: ModelParams, sg: Stage['groups'][number], stepScale = 1): ParamGroup => ({
        name: sg.name,
        params: P.value(sg.name),
        grads: P.grad(sg.name),
        lr: (step) => sg.lr(Math.ceil(step / stepScale)),
        weightDecay: sg.weightDecay,
      });
      // The shared fields step k times as often as any one video: their schedules run k times slower.
      const owner = (videos[0] as Video).params;
      optimisers.set('shared', new Adam(stage.groups.filter((sg) => !own(sg.name)).map((sg) => group(owner, sg, k))));
      const personalNames = PersonalField.namesOf(branch);
      videos.forEach((v, i) => {
        optimisers.set(
          `v${i}.gaussians`,
          new Adam(stage.groups.filter((sg) => own(sg.name)).map((sg) => group(v.params, sg))),
        );
        const personalGroups = moving
          ? networkGroups(personalNames, stage.iterations, DEFAULT_SCHEDULE.networkLr).map((pg) => ({
              ...pg,
              params: v.personal.value(pg.name),
              grads: v.personal.grad(pg.name),
            }))
          : [];
        optimisers.set(`v${i}.personal`, new Adam(personalGroups));
      });
      const stats = videos.map((v, i) =>
        stage.densify ? statsTensors(options.device, v.params.gaussians[branch], resumed?.stats[i] ?? null) : null,
      );
      try {
        if (resumed)
          for (const [key, adam] of optimisers)
            adam.restore(resumed.state.adamSteps[key] ?? 0, momentsOf(resumed.tensors, `${key}/`));
        const save = async (iteration: number) =>
          saveState(checkpointDir, model, {
            state: {
              fingerprint,
              done,
              stage: si,
              iteration,
              seconds: elapsed(),
              videos: videos.map((v) => ({ gaussians: v.params.gaussians, counts: v.counts })),
              adamSteps: Object.fromEntries([...optimisers].map(([key, adam]) => [key, adam.step])),
            },
            videos,
            optimisers,
            stats,
          });
        let lastLoss = Number.NaN;
        let lastContrast = 0;
        let lastPersonal: PersonalMotion | null = null;
        let psnr = Number.NaN;
        const stageIterations = stage.iterations * k;
        for (let it = (resumed?.state.iteration ?? 0) + 1; it <= stageIterations; it++) {
          if (options.signal?.aborted) throw new TrainingAborted(await save(it - 1));
          const random = randomFor(seed, si, it);
          const vi = (it - 1) % k;
          const v = videos[vi] as Video;
          // A negative for the contrast loss: any other video, uniformly.
          const ni = k > 1 && moving ? (vi + 1 + Math.floor(random() * (k - 1))) % k : -1;
          const negative = ni >= 0 ? (videos[ni] as Video) : null;
          const frame = pickFrame(v.data.frames, random, stage.sampleOpenMouths);
          for (const key of ['shared', `v${vi}.gaussians`, `v${vi}.personal`, ...(negative ? [`v${ni}.personal`] : [])])
            optimisers.get(key)?.zeroGrad();
          const image = g.forward(v.params, frame, stage.plan, true, {
            own: v.personal,
            negative: negative?.personal ?? null,
            contrastWeight,
          });
          const vStats = stats[vi] ?? null;
          const losses = g.backward(v.params, {
            face: null,
            mouth: null,
            ...(stage.densify && vStats ? { [branch]: vStats } : {}),
          });
          optimisers.get(`v${vi}.gaussians`)?.update();
          if (moving) {
            optimisers.get('shared')?.update();
            optimisers.get(`v${vi}.personal`)?.update();
            if (negative) optimisers.get(`v${ni}.personal`)?.update();
          }
          done++;
          v.counts[branch]++;
          if (stage.densify && vStats)
            stats[vi] = densifyStep(
              v.params,
              optimisers.get(`v${vi}.gaussians`) as Adam,
              stage,
              v.counts[branch] - stage.branchOffset,
              vStats,
              random,
              size,
              log,
            );
          if (it % progressEvery === 0 || it === stageIterations) {
            psnr = framePsnr(image, stage.plan.faceTarget ? frame.faceTarget : frame.target);
            lastLoss = (losses.l1.read()[0] as number) + (losses.dssim.read()[0] as number);
            lastContrast = losses.contrast.reduce((sum, t) => sum + (t.read()[0] as number), 0);
            lastPersonal = moving
              ? (g.personalMotion()[stage.plan.mouthTraining === 'all' ? 'mouth' : 'face'] ?? null)
              : null;
            const bytes = deviceBytesInUse(options.device);
            if (bytes !== null) peakDeviceBytes = Math.max(peakDeviceBytes ?? 0, bytes);
            const now = elapsed();
            const rate = (done - reportedAt.done) / Math.max(1e-9, now - reportedAt.seconds);
            reportedAt = { done, seconds: now };
            options.onProgress?.({
              stage: stage.name as PretrainProgress['stage'],
              iteration: it,
              stageIterations,
              done,
              total,
              video: vi,
              loss: lastLoss,
              contrast: lastContrast,
              personal: lastPersonal,
              psnr,
              iterationsPerSecond: rate,
              etaSeconds: rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY,
            });
          }
          if (it % checkpointEvery === 0 && it < stageIterations) await save(it);
        }
        await save(stageIterations);
        log(
          `stage ${stage.name}: ${stageIterations} iterations, loss ${lastLoss.toFixed(4)}, contrast ${lastContrast.toFixed(5)}, ` +
            `${personalLine(lastPersonal)}PSNR ${psnr.toFixed(2)} dB`,
        );
      } finally {
        for (const adam of optimisers.values()) adam.dispose();
        for (const s of stats) if (s) for (const t of Object.values(s)) t.dispose();
      }
    }

    const owner = (videos[0] as Video).params;
    const provenance: PriorProvenance = {
      datasets: datas.map((d) => ({
        name: d.manifest.source.name,
        sha256: d.manifest.source.sha256,
        frames: d.frames.length,
      })),
      iterations: total,
      seconds: elapsed(),
      seed,
      trainingSize: size,
      createdAt: new Date().toISOString(),
    };
    await saveMotionPrior(options.out, {
      model,
      weights: Object.fromEntries(PRIOR_TENSORS.map((name) => [name, owner.value(name).read()])) as Record<
        (typeof PRIOR_TENSORS)[number],
        Float32Array
      >,
      provenance,
    });
    if (!options.keepCheckpoints) await rm(checkpointDir, { recursive: true, force: true });
    return { provenance, iterations: total, seconds: elapsed(), resumedAt: start.done, peakDeviceBytes };
  } finally {
    // Borrowers first: the owner (video 0) disposes the shared tensors.
    for (const v of [...videos].reverse()) {
      v.params.dispose();
      v.personal.dispose();
    }
    graph?.dispose();
    for (const d of datas) d.dispose();
  }
}

function fresh(
  device: DeviceKind,
  model: ModelConfig,
  data: TrainingData,
  counts: GaussianCounts,
  seed: number,
  owner: ModelParams | null,
) {
  const all = freshParams(device, model, data, counts, seed);
  if (!owner) return all;
  // A borrower keeps its own Gaussians (and unused aligners) and takes the owner's universal fields.
  try {
    const weights: Partial<IdentityWeights> = {};
    for (const name of OWN) weights[name] = all.value(name).read();
    return new ModelParams(device, model, weights, all.gaussians, { from: owner, names: SHARED });
  } finally {
    all.dispose();
  }
}

interface Restored {
  state: PretrainState;
  tensors: Map<string, SafetensorsTensor>;
  videos: {
    weights: Partial<IdentityWeights>;
    gaussians: { face: number; mouth: number };
    counts: { face: number; mouth: number };
    personal: Record<(typeof PERSONAL_TENSORS)[number], Float32Array>;
  }[];
  stats: ({ accum: Float32Array; count: Float32Array; maxRadii: Float32Array } | null)[];
}

function decodeState(
  state: PretrainState,
  tensors: Map<string, SafetensorsTensor>,
  model: ModelConfig,
  personalOps: PersonalFieldOps,
): Restored {
  const sizes = personalOps.sizes();
  const take = (key: string, size: number): Float32Array => {
    const t = tensors.get(key);
    if (t?.dtype !== 'F32' || t.data.length !== size)
      throw new CheckpointError(`tensor "${key}" is missing or has the wrong size (want ${size} values)`);
    return t.data as Float32Array;
  };
  const videos = state.videos.map((v, i) => {
    const shapes = expectedTensorShapes(model, v.gaussians);
    const weights: Partial<IdentityWeights> = {};
    for (const name of i === 0 ? TENSOR_NAMES : OWN)
      weights[name] = take(
        `v${i}/param/${name}`,
        shapes[name].reduce((a, b) => a * b, 1),
      );
    const personal = Object.fromEntries(
      PERSONAL_TENSORS.map((name) => [name, take(`v${i}/personal/${name}`, sizes[name])]),
    );
    return {
      weights,
      gaussians: v.gaussians,
      counts: v.counts,
      personal: personal as Restored['videos'][number]['personal'],
    };
  });
  const stats = state.videos.map((_, i) => {
    const stat = (key: string) => tensors.get(`v${i}/stats/${key}`)?.data as Float32Array | undefined;
    const [accum, count, maxRadii] = [stat('accum'), stat('count'), stat('maxRadii')];
    return accum && count && maxRadii ? { accum, count, maxRadii } : null;
  });
  return { state, tensors, videos, stats };
}

async function saveState(
  dir: string,
  model: ModelConfig,
  s: {
    state: PretrainState;
    videos: Video[];
    optimisers: Map<string, Adam>;
    stats: (DensifyStatsTensors | null)[];
  },
): Promise<string> {
  const tensors = new Map<string, SafetensorsTensor>();
  const put = (key: string, data: Float32Array, shape = [data.length]) =>
    tensors.set(key, { dtype: 'F32', shape, data });
  s.videos.forEach((v, i) => {
    const shapes = expectedTensorShapes(model, v.params.gaussians);
    for (const name of i === 0 ? TENSOR_NAMES : OWN)
      put(`v${i}/param/${name}`, v.params.value(name).read(), shapes[name]);
    for (const name of PERSONAL_TENSORS) put(`v${i}/personal/${name}`, v.personal.value(name).read());
    const st = s.stats[i];
    if (st) {
      put(`v${i}/stats/accum`, st.accum.read());
      put(`v${i}/stats/count`, st.count.read());
      put(`v${i}/stats/maxRadii`, st.maxRadii.read());
    }
  });
  for (const [key, adam] of s.optimisers)
    for (const name of adam.groupNames) {
      const { m, v } = adam.moments(name);
      put(`adam.m/${key}/${name}`, m.read());
      put(`adam.v/${key}/${name}`, v.read());
    }
  return writeCheckpoint(dir, s.state, tensors);
}

/** "personal motion 0.087 of 0.312 rms, own·negative -7.2e-3, " for the stage summary ('' when none ran). */
function personalLine(p: PersonalMotion | null): string {
  if (!p) return '';
  const dot = p.negativeDot === null ? '' : `, own·negative ${p.negativeDot.toExponential(1)}`;
  return `personal motion ${p.ownRms.toFixed(3)} of ${p.sumRms.toFixed(3)} rms${dot}, `;
}
