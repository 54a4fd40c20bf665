// Renders frames for many sessions at once: every request of a batch becomes one segment of each op, so a batch
// of B frames costs one launch sequence, not B. Identities of a batch must share one model config.
import { addon } from '../native/addon.js';
import { composite } from '../ops/composite.js';
import {
  alignerApply,
  type DeltaColumns,
  deformGaussians,
  FACE_DELTA_COLUMNS,
  gatherRows,
  MOUTH_DELTA_COLUMNS,
} from '../ops/deform.js';
import { hookFeatures } from '../ops/hook.js';
import { i420Size, rgbToI420 } from '../ops/i420.js';
import { CAMERA_STRIDE, Rasterizer } from '../ops/rasterizer.js';
import type { DeviceKind, Tensor } from '../tensor.js';
import type { DeviceIdentity } from './device-identity.js';
import type { FrameRequest } from './frame-request.js';
import { type BranchOps, ModelOps } from './model-ops.js';
import { Workspace } from './workspace.js';

export const MAX_BATCH = 128;

export interface RendererOptions {
  device: DeviceKind;
  width: number;
  height: number;
  /** Synchronise after every stage and record its time (slower; for benchmarks). */
  profile?: boolean;
}

export interface RenderedBatch {
  /** One I420 frame per request (views into one buffer that the next call reuses: copy what you keep). */
  i420: Uint8Array[];
  /** Per-stage milliseconds, when profiling. */
  stages?: Record<string, number>;
  /** Tile intersections rasterised (face + mouth), a measure of the blending work. */
  intersections: number;
}

type Branch = 'face' | 'mouth';

export class Renderer {
  readonly device: DeviceKind;
  readonly width: number;
  readonly height: number;
  private readonly profile: boolean;
  private readonly workspace: Workspace;
  private readonly rasterizers: Record<Branch, Rasterizer>;
  private readonly opsByModel = new Map<string, ModelOps>();
  private hostI420 = new Uint8Array(0);
  private stages: Record<string, number> = {};
  private stageStart = 0;
  private closed = false;

  constructor(options: RendererOptions) {
    if (options.width % 2 || options.height % 2 || options.width < 16 || options.height < 16)
      throw new RangeError(`render size ${options.width}x${options.height}: width and height must be even and >= 16`);
    this.device = options.device;
    this.width = options.width;
    this.height = options.height;
    this.profile = options.profile ?? false;
    this.workspace = new Workspace(this.device);
    this.rasterizers = { face: new Rasterizer(this.device), mouth: new Rasterizer(this.device) };
  }

  /** Device bytes of the reusable buffers (grows with the batch). */
  get workspaceBytes(): number {
    return this.workspace.bytes + this.rasterizers.face.reservedBytes + this.rasterizers.mouth.reservedBytes;
  }

  render(request: FrameRequest): RenderedBatch {
    return this.renderBatch([request]);
  }

  /** Renders composited frames and returns them as I420. */
  renderBatch(requests: readonly FrameRequest[]): RenderedBatch {
    const rgb = this.renderRgb(requests);
    const B = requests.length;
    const frameBytes = i420Size(this.width, this.height);
    const i420 = this.workspace.get('i420', 'u8', [B, frameBytes]);
    rgbToI420(rgb.image, i420);
    if (this.hostI420.length !== B * frameBytes) this.hostI420 = new Uint8Array(B * frameBytes);
    i420.read(this.hostI420);
    this.mark('i420+download');
    const frames = requests.map((_, s) => this.hostI420.subarray(s * frameBytes, (s + 1) * frameBytes));
    return { i420: frames, intersections: rgb.intersections, ...(this.profile ? { stages: this.stages } : {}) };
  }

  /** Renders composited frames as f32 RGB [B, H, W, 3] (a workspace tensor, valid until the next call). */
  renderRgb(requests: readonly FrameRequest[]): { image: Tensor<'f32'>; intersections: number } {
    if (this.closed) throw new Error('renderer was disposed');
    this.validate(requests);
    this.stages = {};
    this.stageStart = performance.now();
    const ids = requests.map((r) => r.identity);
    const ops = this.opsFor(ids[0] as DeviceIdentity);
    const B = requests.length;
    const { model } = ops;
    const ws = this.workspace;

    // Per-frame conditions: audio code, expression, camera.
    const F = ops.audioAttention.frames;
    const { window, featureDim, codeDim } = model.audio;
    const windows = ws.get('audio.windows', 'f32', [B * F, window, featureDim]);
    windows.write(concat(requests.map((r) => r.audioWindows)));
    const codes = ws.get('audio.codes', 'f32', [B * F, codeDim]);
    ops.audioNet.forward(
      Array(B).fill(F),
      windows,
      ids.map((i) => i.tensor('audio.net')),
      codes,
    );
    const codesByFrame = ws.get('audio.codesByFrame', 'f32', [B, F, codeDim]);
    codesByFrame.copyFrom(codes as Tensor<'f32'>);
    const audio = ws.get('audio.code', 'f32', [B, codeDim]);
    ops.audioAttention.forward(
      Array(B).fill(1),
      codesByFrame,
      ids.map((i) => i.tensor('audio.attention')),
      audio,
    );
    const expression = ws.get('expression', 'f32', [B, model.expressionDim]);
    expression.write(concat(requests.map((r) => r.expression ?? this.trackExpression(r))));
    const cameras = ws.get('cameras', 'f32', [B, CAMERA_STRIDE]);
    cameras.write(concat(requests.map((r) => this.camera(r))));
    this.mark('conditions');

    // Face: aligner, motion field, deformation; its displacement hooks the mouth.
    const faceRows = ids.map((i) => i.gaussians.face);
    const face = this.alignAndEncode('face', ops.face, faceRows, ids);
    const faceDelta = ws.get('face.delta', 'f32', [face.rows, ops.face.motion.outputDim]);
    ops.face.motion.forward(faceRows, face.h, audio, expression, this.faceWeights(ids), faceDelta);
    this.mark('face.motion');
    const faceGaussians = this.deform('face', faceRows, ids, faceDelta, FACE_DELTA_COLUMNS, face.tau);
    const hook = ws.get('hook', 'f32', [B, 3]);
    hookFeatures(faceRows, faceGaussians.displacement, model.mouth.hookTopK, hook);
    if (!model.mouth.hook) hook.native.fillZero();
    this.mark('face.deform+hook');

    // Mouth: same path, conditioned on the hook instead of the expression.
    const mouthRows = ids.map((i) => i.gaussians.mouth);
    const mouth = this.alignAndEncode('mouth', ops.mouth, mouthRows, ids);
    const mouthDelta = ws.get('mouth.delta', 'f32', [mouth.rows, ops.mouth.motion.outputDim]);
    ops.mouth.motion.forward(mouthRows, mouth.h, audio, hook, this.mouthWeights(ids), mouthDelta);
    this.mark('mouth.motion');
    const mouthGaussians = this.deform('mouth', mouthRows, ids, mouthDelta, MOUTH_DELTA_COLUMNS, mouth.tau);
    this.mark('mouth.deform');

    // Rasterise both branches, then composite over each frame's torso plate.
    const images = { face: this.rasterize('face', faceRows, ids, faceGaussians, cameras) };
    this.mark('face.rasterize');
    const mouthImage = this.rasterize('mouth', mouthRows, ids, mouthGaussians, cameras);
    this.mark('mouth.rasterize');
    const image = ws.get('image', 'f32', [B, this.height, this.width, 3]);
    composite(
      {
        faceRgb: images.face.rgb,
        faceAlpha: images.face.alpha,
        mouthRgb: mouthImage.rgb,
        mouthAlpha: mouthImage.alpha,
        backgrounds: requests.map((r) => r.identity.plate(r.trackFrame)),
        scratch: ws.get('composite.scratch', 'f32', [B, this.height, this.width]),
      },
      model.mouthDilateRadius,
      image,
    );
    this.mark('composite');
    return { image, intersections: images.face.intersections + mouthImage.intersections };
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.workspace.dispose();
    this.rasterizers.face.dispose();
    this.rasterizers.mouth.dispose();
  }

  private validate(requests: readonly FrameRequest[]): void {
    if (requests.length === 0) throw new RangeError('renderBatch needs at least one request');
    if (requests.length > MAX_BATCH)
      throw new RangeError(`at most ${MAX_BATCH} frames per batch, got ${requests.length}`);
    const first = requests[0] as FrameRequest;
    requests.forEach((r, s) => {
      const id = r.identity;
      if (id.disposed) throw new Error(`request ${s}: identity "${id.name}" was disposed`);
      if (id.device !== this.device)
        throw new Error(`request ${s}: identity "${id.name}" is on ${id.device}, renderer on ${this.device}`);
      if (id.width !== this.width || id.height !== this.height)
        throw new Error(
          `request ${s}: identity "${id.name}" was uploaded for ${id.width}x${id.height}, renderer draws ${this.width}x${this.height}`,
        );
      if (id.modelKey !== first.identity.modelKey)
        throw new Error(
          `request ${s}: identity "${id.name}" has another model config than "${first.identity.name}"; batch them separately`,
        );
      if (!Number.isInteger(r.trackFrame) || r.trackFrame < 0 || r.trackFrame >= id.tracks.frames)
        throw new RangeError(`request ${s}: trackFrame ${r.trackFrame} outside 0..${id.tracks.frames - 1}`);
      const a = id.model.audio;
      const expected = (a.attentionBefore + 1 + a.attentionAfter) * a.window * a.featureDim;
      if (r.audioWindows.length !== expected)
        throw new RangeError(`request ${s}: audioWindows holds ${r.audioWindows.length} values, expected ${expected}`);
      if (r.expression && r.expression.length !== id.model.expressionDim)
        throw new RangeError(
          `request ${s}: expression holds ${r.expression.length} values, expected ${id.model.expressionDim}`,
        );
    });
  }

  private opsFor(identity: DeviceIdentity): ModelOps {
    let ops = this.opsByModel.get(identity.modelKey);
    if (!ops) {
      ops = new ModelOps(identity.model);
      this.opsByModel.set(identity.modelKey, ops);
    }
    return ops;
  }

  /** Aligner offset and scale, then the motion field's grid features at the aligned positions. */
  private alignAndEncode(branch: Branch, ops: BranchOps, rowCounts: number[], ids: DeviceIdentity[]) {
    const ws = this.workspace;
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const means = ids.map((i) => i.tensor(`${branch}.xyz`));
    const base = ws.get(`${branch}.base`, 'f32', [rows, 3]);
    gatherRows(rowCounts, means, base);
    const alignerFeatures = ws.get(`${branch}.alignerFeatures`, 'f32', [rows, ops.alignerGrid.outputDim]);
    ops.alignerGrid.forward(
      rowCounts,
      base,
      ids.map((i) => i.tensor(`${branch}.alignerGrid`)),
      alignerFeatures,
    );
    const raw = ws.get(`${branch}.alignerRaw`, 'f32', [rows, 6]);
    ops.aligner.forward(
      rowCounts,
      alignerFeatures,
      ids.map((i) => i.tensor(`${branch}.aligner`)),
      raw,
    );
    const query = ws.get(`${branch}.query`, 'f32', [rows, 3]);
    const tau = ws.get(`${branch}.tau`, 'f32', [rows, 3]);
    alignerApply(rowCounts, means, raw, query, tau);
    const h = ws.get(`${branch}.h`, 'f32', [rows, ops.motionGrid.outputDim]);
    ops.motionGrid.forward(
      rowCounts,
      query,
      ids.map((i) => i.tensor(`${branch}.motionGrid`)),
      h,
    );
    this.mark(`${branch}.align+encode`);
    return { rows, h, tau };
  }

  private deform(
    branch: Branch,
    rowCounts: number[],
    ids: DeviceIdentity[],
    delta: Tensor<'f32'>,
    columns: DeltaColumns,
    tau: Tensor<'f32'>,
  ) {
    const ws = this.workspace;
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const out = {
      means: ws.get(`${branch}.means`, 'f32', [rows, 3]),
      rotations: ws.get(`${branch}.rotations`, 'f32', [rows, 4]),
      scales: ws.get(`${branch}.scales`, 'f32', [rows, 3]),
      displacement: ws.get(`${branch}.displacement`, 'f32', [rows, 3]),
    };
    const bases = {
      means: ids.map((i) => i.tensor(`${branch}.xyz`)),
      rotations: ids.map((i) => i.tensor(`${branch}.rotation`)),
      scales: ids.map((i) => i.tensor(`${branch}.scale`)),
    };
    deformGaussians(rowCounts, bases, delta, columns, tau, (ids[0] as DeviceIdentity).model.displacementScale, out);
    return out;
  }

  private rasterize(
    branch: Branch,
    rowCounts: number[],
    ids: DeviceIdentity[],
    g: { means: Tensor<'f32'>; rotations: Tensor<'f32'>; scales: Tensor<'f32'> },
    cameras: Tensor<'f32'>,
  ) {
    const B = ids.length;
    const rgb = this.workspace.get(`${branch}.rgb`, 'f32', [B, this.height, this.width, 3]);
    const alpha = this.workspace.get(`${branch}.alpha`, 'f32', [B, this.height, this.width]);
    const stats = this.rasterizers[branch].forward({
      rowCounts,
      means: g.means,
      rotations: g.rotations,
      scales: g.scales,
      opacities: ids.map((i) => i.tensor(`${branch}.opacity`)),
      sh: ids.map((i) => i.tensor(`${branch}.sh`)),
      cameras,
      width: this.width,
      height: this.height,
      shDegree: (ids[0] as DeviceIdentity).model[branch].shDegree,
      rgb,
      alpha,
    });
    return { rgb, alpha, intersections: stats.intersections };
  }

  private faceWeights(ids: DeviceIdentity[]) {
    return {
      audioAttention: ids.map((i) => i.tensor('face.audioAttention')),
      expressionAttention: ids.map((i) => i.tensor('face.expressionAttention')),
      expressionEncoder: ids.map((i) => i.tensor('face.expressionEncoder')),
      decoder: ids.map((i) => i.tensor('face.decoder')),
    };
  }

  private mouthWeights(ids: DeviceIdentity[]) {
    return {
      audioAttention: ids.map((i) => i.tensor('mouth.audioAttention')),
      decoder: ids.map((i) => i.tensor('mouth.decoder')),
      hookScaler: ids.map((i) => i.tensor('mouth.hookScaler')),
    };
  }

  private trackExpression(r: FrameRequest): Float32Array {
    const dim = r.identity.model.expressionDim;
    return r.identity.tracks.expression.subarray(r.trackFrame * dim, (r.trackFrame + 1) * dim);
  }

  private camera(r: FrameRequest): Float32Array {
    const out = new Float32Array(CAMERA_STRIDE);
    out.set(r.identity.tracks.pose.subarray(r.trackFrame * 16, (r.trackFrame + 1) * 16));
    const k = r.identity.intrinsics;
    out.set([k.fx, k.fy, k.cx, k.cy], 16);
    return out;
  }

  /** Closes a profiling stage: waits for the device so the time belongs to this stage. */
  private mark(stage: string): void {
    if (!this.profile) return;
    if (this.device === 'cuda') addon.synchronize();
    const now = performance.now();
    this.stages[stage] = (this.stages[stage] ?? 0) + (now - this.stageStart);
    this.stageStart = now;
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
