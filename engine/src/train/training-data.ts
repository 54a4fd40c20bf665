// A prepared dataset (docs/dataset-format.md) on the training device at the training size: per frame the target
// image, the face-stage target, the torso plate, the camera, the expression and the audio windows, laid out
// exactly as the renderer receives them at serve time (same FeatureWindow and attention layout), so what is
// trained is what is streamed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FeatureWindow } from '../audio/feature-window.js';
import { decodeSafetensors } from '../identity/safetensors.js';
import type { ModelConfig } from '../model/config.js';
import { CAMERA_STRIDE } from '../ops/rasterizer.js';
import { loadCanonicalFace } from '../prepare/canonical-face.js';
import { DatasetFormatError } from '../prepare/dataset-manifest.js';
import { DatasetReader } from '../prepare/dataset-reader.js';
import { audioWindowsAt } from '../render/audio-windows.js';
import { resizeImage } from '../render/resize.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import { renderMeshPrior } from './geometry-prior.js';
import { lipWeightMap } from './lip-weights.js';

/** Frames loaded at once: four images each, enough to keep a 16-thread decoder pool busy. */
const LOADS_IN_FLIGHT = 8;

/** One frame's inputs and targets, on the device. */
export interface TrainingFrame {
  /** Dataset frame index. */
  t: number;
  /** [1, H, W, 3] the ground truth, 0..1. */
  target: Tensor<'f32'>;
  /**
   * [1, H, W, 3] what the face branch alone must produce: the ground truth, with the inside of the mouth replaced by
   * the plate (the face must be transparent where teeth and tongue show, so that the mouth branch shows through).
   */
  faceTarget: Tensor<'f32'>;
  /** [H, W, 3] torso over background. */
  plate: Tensor<'u8'>;
  /** [1, CAMERA_STRIDE] */
  camera: Tensor<'f32'>;
  /** [1, expressionDim] */
  expression: Tensor<'f32'>;
  /** [attentionFrames, window, featureDim] */
  windows: Tensor<'f32'>;
  /** [1, H, W, 4] the geometry prior (normal, depth; geometry-prior.ts), when loaded with `geometry`. */
  geometry: Tensor<'f32'> | null;
  /** [1, H, W] the photometric loss's per-pixel weights (lip-weights.ts), when loaded with a `lipWeight`. */
  lossWeight: Tensor<'f32'> | null;
  /** Camera intrinsics at the training size (also in `camera`, on the device). */
  intrinsics: { fx: number; fy: number; cx: number; cy: number };
  /** Host copies for evaluation: masks (size H*W, 0..255) and the ground truth (H*W*3 bytes). */
  host: { target: Uint8Array; face: Uint8Array; mouth: Uint8Array; landmarks: Float32Array };
  /** AU25 stand-in (0..5), for sampling frames by mouth openness. */
  mouthOpen: number;
}

export interface TrainingDataOptions {
  device: DeviceKind;
  /** Square training size (the dataset's size divided by a whole factor trains fastest and cleanest). */
  size: number;
  model: ModelConfig;
  part: 'train' | 'test';
  /** Use at most this many frames from the start of the part (tests and quick runs). */
  maxFrames?: number;
  /** Also render each frame's geometry prior from its face mesh (adaptation's geometry regulariser). */
  geometry?: boolean;
  /** Extra loss weight on the lips (lip-weights.ts); 0 or absent: every pixel weighs the same. */
  lipWeight?: number;
}

export class TrainingData {
  private constructor(
    readonly reader: DatasetReader,
    readonly size: number,
    readonly frames: TrainingFrame[],
    /** Intrinsics at the training size. */
    readonly intrinsics: { fx: number; fy: number; cx: number; cy: number },
  ) {}

  static async load(dir: string, options: TrainingDataOptions): Promise<TrainingData> {
    const reader = await DatasetReader.open(dir);
    const m = reader.manifest;
    const { size, model, device } = options;
    if (!Number.isInteger(size) || size < 16 || size % 2 || size > m.size)
      throw new RangeError(`training size ${size}: must be even, 16..${m.size} (the dataset's size)`);
    const audio = model.audio;
    if (audio.feature !== 'log-mel')
      throw new DatasetFormatError("training from an ONNX encoder's features is not supported yet: use log-mel");
    if (audio.featureDim !== m.audio.logMel.featureDim || audio.featureRate !== m.audio.logMel.featureRate)
      throw new DatasetFormatError(
        `the model wants ${audio.featureDim}-d features at ${audio.featureRate}/s, the dataset has ${m.audio.logMel.featureDim}-d at ${m.audio.logMel.featureRate}/s`,
      );
    const features = new FeatureWindow(audio);
    features.append(await logMel(dir, m.audio.logMel.file, m.audio.logMel.tensor));
    features.end();
    const scale = size / m.size;
    const k = m.camera.intrinsics;
    const intrinsics = { fx: k.fx * scale, fy: k.fy * scale, cx: k.cx * scale, cy: k.cy * scale };
    const indices = reader.frames(options.part).slice(0, options.maxFrames ?? Number.POSITIVE_INFINITY);
    if (indices.length === 0) throw new DatasetFormatError(`the dataset has no usable ${options.part} frames`);
    const triangles = options.geometry ? (await loadCanonicalFace()).triangles : null;
    const lipWeight = options.lipWeight ?? 0;
    const frames = await loadAll(indices, (t) =>
      loadFrame(reader, t, size, device, intrinsics, features, triangles, lipWeight),
    );
    return new TrainingData(reader, size, frames, intrinsics);
  }

  get manifest() {
    return this.reader.manifest;
  }

  dispose(): void {
    for (const f of this.frames) disposeFrame(f);
    this.frames.length = 0;
  }
}

async function logMel(dir: string, file: string, name: string): Promise<Float32Array> {
  const full = path.join(dir, file);
  const bytes = await readFile(full).catch(() => {
    throw new DatasetFormatError(`${full} is missing or unreadable`);
  });
  const tensor = decodeSafetensors(bytes).tensors.get(name);
  if (tensor?.dtype !== 'F32') throw new DatasetFormatError(`${full} has no F32 tensor "${name}"`);
  return tensor.data as Float32Array;
}

/**
 * Loads the frames several at a time, so that the decoder pool's threads all have images to decode, and keeps their
 * order. On a failure it waits for the loads in flight, frees every loaded frame and throws the first error.
 */
async function loadAll(indices: number[], load: (t: number) => Promise<TrainingFrame>): Promise<TrainingFrame[]> {
  const frames: (TrainingFrame | undefined)[] = new Array(indices.length);
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < indices.length) {
      const k = next++;
      try {
        frames[k] = await load(indices[k] as number);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOADS_IN_FLIGHT, indices.length) }, lane));
  if (failure !== undefined) {
    for (const f of frames) if (f) disposeFrame(f);
    throw failure;
  }
  return frames as TrainingFrame[];
}

async function loadFrame(
  reader: DatasetReader,
  t: number,
  size: number,
  device: DeviceKind,
  intrinsics: TrainingData['intrinsics'],
  features: FeatureWindow,
  triangles: Uint32Array | null,
  lipWeight: number,
): Promise<TrainingFrame> {
  const m = reader.manifest;
  const f = m.frames[t];
  if (!f?.pose || !f.expression || !f.landmarks || f.mouthOpen === null)
    throw new DatasetFormatError(`frame ${t} has no pose, expression or landmarks`);
  const shrink = (image: Uint8Array, channels: number) => resizeImage(image, channels, m.size, m.size, size, size);
  const [rgb, plate, mouth, face] = await Promise.all([
    reader.frame(t).then((x) => shrink(x, 3)),
    reader.torsoPlate(t).then((x) => shrink(x, 3)),
    reader.mask(t, 'mouth').then((x) => shrink(x, 1)),
    reader.mask(t, 'face').then((x) => shrink(x, 1)),
  ]);
  const target = new Float32Array(rgb.length);
  const faceTarget = new Float32Array(rgb.length);
  for (let p = 0; p < size * size; p++) {
    const inside = (mouth[p] as number) / 255;
    for (let c = 0; c < 3; c++) {
      const gt = (rgb[3 * p + c] as number) / 255;
      target[3 * p + c] = gt;
      faceTarget[3 * p + c] = gt * (1 - inside) + ((plate[3 * p + c] as number) / 255) * inside;
    }
  }
  const camera = new Float32Array(CAMERA_STRIDE);
  camera.set(f.pose);
  camera.set([intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy], 16);
  const a = features.audio;
  const frames = a.attentionBefore + 1 + a.attentionAfter;
  const scale = size / m.size;
  const tensors: Tensor[] = [];
  const make = <T extends Tensor>(tensor: T): T => {
    tensors.push(tensor);
    return tensor;
  };
  const landmarks = Float32Array.from(f.landmarks, (v) => v * scale);
  try {
    const geometry = triangles
      ? renderMeshPrior({ landmarks, pose: f.pose, vertices: m.canonicalFace, triangles, intrinsics, size })
      : null;
    return {
      t,
      target: make(Tensor.from(device, 'f32', [1, size, size, 3], target)),
      faceTarget: make(Tensor.from(device, 'f32', [1, size, size, 3], faceTarget)),
      plate: make(Tensor.from(device, 'u8', [size, size, 3], plate)),
      camera: make(Tensor.from(device, 'f32', [1, CAMERA_STRIDE], camera)),
      expression: make(Tensor.from(device, 'f32', [1, f.expression.length], Float32Array.from(f.expression))),
      windows: make(Tensor.from(device, 'f32', [frames, a.window, a.featureDim], audioWindowsAt(features, t))),
      geometry: geometry ? make(Tensor.from(device, 'f32', [1, size, size, 4], geometry)) : null,
      lossWeight:
        lipWeight > 0
          ? make(Tensor.from(device, 'f32', [1, size, size], lipWeightMap(landmarks, size, lipWeight)))
          : null,
      intrinsics,
      host: { target: rgb, face, mouth, landmarks },
      mouthOpen: f.mouthOpen,
    };
  } catch (error) {
    for (const x of tensors) x.dispose();
    throw error;
  }
}

function disposeFrame(f: TrainingFrame): void {
  for (const x of [f.target, f.faceTarget, f.plate, f.camera, f.expression, f.windows]) x.dispose();
  f.geometry?.dispose();
  f.lossWeight?.dispose();
}
