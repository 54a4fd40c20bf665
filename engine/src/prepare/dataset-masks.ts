// The masks and plates of a dataset whose frames are written. Segmentation is the slowest step of preprocessing and
// the tfjs WASM backend is single-threaded in Node, so the clip is cut into contiguous ranges, one per worker thread
// (each its own matting model, run over its range in order, as the recurrent model needs): each range's frames are
// segmented, their masks built and written, and every k-th frame kept for the background plate. Then the plate is
// estimated and a second pass composes the torso plates from the frames, their torso masks and the plate.
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PNG } from 'pngjs';
import { BACKGROUND_PLATE, FRAMES_DIR, MASKS_DIR, TORSO_PLATES_DIR } from './dataset-manifest.js';
import { PrepareError } from './errors.js';
import { ImageSequenceWriter, readImageSequence } from './image-sequence.js';
import { MASK_KINDS, MaskBuilder } from './masks.js';
import { type BackgroundSample, backgroundSample, estimateBackground, torsoPlate } from './plates.js';
import { PersonSegmenter, type SegmentationOptions } from './segmentation.js';

export interface MaskOptions {
  segmentation?: SegmentationOptions;
  /** Frames sampled, spread evenly over the clip, for the background plate (default 32). */
  plateSamples?: number;
  /** Worker threads segmenting in parallel (default: the CPU count, at most 4; 1 runs on this thread). */
  workers?: number;
}

export interface MaskReport {
  /** Fraction of the background plate's pixels seen as background in some sampled frame (the rest is filled). */
  backgroundSeen: number;
  /** How much the background changes over the clip (estimateBackground's `change`, of 255). */
  backgroundChange: number;
  /** Seconds spent segmenting and writing the masks, and estimating and writing the plates. */
  seconds: { masks: number; plates: number };
}

type Progress = (stage: string, done?: number, total?: number) => void;

/** One range of frames to segment and mask: what a worker is given. */
export interface MaskJob {
  dir: string;
  size: number;
  first: number;
  /** Landmarks of frames first.. (pixels), null where dropped. */
  landmarks: (Float32Array | null)[];
  /** Frames whose index is a multiple of this are background samples. */
  stride: number;
  segmentation: SegmentationOptions;
}

/** Frames the matting model sees before a range's first frame. */
const WARMUP = 8;

/**
 * RVM carries a memory from frame to frame: started cold, its first mattes are poorer for several frames, and
 * where two workers' ranges meet they would differ. So it first sees the WARMUP frames just before the range (at
 * the clip's start, the range's next frames in reverse, so the last one seen is next to frame 0).
 */
async function warmUp(segmenter: PersonSegmenter, job: MaskJob): Promise<void> {
  const { dir, size, first, landmarks } = job;
  const before = Math.min(WARMUP, first);
  const [from, count] = before > 0 ? [first - before, before] : [first + 1, Math.min(WARMUP, landmarks.length - 1)];
  const frames: Uint8Array[] = [];
  for await (const rgb of readImageSequence(path.join(dir, FRAMES_DIR), size, 'rgb24', from, count)) frames.push(rgb);
  if (before === 0) frames.reverse();
  for (const rgb of frames) await segmenter.segment({ width: size, height: size, rgb });
}

/** Segments, masks and writes the job's frames; returns its background samples. */
export async function maskRange(job: MaskJob, onFrame: () => void): Promise<BackgroundSample[]> {
  const { dir, size, first, landmarks } = job;
  const segmenter = await PersonSegmenter.create(job.segmentation);
  const writers = await Promise.all(
    MASK_KINDS.map((kind) => ImageSequenceWriter.open(path.join(dir, MASKS_DIR, kind), size, 'gray', first)),
  );
  const builder = new MaskBuilder(size);
  const samples: BackgroundSample[] = [];
  let closed = false;
  try {
    await warmUp(segmenter, job);
    let t = 0;
    for await (const rgb of readImageSequence(path.join(dir, FRAMES_DIR), size, 'rgb24', first, landmarks.length)) {
      const person = await segmenter.segment({ width: size, height: size, rgb });
      const masks = builder.build(person, landmarks[t] ?? null, rgb);
      await Promise.all(MASK_KINDS.map((kind, k) => writers[k]?.write(masks[kind])));
      if ((first + t) % job.stride === 0) samples.push(backgroundSample(rgb, masks.background, size));
      t++;
      onFrame();
    }
    if (t !== landmarks.length)
      throw new PrepareError(`read ${t} frames from ${FRAMES_DIR} at ${first}, expected ${landmarks.length}`);
    await Promise.all(writers.map((w) => w.close()));
    closed = true;
    return samples;
  } finally {
    if (!closed) for (const w of writers) w.abort();
    segmenter.dispose();
  }
}

/** Runs a job on a worker thread (mask-worker, in the same form, .js or .ts, as this module). */
function maskRangeInWorker(job: MaskJob, onFrame: () => void): Promise<BackgroundSample[]> {
  const here = fileURLToPath(import.meta.url);
  const worker = new Worker(path.join(path.dirname(here), `mask-worker${path.extname(here)}`), { workerData: job });
  return new Promise((resolve, reject) => {
    let result: BackgroundSample[] | undefined;
    worker.on(
      'message',
      (message: { frame?: true; samples?: BackgroundSample[]; error?: string; prepare?: boolean }) => {
        if (message.frame) onFrame();
        if (message.samples) result = message.samples;
        if (message.error) reject(message.prepare ? new PrepareError(message.error) : new Error(message.error));
      },
    );
    worker.on('error', reject);
    worker.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the segmentation worker stopped (exit code ${code})`)),
    );
  });
}

/** Writes `rgb` (size x size) as an 8-bit RGB PNG. */
async function writeRgbPng(file: string, rgb: Uint8Array, size: number): Promise<void> {
  const png = new PNG({ width: size, height: size, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** Torso plates: each frame's torso over the background plate. */
async function writeTorsoPlates(dir: string, size: number, frames: number, plate: Uint8Array, progress: Progress) {
  const writer = await ImageSequenceWriter.open(path.join(dir, TORSO_PLATES_DIR), size, 'rgb24');
  const torsoMasks = readImageSequence(path.join(dir, MASKS_DIR, 'torso'), size, 'gray');
  let closed = false;
  try {
    let t = 0;
    for await (const rgb of readImageSequence(path.join(dir, FRAMES_DIR), size, 'rgb24')) {
      const torso = await torsoMasks.next();
      if (torso.done) throw new PrepareError(`${MASKS_DIR}/torso has fewer frames than ${FRAMES_DIR}`);
      await writer.write(torsoPlate(rgb, torso.value, plate));
      progress('plates', ++t, frames);
    }
    if (t !== frames) throw new PrepareError(`read ${t} frames from ${FRAMES_DIR} for the plates, expected ${frames}`);
    await writer.close();
    closed = true;
  } finally {
    if (!closed) writer.abort();
    await torsoMasks.return(undefined);
  }
}

/** Writes masks/, plates/background.png and plates/torso/ into the dataset directory `dir` (frames written). */
export async function writeMasksAndPlates(
  dir: string,
  size: number,
  landmarks: (Float32Array | null)[],
  options: MaskOptions = {},
  progress: Progress = () => {},
): Promise<MaskReport> {
  const frames = landmarks.length;
  const workers = Math.max(
    1,
    Math.min(options.workers ?? Math.min(4, availableParallelism()), Math.floor(frames / 25)),
  );
  const stride = Math.max(1, Math.ceil(frames / (options.plateSamples ?? 32)));
  let done = 0;
  const onFrame = () => progress('masks', ++done, frames);
  const jobs = Array.from({ length: workers }, (_, k): MaskJob => {
    const [first, end] = [Math.round((k * frames) / workers), Math.round(((k + 1) * frames) / workers)];
    return {
      dir,
      size,
      first,
      landmarks: landmarks.slice(first, end),
      stride,
      segmentation: options.segmentation ?? {},
    };
  });
  const started = performance.now();
  const settled = await Promise.allSettled(
    jobs.map((job) => (workers === 1 ? maskRange(job, onFrame) : maskRangeInWorker(job, onFrame))),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const samples = settled.flatMap((r) => (r as PromiseFulfilledResult<BackgroundSample[]>).value);
  progress('background plate');
  const masked = performance.now();
  const plate = estimateBackground(samples, size);
  await writeRgbPng(path.join(dir, BACKGROUND_PLATE), plate.rgb, size);
  await writeTorsoPlates(dir, size, frames, plate.rgb, progress);
  return {
    backgroundSeen: plate.seenFraction,
    backgroundChange: plate.change,
    seconds: { masks: (masked - started) / 1000, plates: (performance.now() - masked) / 1000 },
  };
}
