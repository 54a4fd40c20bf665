// The square cut from every frame: one fixed box for the whole clip, around where the head is on average. A fixed
// box is the steadiest choice and the right one for this model: the background stays still (so a background plate
// can be estimated) and all head motion is carried by the per-frame camera, as the paper's data are. The box is
// integer (ffmpeg crops whole pixels), inside the frame (shifted, or shrunk if the frame is too small, never padded:
// padding would add black borders that the model would have to learn).
import { MESH_POINTS } from './landmarks.js';

export interface CropBox {
  /** Top-left corner and side, source pixels. */
  x: number;
  y: number;
  size: number;
}

export interface CropOptions {
  /** Box side as a multiple of the face's extent (the mesh's bounding box, forehead to chin): 2.1 frames head and
   * shoulders as the paper's 512² clips do. */
  faceScale?: number;
  /** The box also covers the face's positions over the clip with this margin (fraction of the face extent). */
  motionMargin?: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Face bounding box of one frame's mesh points: [minX, minY, maxX, maxY]. */
function faceBounds(points: Float32Array): [number, number, number, number] {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < MESH_POINTS; i++) {
    const [x, y] = [points[2 * i] as number, points[2 * i + 1] as number];
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  return [minX, minY, maxX, maxY];
}

export function chooseCrop(
  landmarks: (Float32Array | null)[],
  width: number,
  height: number,
  options: CropOptions = {},
): CropBox {
  const bounds = landmarks.filter((l): l is Float32Array => l !== null).map(faceBounds);
  if (bounds.length === 0) throw new RangeError('chooseCrop: no frame has landmarks');
  const extent = median(bounds.map(([x0, y0, x1, y1]) => Math.max(x1 - x0, y1 - y0)));
  const cx = median(bounds.map(([x0, , x1]) => (x0 + x1) / 2));
  const cy = median(bounds.map(([, y0, , y1]) => (y0 + y1) / 2));
  // Cover the face wherever it goes: the farthest face edge from the centre, plus the margin.
  const margin = (options.motionMargin ?? 0.1) * extent;
  const reach = Math.max(...bounds.map(([x0, y0, x1, y1]) => Math.max(cx - x0, x1 - cx, cy - y0, y1 - cy)));
  const wanted = Math.max((options.faceScale ?? 2.1) * extent, 2 * (reach + margin));
  const size = Math.floor(Math.min(wanted, width, height));
  const clamp = (v: number, max: number) => Math.min(Math.max(0, Math.round(v)), max);
  return { x: clamp(cx - size / 2, width - size), y: clamp(cy - size / 2, height - size), size };
}

/** Source pixels -> pixels of the `out x out` crop (continuous coordinates, pixel i covering [i, i + 1)). */
export function toCropPixels(points: Float32Array, box: CropBox, out: number): Float32Array {
  const scale = out / box.size;
  return points.map((v, i) => (v - (i % 2 === 0 ? box.x : box.y)) * scale);
}
