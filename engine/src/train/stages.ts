// The training schedule of an identity from scratch (official InsTaG / TalkingGaussian few-shot recipe): the face
// branch (a static warm-up, then driven by audio and expression), the inside-mouth branch under the trained face,
// then a fuse stage that tunes colour and opacity of both on the full composite. Each stage is a GraphPlan, the
// parameter groups it trains with their learning rates, and its density control.
import type { TensorName } from '../identity/tensors.js';
import type { DensifyConfig } from './densify.js';
import type { GraphPlan } from './frame-graph.js';
import type { Branch } from './model-params.js';
import { exponentialDecay, type Schedule } from './schedule.js';

export type StageName = 'face-static' | 'face-warmup' | 'face' | 'mouth' | 'fuse';

export interface StageGroup {
  name: TensorName;
  lr: Schedule;
  weightDecay: number;
}

export interface Stage {
  name: StageName;
  iterations: number;
  plan: GraphPlan;
  groups: StageGroup[];
  /** Iterations of the same branch before this stage (the face's static warm-up before its moving stage). */
  branchOffset: number;
  /**
   * The branch whose Gaussians this stage densifies. from, until, every and resetOpacityEvery count the branch's
   * iterations (branchOffset + this stage's, 1-based), so one window spans the face's two stages.
   */
  densify: {
    branch: Branch;
    from: number;
    until: number;
    every: number;
    resetOpacityEvery: number;
    config: DensifyConfig;
  } | null;
  /** Mouth stage: half of the frames drawn from the more open half (the mouth branch is only seen then). */
  sampleOpenMouths: boolean;
}

export interface ScheduleOptions {
  /** Face iterations including the static warm-up (official few-shot: 10,000). */
  faceIterations: number;
  /** Of those, static ones first (no motion). */
  staticIterations: number;
  /**
   * Then, adapting from a prior, a warm-up (InsTaG: 3,000) in which the motion fields fine-tune at a tenth of their
   * learning rate and the aligners stay off; 0: none.
   */
  warmupIterations: number;
  mouthIterations: number;
  fuseIterations: number;
  /** Train the motion aligners (adaptation from a prior); off when training from scratch. */
  aligner: boolean;
  /**
   * The geometry regulariser in the face stage after the warm-up (paper: lambda_D 1e-2, lambda_N 1e-3), against
   * each frame's mesh prior (geometry-prior.ts); null: off.
   */
  geometry: { weightDepth: number; weightNormal: number } | null;
  /** Extra photometric-loss weight on a box round the lips in every stage (lip-weights.ts); 0: none. */
  lipWeight: number;
  /**
   * Peak learning rate of the motion networks (decoders, attention, audio and expression nets; the hash grids keep
   * 5e-3). The paper's 5e-4 is the default; docs/quality.md measures 2.5e-3 on short schedules.
   */
  networkLr: number;
  maxGaussians: { face: number; mouth: number };
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  faceIterations: 10000,
  staticIterations: 1000,
  warmupIterations: 0,
  mouthIterations: 4000,
  fuseIterations: 1000,
  aligner: false,
  geometry: null,
  lipWeight: 0,
  networkLr: 5e-4,
  maxGaussians: { face: 60000, mouth: 15000 },
};

/** Motion-aligned adaptation from a prior (paper: 10,000 iterations with a 3,000-iteration warm-up). */
export const ADAPT_SCHEDULE: ScheduleOptions = {
  ...DEFAULT_SCHEDULE,
  staticIterations: 500,
  warmupIterations: 3000,
  aligner: true,
  geometry: { weightDepth: 1e-2, weightNormal: 1e-3 },
};

/** Learning-rate factor of the warm-up: the prior's motion must not be washed out before the head has settled. */
const WARMUP_LR_SCALE = 0.1;

/** Learning rates (paper section 4 for grids and networks; 3DGS for Gaussians, scaled to a head in metres). */
const LR = {
  /** 3DGS 1.6e-4 times the scene extent; a head is about 0.25 m across. */
  position: [4e-5, 4e-7] as const,
  rotation: 1e-3,
  scale: 5e-3,
  opacity: 0.05,
  sh: 2.5e-3,
  grid: 5e-3,
};
const NETWORK_DECAY = 0.01; // AdamW's default weight decay, for grids and networks

/** Shifts a schedule: step k of this stage is step k + offset of the branch's whole run. */
const shifted =
  (schedule: Schedule, offset: number): Schedule =>
  (step) =>
    schedule(step + offset);

function gaussianGroups(branch: Branch, positionSteps: number, offset: number, scale = 1): StageGroup[] {
  const position = exponentialDecay(LR.position[0] * scale, LR.position[1] * scale, Math.max(1, positionSteps));
  const fixed =
    (lr: number): Schedule =>
    () =>
      lr * scale;
  return [
    { name: `${branch}.xyz`, lr: shifted(position, offset), weightDecay: 0 },
    { name: `${branch}.rotation`, lr: fixed(LR.rotation), weightDecay: 0 },
    { name: `${branch}.scale`, lr: fixed(LR.scale), weightDecay: 0 },
    { name: `${branch}.opacity`, lr: fixed(LR.opacity), weightDecay: 0 },
    { name: `${branch}.sh`, lr: fixed(LR.sh), weightDecay: 0 },
  ];
}

/**
 * AdamW groups of networks (peak `networkLr`; paper 5e-4) and hash grids (paper 5e-3), decaying over `steps` to a
 * tenth.
 */
export function networkGroups<N extends string>(names: N[], steps: number, networkLr: number, scale = 1) {
  return names.map((name) => {
    const base = (name.endsWith('Grid') ? LR.grid : networkLr) * scale;
    return { name, lr: exponentialDecay(base, base * 0.1, Math.max(1, steps)), weightDecay: NETWORK_DECAY };
  });
}

/** Density control over a branch's `iterations` (3DGS: from 500, every 100, until 1,000 before the end). */
function densifyWindow(branch: Branch, iterations: number, maxGaussians: number, gradThreshold: number) {
  const from = Math.min(500, Math.round(0.1 * iterations));
  const until = iterations - Math.min(1000, Math.round(0.2 * iterations));
  return {
    branch,
    from,
    until,
    every: Math.max(10, Math.min(100, Math.round(iterations / 50))),
    resetOpacityEvery: 3000,
    config: {
      gradThreshold,
      denseScale: 0.002,
      minOpacity: 0.005,
      maxWorldScale: 0.05,
      maxScreenRadius: null,
      maxGaussians,
    },
  };
}

export function trainingStages(o: ScheduleOptions): Stage[] {
  if (!(o.networkLr > 0 && o.networkLr < 1)) throw new RangeError(`networkLr must be in (0, 1), got ${o.networkLr}`);
  if (o.staticIterations + o.warmupIterations >= o.faceIterations)
    throw new RangeError(
      `staticIterations ${o.staticIterations} + warmupIterations ${o.warmupIterations} must be less than faceIterations ${o.faceIterations}`,
    );
  const aligner = (branch: Branch): TensorName[] => (o.aligner ? [`${branch}.alignerGrid`, `${branch}.aligner`] : []);
  const faceFields: TensorName[] = [
    'face.motionGrid',
    'face.audioAttention',
    'face.expressionAttention',
    'face.expressionEncoder',
    'face.decoder',
    'audio.net',
    'audio.attention',
  ];
  const faceNets = [...faceFields, ...aligner('face')];
  const mouthNets: TensorName[] = [
    'mouth.motionGrid',
    'mouth.audioAttention',
    'mouth.decoder',
    'mouth.hookScaler',
    ...aligner('mouth'),
  ];
  const warm = o.warmupIterations;
  const moving = o.faceIterations - o.staticIterations - warm;
  const plan = (p: Partial<GraphPlan>): GraphPlan => ({
    faceMotion: true,
    mouth: true,
    aligner: o.aligner,
    face: 'none',
    mouthTraining: 'none',
    audio: false,
    faceTarget: false,
    ...p,
  });
  const faceDensify = densifyWindow('face', o.faceIterations, o.maxGaussians.face, 5e-4);
  return [
    {
      name: 'face-static',
      iterations: o.staticIterations,
      plan: plan({ faceMotion: false, mouth: false, face: 'all', faceTarget: true }),
      groups: gaussianGroups('face', o.faceIterations, 0),
      branchOffset: 0,
      densify: faceDensify,
      sampleOpenMouths: false,
    },
    {
      name: 'face-warmup',
      iterations: warm,
      plan: plan({ mouth: false, face: 'all', audio: true, faceTarget: true, aligner: false }),
      groups: [
        ...gaussianGroups('face', o.faceIterations, o.staticIterations),
        ...networkGroups(faceFields, warm, o.networkLr, WARMUP_LR_SCALE),
      ],
      branchOffset: o.staticIterations,
      densify: faceDensify,
      sampleOpenMouths: false,
    },
    {
      name: 'face',
      iterations: moving,
      plan: plan({ mouth: false, face: 'all', audio: true, faceTarget: true, geometry: o.geometry }),
      groups: [
        ...gaussianGroups('face', o.faceIterations, o.staticIterations + warm),
        ...networkGroups(faceNets, moving, o.networkLr),
      ],
      branchOffset: o.staticIterations + warm,
      densify: faceDensify,
      sampleOpenMouths: false,
    },
    {
      name: 'mouth',
      iterations: o.mouthIterations,
      plan: plan({ mouthTraining: 'all' }),
      groups: [
        ...gaussianGroups('mouth', o.mouthIterations, 0),
        ...networkGroups(mouthNets, o.mouthIterations, o.networkLr),
      ],
      branchOffset: 0,
      densify: densifyWindow('mouth', o.mouthIterations, o.maxGaussians.mouth, 2e-4),
      sampleOpenMouths: true,
    },
    {
      name: 'fuse',
      iterations: o.fuseIterations,
      plan: plan({ face: 'appearance', mouthTraining: 'appearance' }),
      groups: (['face', 'mouth'] as const).flatMap((b) =>
        gaussianGroups(b, 1, 0, 0.2).filter((g) => g.name.endsWith('.opacity') || g.name.endsWith('.sh')),
      ),
      branchOffset: 0,
      densify: null,
      sampleOpenMouths: false,
    },
  ].filter((s) => s.iterations > 0) as Stage[];
}
