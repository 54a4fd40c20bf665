// Evaluates an identity on a dataset's held-out frames (the paper's self-reconstruction setting): each test frame is
// rendered from its own audio, expression, pose and torso plate, and compared with the real frame: PSNR over the
// image and over the face, SSIM over the face, and the lip-landmark distance (LMD) measured by the preprocessing's
// own face tracker on both, with the mouth's opening on both (LMD alone cannot tell a mouth that moves too little
// from one that moves out of time: the opening's ratio and correlation can). The opening is measured a second time
// on renders with the head held still: a rendered mouth also seems to open and close as the head nods (the tracker
// and the perspective both see it), so only the pose-frozen opening tells whether the speech drives the mouth.
// Writes a contact sheet and a side-by-side video for a person to look at.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { loadIdentity } from '../identity/package.js';
import { startMp4Writer } from '../media/mp4-writer.js';
import { INNER_LIPS, OUTER_LIPS } from '../prepare/landmarks.js';
import type { DeviceKind } from '../tensor.js';
import { FrameGraph, type GraphPlan } from '../train/frame-graph.js';
import { ModelParams } from '../train/model-params.js';
import { TrainingData, type TrainingFrame } from '../train/training-data.js';
import { pearson } from './correlation.js';
import { psnr, ssim } from './image-metrics.js';

/** The 40 lip points LMD averages over. */
const LIP_POINTS = [...OUTER_LIPS, ...INNER_LIPS];
/** Inner-lip midpoints, upper and lower: their distance is the mouth's opening. */
const UPPER_INNER = 13;
const LOWER_INNER = 14;

const RENDER_PLAN: GraphPlan = {
  faceMotion: true,
  mouth: true,
  aligner: false,
  face: 'none',
  mouthTraining: 'none',
  audio: false,
  faceTarget: false,
};

export interface EvalOptions {
  identity: string;
  dataset: string;
  device: DeviceKind;
  /** Square evaluation size (default: the dataset's). */
  size?: number;
  /** Directory for eval.json, contact-sheet.png and side-by-side.mp4 (none written when absent). */
  out?: string;
  /** Skip the landmark distance (it runs the face tracker on every frame twice). */
  landmarks?: boolean;
  /** Write side-by-side.mp4 with `out` (needs ffmpeg; default true). */
  video?: boolean;
  maxFrames?: number;
}

export interface FrameScore {
  t: number;
  psnr: number;
  psnrFace: number;
  ssimFace: number;
  /** Mean lip-landmark distance in pixels at the dataset's size, null where a face was not found. */
  lmd: number | null;
  /**
   * Inner-lip opening on the real frame, on the render, and on the render with the head held at the first test
   * frame's pose (null where the tracker lost that face), in pixels at the dataset's size; null as lmd.
   */
  mouthOpening: { real: number; rendered: number; poseFrozen: number | null } | null;
}

/** Mean, standard deviation through time, and correlation with the real opening of one series of openings. */
export interface OpeningSeries {
  mean: number;
  spread: number;
  /** Pearson correlation with the real opening over the same frames (null below three frames or no variation). */
  correlation: number | null;
}

export interface EvalResult {
  identity: string;
  dataset: string;
  frames: number;
  size: number;
  psnr: number;
  psnrFace: number;
  ssimFace: number;
  /** Mean over the frames where both faces were found; null if none or skipped. */
  lmd: number | null;
  lmdFrames: number;
  /**
   * Over the frames LMD used: the real mouth's opening (mean, spread), the rendered one's (mean, spread and
   * correlation with the real through time), the same for the pose-frozen render over the frames where it was found
   * (null if none), and (for the reading) `real`, `rendered` and `correlation` as before; null when LMD is.
   */
  mouthOpening: {
    real: number;
    rendered: number;
    correlation: number | null;
    realSpread: number;
    renderedSpread: number;
    poseFrozen: OpeningSeries | null;
  } | null;
  perFrame: FrameScore[];
  files: { report?: string; contactSheet?: string; video?: string };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const spread = (values: number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
};

/** One series of openings against the real ones of the same frames. */
function openingSeries(pairs: { real: number; opening: number }[]): OpeningSeries {
  const openings = pairs.map((p) => p.opening);
  return {
    mean: mean(openings),
    spread: spread(openings),
    correlation: pearson(
      pairs.map((p) => p.real),
      openings,
    ),
  };
}

export async function evaluateIdentity(options: EvalOptions): Promise<EvalResult> {
  const identity = await loadIdentity(options.identity);
  const m = identity.manifest;
  const data = await TrainingData.load(options.dataset, {
    device: options.device,
    size: options.size ?? m.render.width,
    model: m.model,
    part: 'test',
    ...(options.maxFrames !== undefined ? { maxFrames: options.maxFrames } : {}),
  });
  const size = data.size;
  const params = new ModelParams(options.device, m.model, identity.weights, m.gaussians);
  const graph = new FrameGraph(options.device, m.model, size);
  const render = (frame: TrainingFrame) =>
    Uint8Array.from(graph.forward(params, frame, RENDER_PLAN, false).read(), (v) =>
      Math.round(Math.min(1, Math.max(0, v)) * 255),
    );
  // The head held still: every frame seen through the first test frame's camera (the data owns that tensor).
  const stillCamera = (data.frames[0] as TrainingFrame).camera;
  try {
    const renders = data.frames.map(render);
    const lips =
      options.landmarks === false
        ? null
        : await lipMeasures(data, renders, (frame) => render({ ...frame, camera: stillCamera }));
    const scale = data.manifest.size / size;
    const perFrame = data.frames.map((f, k): FrameScore => {
      const r = renders[k] as Uint8Array;
      return {
        t: f.t,
        psnr: psnr(r, f.host.target),
        psnrFace: psnr(r, f.host.target, f.host.face),
        ssimFace: ssim(r, f.host.target, size, f.host.face),
        lmd: lips?.[k] ? lips[k].lmd * scale : null,
        mouthOpening: lips?.[k]
          ? {
              real: lips[k].openingReal * scale,
              rendered: lips[k].openingRendered * scale,
              poseFrozen: lips[k].openingPoseFrozen === null ? null : lips[k].openingPoseFrozen * scale,
            }
          : null,
      };
    });
    const found = perFrame.map((f) => f.lmd).filter((v): v is number => v !== null);
    const openings = perFrame.flatMap((f) => (f.mouthOpening ? [f.mouthOpening] : []));
    const moving = openingSeries(openings.map((o) => ({ real: o.real, opening: o.rendered })));
    const still = openings.flatMap((o) => (o.poseFrozen === null ? [] : [{ real: o.real, opening: o.poseFrozen }]));
    const result: EvalResult = {
      identity: options.identity,
      dataset: options.dataset,
      frames: perFrame.length,
      size,
      psnr: mean(perFrame.map((f) => f.psnr)),
      psnrFace: mean(perFrame.map((f) => f.psnrFace)),
      ssimFace: mean(perFrame.map((f) => f.ssimFace)),
      lmd: found.length > 0 ? mean(found) : null,
      lmdFrames: found.length,
      mouthOpening:
        openings.length > 0
          ? {
              real: mean(openings.map((o) => o.real)),
              rendered: moving.mean,
              correlation: moving.correlation,
              realSpread: spread(openings.map((o) => o.real)),
              renderedSpread: moving.spread,
              poseFrozen: still.length > 0 ? openingSeries(still) : null,
            }
          : null,
      perFrame,
      files: {},
    };
    if (options.out) {
      await mkdir(options.out, { recursive: true });
      result.files.contactSheet = path.join(options.out, 'contact-sheet.png');
      await writeFile(result.files.contactSheet, contactSheet(data, renders));
      if (options.video !== false) {
        result.files.video = path.join(options.out, 'side-by-side.mp4');
        await sideBySideVideo(result.files.video, data, renders);
      }
      result.files.report = path.join(options.out, 'eval.json');
      await writeFile(result.files.report, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    graph.dispose();
    params.dispose();
    data.dispose();
  }
}

interface LipMeasure {
  /** Mean distance between the lip landmarks of the render and of the real frame. */
  lmd: number;
  openingReal: number;
  openingRendered: number;
  /** On the pose-frozen render, null where the tracker found no face there. */
  openingPoseFrozen: number | null;
}

const distance = (P: Float32Array, i: number, Q: Float32Array, j: number) =>
  Math.hypot((P[2 * i] as number) - (Q[2 * j] as number), (P[2 * i + 1] as number) - (Q[2 * j + 1] as number));

/**
 * Per frame, in eval pixels: the lips found on the render and on the real frame compared, and the opening on the
 * pose-frozen render (made here, one at a time: a second set of whole renders would double the memory), or null.
 */
async function lipMeasures(
  data: TrainingData,
  renders: Uint8Array[],
  renderStill: (frame: TrainingFrame) => Uint8Array,
): Promise<(LipMeasure | null)[]> {
  const size = data.size;
  // Loaded only when asked for: the tracker brings the face models and their WebAssembly runtime.
  const { FaceTracker } = await import('../prepare/tracker.js');
  // One tracker per stream of frames: a tracker follows its face from one frame to the next.
  const real = await FaceTracker.create();
  const rendered = await FaceTracker.create();
  const still = await FaceTracker.create();
  const out: (LipMeasure | null)[] = [];
  for (const [k, f] of data.frames.entries()) {
    const a = await real.track({ width: size, height: size, rgb: f.host.target });
    const b = await rendered.track({ width: size, height: size, rgb: renders[k] as Uint8Array });
    const c = await still.track({ width: size, height: size, rgb: renderStill(f) });
    if (!a.landmarks || !b.landmarks) {
      out.push(null);
      continue;
    }
    const A = a.landmarks;
    const B = b.landmarks;
    out.push({
      lmd: mean(LIP_POINTS.map((i) => distance(A, i, B, i))),
      openingReal: distance(A, UPPER_INNER, A, LOWER_INNER),
      openingRendered: distance(B, UPPER_INNER, B, LOWER_INNER),
      openingPoseFrozen: c.landmarks ? distance(c.landmarks, UPPER_INNER, c.landmarks, LOWER_INNER) : null,
    });
  }
  return out;
}

/** Up to 8 evenly spaced test frames: real on top, rendered below, their difference (x4) at the bottom. */
function contactSheet(data: TrainingData, renders: Uint8Array[]): Buffer {
  const size = data.size;
  const columns = Math.min(8, renders.length);
  const picks = Array.from({ length: columns }, (_, c) => Math.floor(((c + 0.5) * renders.length) / columns));
  const png = new PNG({ width: columns * size, height: 3 * size });
  picks.forEach((k, c) => {
    const real = (data.frames[k] as (typeof data.frames)[number]).host.target;
    const render = renders[k] as Uint8Array;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const p = 3 * (y * size + x);
        const put = (row: number, rgb: (ch: number) => number) => {
          const q = 4 * ((row * size + y) * png.width + c * size + x);
          for (let ch = 0; ch < 3; ch++) png.data[q + ch] = rgb(ch);
          png.data[q + 3] = 255;
        };
        put(0, (ch) => real[p + ch] as number);
        put(1, (ch) => render[p + ch] as number);
        put(2, (ch) => Math.min(255, 4 * Math.abs((real[p + ch] as number) - (render[p + ch] as number))));
      }
  });
  return PNG.sync.write(png);
}

/** Real | rendered, every test frame, with the test frames' own speech. */
async function sideBySideVideo(file: string, data: TrainingData, renders: Uint8Array[]): Promise<void> {
  const size = data.size;
  const first = (data.frames[0] as (typeof data.frames)[number]).t;
  const writer = startMp4Writer({
    out: file,
    audio: path.join(data.reader.dir, data.manifest.audio.wav),
    audioOffset: first / 25,
    width: 2 * size,
    height: size,
    pixels: 'rgb24',
  });
  try {
    for (const [k, f] of data.frames.entries()) {
      const frame = new Uint8Array(2 * size * size * 3);
      for (let y = 0; y < size; y++) {
        frame.set(f.host.target.subarray(3 * y * size, 3 * (y + 1) * size), 3 * y * 2 * size);
        frame.set((renders[k] as Uint8Array).subarray(3 * y * size, 3 * (y + 1) * size), 3 * (y * 2 + 1) * size);
      }
      await writer.write(frame);
    }
    await writer.close();
  } catch (error) {
    writer.abort();
    throw error;
  }
}
