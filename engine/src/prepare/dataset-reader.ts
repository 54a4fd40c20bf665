// Reads a prepared dataset (docs/dataset-format.md, "Reading a dataset") for training: the validated manifest, and
// per frame its RGB pixels, its masks and its torso-over-background plate, decoded from the PNG files into plain
// typed arrays at the dataset size, so that training never decodes images itself. Every file is checked against the
// manifest (size, channels) and a missing or wrong one is a DatasetFormatError naming it.
import path from 'node:path';
import {
  BACKGROUND_PLATE,
  DatasetFormatError,
  type DatasetManifest,
  FRAMES_DIR,
  frameFile,
  MASKS_DIR,
  readDatasetManifest,
  TORSO_PLATES_DIR,
} from './dataset-manifest.js';
import { type FrameMasks, MASK_KINDS, type MaskKind } from './masks.js';
import { PngDecodeError, pngDecoders } from './png-decoder.js';

export type { FrameMasks, MaskKind };

/** RGB bytes (size x size x 3, row-major) to floats in 0..1, the form the training loss compares. */
export function rgbToFloat(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = (rgb[i] as number) / 255;
  return out;
}

export class DatasetReader {
  private plate: Promise<Uint8Array> | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
  ) {}

  /** Opens `dir`, reading and validating its dataset.json (readDatasetManifest). */
  static async open(dir: string): Promise<DatasetReader> {
    return new DatasetReader(dir, await readDatasetManifest(dir));
  }

  /** Frames, masks and plates are size x size. */
  get size(): number {
    return this.manifest.size;
  }

  /** Frames usable for training or testing: the split's range without the dropped frames. */
  frames(part: 'train' | 'test'): number[] {
    const [first, end] = this.manifest.split[part];
    const out: number[] = [];
    for (let t = first; t < end; t++) if (this.manifest.frames[t]?.status !== 'dropped') out.push(t);
    return out;
  }

  /** Frame `t` as RGB bytes, size x size x 3. */
  async frame(t: number): Promise<Uint8Array> {
    return this.image(path.join(FRAMES_DIR, frameFile(this.index(t))), 3);
  }

  /** One mask of frame `t`, size x size bytes. */
  async mask(t: number, kind: MaskKind): Promise<Uint8Array> {
    if (!MASK_KINDS.includes(kind)) throw new RangeError(`no mask "${kind}"; the masks are ${MASK_KINDS.join(', ')}`);
    return this.image(path.join(MASKS_DIR, kind, frameFile(this.index(t))), 1);
  }

  /** Every mask of frame `t`. */
  async masks(t: number): Promise<FrameMasks> {
    const all = await Promise.all(MASK_KINDS.map((kind) => this.mask(t, kind)));
    return Object.fromEntries(MASK_KINDS.map((kind, k) => [kind, all[k]])) as FrameMasks;
  }

  /** The background plate, RGB bytes (read once, then shared: do not modify it). */
  background(): Promise<Uint8Array> {
    this.plate ??= this.image(BACKGROUND_PLATE, 3);
    return this.plate;
  }

  /** Frame `t`'s torso over the background plate (what the head is composited on), RGB bytes. */
  async torsoPlate(t: number): Promise<Uint8Array> {
    return this.image(path.join(TORSO_PLATES_DIR, frameFile(this.index(t))), 3);
  }

  private index(t: number): number {
    if (!Number.isInteger(t) || t < 0 || t >= this.manifest.frameCount)
      throw new RangeError(`frame ${t} is outside the dataset's 0..${this.manifest.frameCount - 1}`);
    return t;
  }

  /** Decodes `file` (relative to the dataset) to `channels` bytes per pixel at the dataset size, on the decoder pool. */
  private async image(file: string, channels: 1 | 3): Promise<Uint8Array> {
    const full = path.join(this.dir, file);
    const png = await pngDecoders()
      .decode(full, channels)
      .catch((error: Error) => {
        throw error instanceof PngDecodeError ? new DatasetFormatError(error.message) : error;
      });
    const size = this.manifest.size;
    if (png.width !== size || png.height !== size)
      throw new DatasetFormatError(`${full} is ${png.width}x${png.height}; the dataset's images are ${size}x${size}`);
    return png.data;
  }
}
