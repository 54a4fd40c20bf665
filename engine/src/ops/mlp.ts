// Plain MLP (ReLU between layers, linear output) over the rows of all segments at once; each segment uses its own
// identity's weights. Weight layout: native/src/ops/mlp.h (per layer: weight [out][in] row-major, then bias [out]).
import type { MlpShape } from '../model/config.js';
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

export class Mlp {
  /** Floats of one identity's weight tensor. */
  readonly paramCount: number;

  constructor(readonly shape: MlpShape) {
    this.paramCount = addon.mlpLayout(shape).paramCount;
  }

  /**
   * Evaluates input ([rows, shape.input], all segments concatenated) into out ([rows, shape.output]).
   * Segment s has rowCounts[s] rows and uses weights[s] ([paramCount]).
   */
  forward(
    rowCounts: readonly number[],
    input: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    out: Tensor<'f32'>,
  ): void {
    addon.mlpForward(
      input.device === 'cuda' ? 1 : 0,
      this.shape,
      [...rowCounts],
      input.native,
      weights.map((t) => t.native),
      out.native,
    );
  }

  /**
   * Backward of forward(): from gradOut ([rows, shape.output], dL/d out) ADDS dL/d weights into gradWeights[s]
   * ([paramCount] per segment; the trainer zeroes them once per step, and segments of one identity may share one)
   * and, unless gradInput is null, WRITES dL/d input into gradInput ([rows, shape.input]). The forward's
   * activations are recomputed, so the call takes the forward's inputs again.
   */
  backward(
    rowCounts: readonly number[],
    input: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    gradOut: Tensor<'f32'>,
    gradWeights: readonly Tensor<'f32'>[],
    gradInput: Tensor<'f32'> | null,
  ): void {
    addon.mlpBackward(
      input.device === 'cuda' ? 1 : 0,
      this.shape,
      [...rowCounts],
      input.native,
      weights.map((t) => t.native),
      gradOut.native,
      gradWeights.map((t) => t.native),
      gradInput ? gradInput.native : null,
    );
  }
}
