// InsTaG's audio encoders (from AD-NeRF). AudioNet: a 16-step window of audio features -> an audio code;
// AudioAttNet: the codes of consecutive video frames -> one smoothed code. Packed weight layouts and parameter
// counts come from the native side (native/src/ops/audio_net.h), so nothing here repeats them.
import type { AudioConfig } from '../model/config.js';
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

export class AudioNet {
  /** Floats of one identity's AudioNet weights. */
  readonly paramCount: number;
  readonly featureDim: number;
  readonly window: number;
  readonly codeDim: number;

  constructor(config: Pick<AudioConfig, 'featureDim' | 'window' | 'codeDim'>) {
    this.featureDim = config.featureDim;
    this.window = config.window;
    this.codeDim = config.codeDim;
    this.paramCount = addon.audioNetLayout(this.nativeConfig()).paramCount;
  }

  /**
   * Encodes windows ([rows, window, featureDim], time-major) into codes ([rows, codeDim]).
   * Segment s has rowCounts[s] rows and uses weights[s] ([paramCount]).
   */
  forward(
    rowCounts: readonly number[],
    windows: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    codes: Tensor<'f32'>,
  ): void {
    addon.audioNetForward(
      windows.device === 'cuda' ? 1 : 0,
      this.nativeConfig(),
      [...rowCounts],
      windows.native,
      weights.map((t) => t.native),
      codes.native,
    );
  }

  /**
   * Backward of forward() (activations are recomputed, so it takes the forward's inputs again). From gradCodes
   * ([rows, codeDim]) it ADDS dL/d weights into gradWeights[s] (zeroed by the trainer once per step) and, unless
   * gradWindows is null, WRITES dL/d windows.
   */
  backward(
    rowCounts: readonly number[],
    windows: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    gradCodes: Tensor<'f32'>,
    gradWeights: readonly Tensor<'f32'>[],
    gradWindows: Tensor<'f32'> | null,
  ): void {
    addon.audioNetBackward(
      windows.device === 'cuda' ? 1 : 0,
      this.nativeConfig(),
      [...rowCounts],
      windows.native,
      weights.map((t) => t.native),
      gradCodes.native,
      gradWeights.map((t) => t.native),
      gradWindows ? gradWindows.native : null,
    );
  }

  private nativeConfig() {
    return { featureDim: this.featureDim, window: this.window, codeDim: this.codeDim };
  }
}

export class AudioAttNet {
  /** Floats of one identity's AudioAttNet weights (depends on the frame count). */
  readonly paramCount: number;
  /** Frames attended: attentionBefore + 1 + attentionAfter. */
  readonly frames: number;
  readonly codeDim: number;

  constructor(config: Pick<AudioConfig, 'attentionBefore' | 'attentionAfter' | 'codeDim'>) {
    this.frames = config.attentionBefore + 1 + config.attentionAfter;
    this.codeDim = config.codeDim;
    this.paramCount = addon.audioAttNetLayout({ frames: this.frames, codeDim: this.codeDim }).paramCount;
  }

  /**
   * Smooths codes ([rows, frames, codeDim], oldest frame first) into out ([rows, codeDim]).
   * Segment s has rowCounts[s] rows (usually one) and uses weights[s] ([paramCount]).
   */
  forward(
    rowCounts: readonly number[],
    codes: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    out: Tensor<'f32'>,
  ): void {
    addon.audioAttNetForward(
      codes.device === 'cuda' ? 1 : 0,
      { frames: this.frames, codeDim: this.codeDim },
      [...rowCounts],
      codes.native,
      weights.map((t) => t.native),
      out.native,
    );
  }

  /**
   * Backward of forward(): from gradOut ([rows, codeDim]) ADDS dL/d weights into gradWeights[s] and, unless gradCodes
   * is null, WRITES dL/d codes ([rows, frames, codeDim]: what AudioNet's backward takes, frame by frame).
   */
  backward(
    rowCounts: readonly number[],
    codes: Tensor<'f32'>,
    weights: readonly Tensor<'f32'>[],
    gradOut: Tensor<'f32'>,
    gradWeights: readonly Tensor<'f32'>[],
    gradCodes: Tensor<'f32'> | null,
  ): void {
    addon.audioAttNetBackward(
      codes.device === 'cuda' ? 1 : 0,
      { frames: this.frames, codeDim: this.codeDim },
      [...rowCounts],
      codes.native,
      weights.map((t) => t.native),
      gradOut.native,
      gradWeights.map((t) => t.native),
      gradCodes ? gradCodes.native : null,
    );
  }
}
