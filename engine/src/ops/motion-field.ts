// Fused motion-field decoders of the face and mouth branches, one Gaussian per row: attention-weighted audio and
// expression (face) or hook (mouth) conditioning, then the decoder. The formulas and weight layouts are documented
// in native/src/ops/motion_field.h; every network is an MLP with the layout of native/src/ops/mlp.h.
import type { FaceBranchConfig, MouthBranchConfig } from '../model/config.js';
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

export type FaceMotionShapes = Pick<
  FaceBranchConfig,
  'audioAttention' | 'expressionAttention' | 'expressionEncoder' | 'decoder'
>;
export type MouthMotionShapes = Pick<MouthBranchConfig, 'audioAttention' | 'decoder' | 'hookScaler'>;
/** Per network, one weight tensor per segment. */
export type FaceMotionWeights = Record<keyof FaceMotionShapes, readonly Tensor<'f32'>[]>;
export type MouthMotionWeights = Record<keyof MouthMotionShapes, readonly Tensor<'f32'>[]>;

const natives = <K extends string>(weights: Record<K, readonly Tensor<'f32'>[]>) =>
  Object.fromEntries(
    Object.entries<readonly Tensor<'f32'>[]>(weights).map(([k, list]) => [k, list.map((t) => t.native)]),
  ) as Record<K, Tensor<'f32'>['native'][]>;

export class FaceMotionField {
  readonly shapes: FaceMotionShapes;
  /** G, C and E, taken from the attention networks (the native side checks every other width against them). */
  readonly gridDim: number;
  readonly codeDim: number;
  readonly expressionDim: number;
  /** Decoder outputs per row (official: 11 = d_xyz 3, d_rotation 4, d_opacity 1, d_scale 3). */
  readonly outputDim: number;
  readonly paramCounts: Record<keyof FaceMotionShapes, number>;

  constructor(config: FaceMotionShapes) {
    const { audioAttention, expressionAttention, expressionEncoder, decoder } = config;
    this.shapes = { audioAttention, expressionAttention, expressionEncoder, decoder };
    const layout = addon.faceMotionLayout(this.shapes);
    this.gridDim = layout.gridDim;
    this.codeDim = layout.codeDim;
    this.expressionDim = layout.expressionDim;
    this.outputDim = layout.outputDim;
    this.paramCounts = layout.paramCounts;
  }

  /**
   * h: [rows, gridDim]; audio: [segments, codeDim]; expression: [segments, expressionDim];
   * out: [rows, outputDim]. Segment s has rowCounts[s] rows and uses weights.<net>[s].
   */
  forward(
    rowCounts: readonly number[],
    h: Tensor<'f32'>,
    audio: Tensor<'f32'>,
    expression: Tensor<'f32'>,
    weights: FaceMotionWeights,
    out: Tensor<'f32'>,
  ): void {
    addon.faceMotionForward(
      h.device === 'cuda' ? 1 : 0,
      this.shapes,
      [...rowCounts],
      h.native,
      audio.native,
      expression.native,
      natives(weights),
      out.native,
    );
  }

  /**
   * Backward of forward() (activations are recomputed, so it takes the forward's inputs again). From gradOut
   * ([rows, outputDim]) it ADDS every network's weight gradient into gradWeights.<net>[s] (zeroed by the trainer
   * once per step; segments of one identity may share them) and WRITES the input gradients: grads.h ([rows,
   * gridDim]), grads.audio ([segments, codeDim]) and grads.expression ([segments, expressionDim]), the last two
   * summed over each segment's rows. h and audio may be null (not needed); expression is required.
   */
  backward(
    rowCounts: readonly number[],
    h: Tensor<'f32'>,
    audio: Tensor<'f32'>,
    expression: Tensor<'f32'>,
    weights: FaceMotionWeights,
    gradOut: Tensor<'f32'>,
    gradWeights: FaceMotionWeights,
    grads: { h: Tensor<'f32'> | null; audio: Tensor<'f32'> | null; expression: Tensor<'f32'> },
  ): void {
    addon.faceMotionBackward(
      h.device === 'cuda' ? 1 : 0,
      this.shapes,
      [...rowCounts],
      h.native,
      audio.native,
      expression.native,
      natives(weights),
      gradOut.native,
      natives(gradWeights),
      grads.h ? grads.h.native : null,
      grads.audio ? grads.audio.native : null,
      grads.expression.native,
    );
  }
}

export class MouthMotionField {
  readonly shapes: MouthMotionShapes;
  readonly gridDim: number;
  readonly codeDim: number;
  /** 3: d_xyz, already gated by tau_M (the displacement scale is applied later by the deform op). */
  readonly outputDim: number;
  readonly paramCounts: Record<keyof MouthMotionShapes, number>;

  constructor(config: MouthMotionShapes) {
    const { audioAttention, decoder, hookScaler } = config;
    this.shapes = { audioAttention, decoder, hookScaler };
    const layout = addon.mouthMotionLayout(this.shapes);
    this.gridDim = layout.gridDim;
    this.codeDim = layout.codeDim;
    this.outputDim = layout.outputDim;
    this.paramCounts = layout.paramCounts;
  }

  /**
   * h: [rows, gridDim]; audio: [segments, codeDim]; hook: [segments, 3] (max, min, range of the face
   * displacement); out: [rows, 3]. Segment s has rowCounts[s] rows and uses weights.<net>[s].
   */
  forward(
    rowCounts: readonly number[],
    h: Tensor<'f32'>,
    audio: Tensor<'f32'>,
    hook: Tensor<'f32'>,
    weights: MouthMotionWeights,
    out: Tensor<'f32'>,
  ): void {
    addon.mouthMotionForward(
      h.device === 'cuda' ? 1 : 0,
      this.shapes,
      [...rowCounts],
      h.native,
      audio.native,
      hook.native,
      natives(weights),
      out.native,
    );
  }

  /**
   * Backward of forward() (activations are recomputed, so it takes the forward's inputs again). From gradOut
   * ([rows, 3]) it ADDS every network's weight gradient into gradWeights.<net>[s] (zeroed by the trainer once per
   * step; segments of one identity may share them) and WRITES the input gradients that are not null: grads.h
   * ([rows, gridDim]), grads.audio ([segments, codeDim]) and grads.hook ([segments, 3]), the last two summed over
   * each segment's rows.
   */
  backward(
    rowCounts: readonly number[],
    h: Tensor<'f32'>,
    audio: Tensor<'f32'>,
    hook: Tensor<'f32'>,
    weights: MouthMotionWeights,
    gradOut: Tensor<'f32'>,
    gradWeights: MouthMotionWeights,
    grads: { h: Tensor<'f32'> | null; audio: Tensor<'f32'> | null; hook: Tensor<'f32'> | null },
  ): void {
    addon.mouthMotionBackward(
      h.device === 'cuda' ? 1 : 0,
      this.shapes,
      [...rowCounts],
      h.native,
      audio.native,
      hook.native,
      natives(weights),
      gradOut.native,
      natives(gradWeights),
      grads.h ? grads.h.native : null,
      grads.audio ? grads.audio.native : null,
      grads.hook ? grads.hook.native : null,
    );
  }
}
