// One training step's computation on one frame: the renderer's forward (audio code, face and mouth branches,
// composite) with every intermediate kept, the photometric loss, and the backward through every op into the
// gradients of ModelParams. A GraphPlan says which branches run and which parameters get gradients, so the
// trainer's stages (static warm-up, face, mouth, fuse) are plans, not separate code.
import type { TensorName } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import { axpy } from '../ops/axpy.js';
import { composite, compositeBackward } from '../ops/composite.js';
import {
  alignerApply,
  alignerApplyBackward,
  type DeltaColumns,
  deformGaussians,
  deformGaussiansBackward,
  FACE_DELTA_COLUMNS,
  gatherRowsBackward,
  MOUTH_DELTA_COLUMNS,
} from '../ops/deform.js';
import { densifyStats } from '../ops/densify-stats.js';
import { GEOMETRY_WORKSPACE, geometryLoss } from '../ops/geometry-loss.js';
import { hookFeatures, hookFeaturesBackward } from '../ops/hook.js';
import { dssimLoss, l1Loss, SSIM_WORKSPACE_MAPS } from '../ops/losses.js';
import { Rasterizer } from '../ops/rasterizer.js';
import { ModelOps } from '../render/model-ops.js';
import { Workspace } from '../render/workspace.js';
import type { DeviceKind, Tensor } from '../tensor.js';
import type { Branch, ModelParams } from './model-params.js';
import { type PersonalInputs, type PersonalMotion, PersonalPass } from './personal-pass.js';
import type { TrainingFrame } from './training-data.js';

/** What one branch learns this step: everything (Gaussians, motion field, aligner if on), colour and opacity, or nothing. */
export type BranchTraining = 'all' | 'appearance' | 'none';

export interface GraphPlan {
  /** The face's motion field deforms its Gaussians; off, the canonical Gaussians render as they are (warm-up). */
  faceMotion: boolean;
  /** Render the mouth branch under the face. */
  mouth: boolean;
  /** Train the motion aligners of the branches that train 'all' (off: they stay as they are, usually identity). */
  aligner: boolean;
  face: BranchTraining;
  mouthTraining: BranchTraining;
  /** Train the audio encoders (AudioNet, AudioAttNet) through the face's motion field. */
  audio: boolean;
  /** Compare with the face-stage target (mouth interior replaced by the plate) instead of the ground truth. */
  faceTarget: boolean;
  /**
   * Adaptation's geometry regulariser on the face branch (ops/geometry-loss.ts) against the frame's geometry prior,
   * with these weights; absent or null: off (as for frames loaded without a prior).
   */
  geometry?: { weightDepth: number; weightNormal: number } | null;
}

/** Per-branch densification statistics the graph adds to ([n] each; see ops/densify-stats.ts). */
export interface DensifyStatsTensors {
  accum: Tensor<'f32'>;
  count: Tensor<'f32'>;
  maxRadii: Tensor<'f32'>;
}

/** 3DGS's photometric weighting: (1 - lambda) L1 + lambda D-SSIM. */
export const DSSIM_LAMBDA = 0.2;

interface BranchState {
  n: number;
  /** Aligner path (run whenever the motion field runs, so that train and serve compute the same thing). */
  alignerFeatures?: Tensor<'f32'>;
  raw?: Tensor<'f32'>;
  query?: Tensor<'f32'>;
  tau?: Tensor<'f32'>;
  h?: Tensor<'f32'>;
  delta: Tensor<'f32'>;
  moved: boolean;
  means: Tensor<'f32'>;
  rotations: Tensor<'f32'>;
  scales: Tensor<'f32'>;
  displacement: Tensor<'f32'>;
  rgb: Tensor<'f32'>;
  alpha: Tensor<'f32'>;
  /** [1, H, W] the rasterizer's depth sum, when the geometry regulariser needs it, and dL/d it (backward). */
  depth?: Tensor<'f32'>;
  gradDepth?: Tensor<'f32'>;
}

export class FrameGraph {
  readonly ops: ModelOps;
  private readonly ws: Workspace;
  private readonly rasterizers: Record<Branch, Rasterizer>;
  private last: { frame: TrainingFrame; plan: GraphPlan; face: BranchState; mouth?: BranchState } | undefined;
  /** Pre-training: the video's personalised fields, for the forward in flight and its backward. */
  private personal: PersonalPass | null = null;

  constructor(
    readonly device: DeviceKind,
    readonly model: ModelConfig,
    readonly size: number,
  ) {
    this.ops = new ModelOps(model);
    this.ws = new Workspace(device);
    this.rasterizers = { face: new Rasterizer(device), mouth: new Rasterizer(device) };
  }

  /**
   * Renders `frame` with the current parameters into a [1, H, W, 3] workspace tensor (valid until the next call).
   * With `train`, keeps what backward() needs. With `personal` (pre-training), the video's Personalized Field adds
   * its motion to the universal one in both branches.
   */
  forward(
    P: ModelParams,
    frame: TrainingFrame,
    plan: GraphPlan,
    train: boolean,
    personal: PersonalInputs | null = null,
  ): Tensor<'f32'> {
    const ws = this.ws;
    this.personal = personal ? new PersonalPass(ws, personal) : null;
    const { codeDim } = this.model.audio;
    const F = this.ops.audioAttention.frames;
    const codes = ws.get('audio.codes', 'f32', [F, codeDim]);
    this.ops.audioNet.forward([F], frame.windows, [P.value('audio.net')], codes);
    const codesByFrame = ws.get('audio.codesByFrame', 'f32', [1, F, codeDim]);
    codesByFrame.copyFrom(codes);
    const audio = ws.get('audio.code', 'f32', [1, codeDim]);
    this.ops.audioAttention.forward([1], codesByFrame, [P.value('audio.attention')], audio);

    const face = this.branchForward(
      'face',
      P,
      frame,
      plan.faceMotion,
      audio,
      frame.expression,
      train && plan.face !== 'none',
      Boolean(train && plan.face === 'all' && plan.geometry && frame.geometry),
    );
    let mouth: BranchState | undefined;
    if (plan.mouth) {
      const hook = ws.get('hook', 'f32', [1, 3]);
      hookFeatures([face.n], face.displacement, this.model.mouth.hookTopK, hook);
      if (!this.model.mouth.hook) hook.native.fillZero();
      mouth = this.branchForward('mouth', P, frame, true, audio, hook, train && plan.mouthTraining !== 'none');
    }
    const image = ws.get('image', 'f32', [1, this.size, this.size, 3]);
    composite(this.compositeInputs(frame, face, mouth), this.model.mouthDilateRadius, image);
    this.last = train ? { frame, plan, face, ...(mouth ? { mouth } : {}) } : undefined;
    return image;
  }

  /** Pre-training: how much of the last forward's motion was personal, in each branch whose fields ran. */
  personalMotion(): Partial<Record<Branch, PersonalMotion>> {
    const out: Partial<Record<Branch, PersonalMotion>> = {};
    for (const branch of ['face', 'mouth'] as const) {
      const motion = this.personal?.motion(branch);
      if (motion) out[branch] = motion;
    }
    return out;
  }

  /**
   * Loss of the last training forward against its target, and every gradient its plan asks for (added into P's
   * gradient buffers, which the trainer zeroes before the step). Returns the loss terms as device tensors [1]:
   * read them only when needed (a read waits for the GPU). In pre-training, `contrast` holds the Negative Contrast
   * Loss of each branch that trained its motion.
   */
  backward(
    P: ModelParams,
    stats: Record<Branch, DensifyStatsTensors | null>,
  ): { l1: Tensor<'f32'>; dssim: Tensor<'f32'>; contrast: Tensor<'f32'>[]; geometry: Tensor<'f32'> | null } {
    if (!this.last) throw new Error('FrameGraph.backward needs a training forward (train = true) just before it');
    const { frame, plan, face, mouth } = this.last;
    this.last = undefined;
    const ws = this.ws;
    const H = this.size;
    const image = ws.get('image', 'f32', [1, H, H, 3]);
    const target = plan.faceTarget ? frame.faceTarget : frame.target;
    const gradImage = ws.get('grad.image', 'f32', [1, H, H, 3]);
    gradImage.native.fillZero();
    const l1 = ws.get('loss.l1', 'f32', [1]);
    const dssim = ws.get('loss.dssim', 'f32', [1]);
    const inputs = { image, target, mask: frame.lossWeight };
    l1Loss(inputs, 1 - DSSIM_LAMBDA, l1, gradImage);
    dssimLoss(
      inputs,
      DSSIM_LAMBDA,
      dssim,
      gradImage,
      ws.get('loss.ssimWorkspace', 'f32', [SSIM_WORKSPACE_MAPS, 1, H, H, 3]),
    );

    const grads = {
      faceRgb: ws.get('grad.face.rgb', 'f32', [1, H, H, 3]),
      faceAlpha: ws.get('grad.face.alpha', 'f32', [1, H, H]),
      mouthRgb: ws.get('grad.mouth.rgb', 'f32', [1, H, H, 3]),
      mouthAlpha: ws.get('grad.mouth.alpha', 'f32', [1, H, H]),
    };
    compositeBackward(
      this.compositeInputs(frame, face, mouth),
      this.model.mouthDilateRadius,
      gradImage,
      ws.get('composite.argScratch', 'i32', [1, H, H]),
      grads,
    );

    // The geometry regulariser adds to the face's alpha gradient and gives its depth one.
    let geometry: Tensor<'f32'> | null = null;
    if (face.depth && plan.geometry && frame.geometry) {
      const gradDepth = ws.get('grad.face.depth', 'f32', [1, H, H]);
      face.gradDepth = gradDepth;
      gradDepth.native.fillZero();
      geometry = ws.get('loss.geometry', 'f32', [2]);
      geometryLoss(
        face.depth,
        face.alpha,
        frame.geometry,
        { intrinsics: frame.intrinsics, ...plan.geometry },
        ws.get('geometry.workspace', 'f32', [GEOMETRY_WORKSPACE]),
        geometry,
        { depth: gradDepth, alpha: grads.faceAlpha },
      );
    }

    // dL/d audio code from each branch whose motion field trains; summed by running the audio backward per source.
    const audioGrads: Tensor<'f32'>[] = [];
    const contrast: Tensor<'f32'>[] = [];
    let gradHook: Tensor<'f32'> | null = null;
    if (mouth && plan.mouthTraining !== 'none') {
      const wantHook = plan.face === 'all' && plan.faceMotion && this.model.mouth.hook;
      const out = this.branchBackward(
        'mouth',
        P,
        frame,
        plan,
        mouth,
        grads.mouthRgb,
        grads.mouthAlpha,
        null,
        plan.mouthTraining,
        stats.mouth,
        {
          audio: plan.audio,
          hook: wantHook,
        },
      );
      audioGrads.push(...out.audio);
      contrast.push(...out.contrast);
      gradHook = out.hook;
    }
    if (plan.face !== 'none') {
      let gradDisplacement: Tensor<'f32'> | null = null;
      if (gradHook) {
        gradDisplacement = ws.get('grad.face.hookDisplacement', 'f32', [face.n, 3]);
        hookFeaturesBackward([face.n], face.displacement, this.model.mouth.hookTopK, gradHook, gradDisplacement);
      }
      const out = this.branchBackward(
        'face',
        P,
        frame,
        plan,
        face,
        grads.faceRgb,
        grads.faceAlpha,
        gradDisplacement,
        plan.face,
        stats.face,
        {
          audio: plan.audio && plan.faceMotion,
          hook: false,
        },
      );
      audioGrads.push(...out.audio);
      contrast.push(...out.contrast);
    }
    if (plan.audio && audioGrads.length > 0) this.audioBackward(P, frame, audioGrads);
    return { l1, dssim, contrast, geometry };
  }

  dispose(): void {
    this.ws.dispose();
    this.rasterizers.face.dispose();
    this.rasterizers.mouth.dispose();
  }

  private compositeInputs(frame: TrainingFrame, face: BranchState, mouth: BranchState | undefined) {
    const H = this.size;
    let mouthRgb = mouth?.rgb;
    let mouthAlpha = mouth?.alpha;
    if (!mouthRgb || !mouthAlpha) {
      // No mouth branch: an empty (black, transparent) mouth image composites to face over plate.
      mouthRgb = this.ws.get('mouth.emptyRgb', 'f32', [1, H, H, 3]);
      mouthAlpha = this.ws.get('mouth.emptyAlpha', 'f32', [1, H, H]);
      mouthRgb.native.fillZero();
      mouthAlpha.native.fillZero();
    }
    return {
      faceRgb: face.rgb,
      faceAlpha: face.alpha,
      mouthRgb,
      mouthAlpha,
      backgrounds: [frame.plate],
      scratch: this.ws.get('composite.scratch', 'f32', [1, H, H]),
    };
  }

  private branchForward(
    branch: Branch,
    P: ModelParams,
    frame: TrainingFrame,
    moves: boolean,
    audio: Tensor<'f32'>,
    condition: Tensor<'f32'>,
    train: boolean,
    depth = false,
  ): BranchState {
    const ws = this.ws;
    const n = P.gaussians[branch];
    const ops = this.ops[branch];
    const xyz = P.value(`${branch}.xyz`);
    const columns = branch === 'face' ? FACE_DELTA_COLUMNS : MOUTH_DELTA_COLUMNS;
    const delta = ws.get(`${branch}.delta`, 'f32', [n, ops.motion.outputDim]);
    const state: BranchState = { n, delta, moved: moves, ...this.deformedBuffers(branch, n) };
    if (depth) state.depth = ws.get(`${branch}.depth`, 'f32', [1, this.size, this.size]);
    if (moves) {
      const G = ops.alignerGrid.outputDim;
      state.alignerFeatures = ws.get(`${branch}.alignerFeatures`, 'f32', [n, G]);
      ops.alignerGrid.forward([n], xyz, [P.value(`${branch}.alignerGrid`)], state.alignerFeatures);
      state.raw = ws.get(`${branch}.alignerRaw`, 'f32', [n, 6]);
      ops.aligner.forward([n], state.alignerFeatures, [P.value(`${branch}.aligner`)], state.raw);
      state.query = ws.get(`${branch}.query`, 'f32', [n, 3]);
      state.tau = ws.get(`${branch}.tau`, 'f32', [n, 3]);
      alignerApply([n], [xyz], state.raw, state.query, state.tau);
      state.h = ws.get(`${branch}.h`, 'f32', [n, ops.motionGrid.outputDim]);
      ops.motionGrid.forward([n], state.query, [P.value(`${branch}.motionGrid`)], state.h);
      if (branch === 'face')
        this.ops.face.motion.forward([n], state.h, audio, condition, this.faceWeights(P, 'value'), delta);
      else this.ops.mouth.motion.forward([n], state.h, audio, condition, this.mouthWeights(P, 'value'), delta);
      this.personal?.forward(branch, state.query, audio, condition, delta);
    } else delta.native.fillZero();
    deformGaussians([n], this.bases(P, branch), delta, columns, state.tau ?? null, this.model.displacementScale, state);
    this.rasterizers[branch].forward(
      {
        rowCounts: [n],
        means: state.means,
        rotations: state.rotations,
        scales: state.scales,
        opacities: [P.value(`${branch}.opacity`)],
        sh: [P.value(`${branch}.sh`)],
        cameras: frame.camera,
        width: this.size,
        height: this.size,
        shDegree: this.model[branch].shDegree,
        rgb: state.rgb,
        alpha: state.alpha,
        ...(state.depth ? { depth: state.depth } : {}),
      },
      { train },
    );
    return state;
  }

  /** Backward of one branch from its image gradients; returns dL/d audio code and dL/d hook when asked for. */
  private branchBackward(
    branch: Branch,
    P: ModelParams,
    frame: TrainingFrame,
    plan: GraphPlan,
    s: BranchState,
    dRgb: Tensor<'f32'>,
    dAlpha: Tensor<'f32'>,
    gradDisplacement: Tensor<'f32'> | null,
    training: BranchTraining,
    stats: DensifyStatsTensors | null,
    want: { audio: boolean; hook: boolean },
  ): { audio: Tensor<'f32'>[]; hook: Tensor<'f32'> | null; contrast: Tensor<'f32'>[] } {
    const ws = this.ws;
    const n = s.n;
    const none = { audio: [], hook: null, contrast: [] };
    const g = (name: string, shape: number[]) => ws.get(`grad.${branch}.${name}`, 'f32', shape);
    const dMeans = g('means', [n, 3]);
    const dRotations = g('rotations', [n, 4]);
    const dScales = g('scales', [n, 3]);
    const means2dGradNorm = stats ? g('means2d', [n]) : undefined;
    const radii = stats ? g('radii', [n]) : undefined;
    this.rasterizers[branch].backward({
      dRgb,
      dAlpha,
      dMeans,
      dRotations,
      dScales,
      dOpacities: P.grad(`${branch}.opacity`),
      dSh: P.grad(`${branch}.sh`),
      ...(s.gradDepth ? { dDepth: s.gradDepth } : {}),
      ...(means2dGradNorm && radii ? { means2dGradNorm, radii } : {}),
    });
    if (stats && means2dGradNorm && radii) densifyStats(means2dGradNorm, radii, stats);
    if (training !== 'all') return none;

    const columns: DeltaColumns = branch === 'face' ? FACE_DELTA_COLUMNS : MOUTH_DELTA_COLUMNS;
    const ops = this.ops[branch];
    const gradDelta = g('delta', [n, ops.motion.outputDim]);
    const gradTau = s.moved && plan.aligner ? g('tau', [n, 3]) : null;
    deformGaussiansBackward(
      [n],
      this.bases(P, branch),
      s.delta,
      columns,
      s.tau ?? null,
      this.model.displacementScale,
      { means: dMeans, rotations: dRotations, scales: dScales, displacement: gradDisplacement },
      gradDelta,
      gradTau,
      {
        means: [P.grad(`${branch}.xyz`)],
        rotations: [P.grad(`${branch}.rotation`)],
        scales: [P.grad(`${branch}.scale`)],
      },
    );
    if (!s.moved || !s.h || !s.query || !s.raw || !s.alignerFeatures) return none;

    const gradH = g('h', [n, ops.motionGrid.outputDim]);
    const gradAudio = want.audio ? g('audio', [1, this.model.audio.codeDim]) : null;
    let gradHook: Tensor<'f32'> | null = null;
    const audio = ws.get('audio.code', 'f32', [1, this.model.audio.codeDim]);
    if (branch === 'face') {
      this.ops.face.motion.backward(
        [n],
        s.h,
        audio,
        frame.expression,
        this.faceWeights(P, 'value'),
        gradDelta,
        this.faceWeights(P, 'grad'),
        { h: gradH, audio: gradAudio, expression: g('expression', [1, this.model.expressionDim]) },
      );
    } else {
      gradHook = want.hook ? g('hook', [1, 3]) : null;
      this.ops.mouth.motion.backward(
        [n],
        s.h,
        audio,
        ws.get('hook', 'f32', [1, 3]),
        this.mouthWeights(P, 'value'),
        gradDelta,
        this.mouthWeights(P, 'grad'),
        { h: gradH, audio: gradAudio, hook: gradHook },
      );
    }
    const gradQuery = g('query', [n, 3]);
    ops.motionGrid.backward(
      [n],
      s.query,
      [P.value(`${branch}.motionGrid`)],
      gradH,
      [P.grad(`${branch}.motionGrid`)],
      gradQuery,
    );
    const audioGrads = gradAudio ? [gradAudio] : [];
    const contrast: Tensor<'f32'>[] = [];
    if (this.personal) {
      const condition = branch === 'face' ? frame.expression : ws.get('hook', 'f32', [1, 3]);
      const out = this.personal.backward(branch, s.query, audio, condition, gradDelta, gradQuery, want);
      audioGrads.push(...out.audio);
      if (out.contrast) contrast.push(out.contrast);
      if (gradHook && out.hook) axpy(1, out.hook, gradHook);
    }
    // The query is mean + aligner offset: its gradient reaches the mean, and the aligner when it trains.
    const gradRaw = g('raw', [n, 6]);
    alignerApplyBackward([n], s.raw, { query: gradQuery, tau: gradTau }, gradRaw, [P.grad(`${branch}.xyz`)]);
    if (plan.aligner) {
      const gradFeatures = g('alignerFeatures', [n, ops.alignerGrid.outputDim]);
      ops.aligner.backward(
        [n],
        s.alignerFeatures,
        [P.value(`${branch}.aligner`)],
        gradRaw,
        [P.grad(`${branch}.aligner`)],
        gradFeatures,
      );
      const gradXyz = g('alignerXyz', [n, 3]);
      ops.alignerGrid.backward(
        [n],
        P.value(`${branch}.xyz`),
        [P.value(`${branch}.alignerGrid`)],
        gradFeatures,
        [P.grad(`${branch}.alignerGrid`)],
        gradXyz,
      );
      gatherRowsBackward([n], gradXyz, [P.grad(`${branch}.xyz`)]);
    }
    return { audio: audioGrads, hook: gradHook, contrast };
  }

  /** AudioAttNet and AudioNet backward, once per upstream gradient (their weight gradients add up). */
  private audioBackward(P: ModelParams, frame: TrainingFrame, upstream: Tensor<'f32'>[]): void {
    const ws = this.ws;
    const { codeDim } = this.model.audio;
    const F = this.ops.audioAttention.frames;
    const codesByFrame = ws.get('audio.codesByFrame', 'f32', [1, F, codeDim]);
    const gradCodesByFrame = ws.get('grad.audio.codesByFrame', 'f32', [1, F, codeDim]);
    const gradCodes = ws.get('grad.audio.codes', 'f32', [F, codeDim]);
    for (const gradAudio of upstream) {
      this.ops.audioAttention.backward(
        [1],
        codesByFrame,
        [P.value('audio.attention')],
        gradAudio,
        [P.grad('audio.attention')],
        gradCodesByFrame,
      );
      gradCodes.copyFrom(gradCodesByFrame);
      this.ops.audioNet.backward([F], frame.windows, [P.value('audio.net')], gradCodes, [P.grad('audio.net')], null);
    }
  }

  private deformedBuffers(branch: Branch, n: number) {
    const H = this.size;
    return {
      means: this.ws.get(`${branch}.means`, 'f32', [n, 3]),
      rotations: this.ws.get(`${branch}.rotations`, 'f32', [n, 4]),
      scales: this.ws.get(`${branch}.scales`, 'f32', [n, 3]),
      displacement: this.ws.get(`${branch}.displacement`, 'f32', [n, 3]),
      rgb: this.ws.get(`${branch}.rgb`, 'f32', [1, H, H, 3]),
      alpha: this.ws.get(`${branch}.alpha`, 'f32', [1, H, H]),
    };
  }

  private bases(P: ModelParams, branch: Branch) {
    return {
      means: [P.value(`${branch}.xyz`)],
      rotations: [P.value(`${branch}.rotation`)],
      scales: [P.value(`${branch}.scale`)],
    };
  }

  private faceWeights(P: ModelParams, kind: 'value' | 'grad') {
    const pick = (name: TensorName) => [kind === 'value' ? P.value(name) : P.grad(name)];
    return {
      audioAttention: pick('face.audioAttention'),
      expressionAttention: pick('face.expressionAttention'),
      expressionEncoder: pick('face.expressionEncoder'),
      decoder: pick('face.decoder'),
    };
  }

  private mouthWeights(P: ModelParams, kind: 'value' | 'grad') {
    const pick = (name: TensorName) => [kind === 'value' ? P.value(name) : P.grad(name)];
    return {
      audioAttention: pick('mouth.audioAttention'),
      decoder: pick('mouth.decoder'),
      hookScaler: pick('mouth.hookScaler'),
    };
  }
}
