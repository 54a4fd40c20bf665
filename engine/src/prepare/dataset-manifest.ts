// The dataset manifest (dataset.json): schema, types, reader. docs/dataset-format.md documents every key.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../identity/manifest.js';
import { AU_MAX, BLINK_MAX, EXPRESSION_DEFINITION } from './expression.js';
import { LANDMARKS } from './landmarks.js';
import { MASK_KINDS } from './masks.js';

export const DATASET_FORMAT_VERSION = 1;
export const DATASET_FILE = 'dataset.json';
export const FRAMES_DIR = 'frames';
export const WAV_FILE = 'audio/speech.wav';
export const LOG_MEL_FILE = 'audio/log-mel.safetensors';
export const CONTACT_SHEET = 'contact-sheet.png';
export const MASKS_DIR = 'masks';
export const BACKGROUND_PLATE = 'plates/background.png';
export const TORSO_PLATES_DIR = 'plates/torso';
export const ENCODER_FILE = 'audio/encoder.safetensors';
/** Per-frame file name: the index, six digits. */
export const frameFile = (t: number): string => `${String(t).padStart(6, '0')}.png`;

const count = z.int().nonnegative();
const positive = z.number().positive();
const range = z.tuple([count, count]);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (SHA-256)');

const au = z.number().min(0).max(AU_MAX);

const frameSchema = z.strictObject({
  status: z.enum(['tracked', 'interpolated', 'dropped']),
  crop: z.tuple([z.number(), z.number(), positive]),
  pose: z.array(z.number()).length(16).nullable(),
  landmarks: z
    .array(z.number())
    .length(2 * LANDMARKS)
    .nullable(),
  faceScore: z.number().min(0).max(1).nullable(),
  expression: z.tuple([au, au, au, au, au, z.number().min(0).max(BLINK_MAX)]).nullable(),
  mouthOpen: z.number().min(0).max(AU_MAX).nullable(),
});

export const datasetSchema = z.strictObject({
  formatVersion: z.literal(DATASET_FORMAT_VERSION),
  kind: z.literal('splatcast-dataset'),
  createdAt: z.iso.datetime({ offset: true }),
  source: z.strictObject({
    name: z.string().min(1),
    sha256,
    bytes: count,
    container: z.string(),
    videoCodec: z.string(),
    width: z.int().positive(),
    height: z.int().positive(),
    rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
    fps: z.number().nonnegative(),
    duration: positive,
    audioCodec: z.string(),
    audioSampleRate: z.int().positive(),
    audioChannels: z.int().positive(),
  }),
  used: z.strictObject({ seconds: positive }),
  tools: z.record(z.string().min(1), z.string().min(1)),
  fps: z.literal(25),
  size: z.int().min(64),
  frameCount: z.int().min(75),
  crop: z.strictObject({ x: z.int().nonnegative(), y: z.int().nonnegative(), size: z.int().positive() }),
  camera: z.strictObject({
    intrinsics: z.strictObject({ fx: positive, fy: positive, cx: z.number(), cy: z.number() }),
    focalRange: z.tuple([positive, positive]),
  }),
  canonicalFace: z.array(z.number()).length(468 * 3),
  landmarkLayout: z.literal('mediapipe-478'),
  audio: z.strictObject({
    wav: z.literal(WAV_FILE),
    samples: count,
    logMel: z.strictObject({
      file: z.literal(LOG_MEL_FILE),
      tensor: z.literal('log_mel'),
      steps: count,
      featureDim: z.literal(80),
      featureRate: z.literal(50),
      window: z.int().positive(),
      windowAhead: z.int().nonnegative(),
    }),
    encoder: z
      .strictObject({
        file: z.literal(ENCODER_FILE),
        tensor: z.literal('features'),
        kind: z.literal('onnx'),
        model: z.string().min(1),
        sha256,
        steps: count,
        featureDim: z.int().positive(),
        featureRate: z.literal(50),
      })
      .nullable(),
    voice: z.strictObject({
      speechFraction: z.number().min(0).max(1),
      minSpeechFraction: z.number().min(0).max(1),
    }),
  }),
  split: z.strictObject({ train: range, test: range }),
  tracking: z.strictObject({
    tracked: count,
    interpolated: count,
    dropped: count,
    droppedRanges: z.array(range),
    maxFaces: count,
    multiFaceFrames: count,
  }),
  reprojection: z.strictObject({ meanPx: z.number().nonnegative(), maxPx: z.number().nonnegative() }),
  masks: z.strictObject({
    dir: z.literal(MASKS_DIR),
    kinds: z.tuple([
      z.literal(MASK_KINDS[0]),
      z.literal(MASK_KINDS[1]),
      z.literal(MASK_KINDS[2]),
      z.literal(MASK_KINDS[3]),
      z.literal(MASK_KINDS[4]),
    ]),
  }),
  plates: z.strictObject({
    background: z.literal(BACKGROUND_PLATE),
    torso: z.literal(TORSO_PLATES_DIR),
    backgroundSeen: z.number().min(0).max(1),
  }),
  expression: z.strictObject({
    definition: z.literal(EXPRESSION_DEFINITION),
    signals: z.tuple([
      z.literal('AU01'),
      z.literal('AU04'),
      z.literal('AU05'),
      z.literal('AU06'),
      z.literal('AU07'),
      z.literal('AU45'),
    ]),
  }),
  warnings: z.array(z.string()),
  frames: z.array(frameSchema),
});

export type DatasetManifest = z.infer<typeof datasetSchema>;
export type DatasetFrame = z.infer<typeof frameSchema>;

export class DatasetFormatError extends Error {
  override name = 'DatasetFormatError';
}

/** Checks beyond the schema: lengths, ranges, rigid poses, status vs data. Returns the problems found. */
export function datasetProblems(m: DatasetManifest): string[] {
  const problems: string[] = [];
  if (m.frames.length !== m.frameCount)
    problems.push(`frames has ${m.frames.length} entries, frameCount is ${m.frameCount}`);
  for (const [name, [first, end]] of Object.entries(m.split))
    if (first > end || end > m.frameCount)
      problems.push(`split.${name} [${first}, ${end}) is outside 0..${m.frameCount}`);
  m.frames.forEach((f, t) => {
    const dropped = f.status === 'dropped';
    if ([f.pose, f.landmarks, f.expression, f.mouthOpen].some((v) => dropped !== (v === null)))
      problems.push(
        `frames[${t}] is ${f.status} but ${dropped ? 'has' : 'lacks'} a pose, landmarks or expression signals`,
      );
    if (f.pose) {
      const p = f.pose;
      const r = [0, 1, 2].map((i) => [p[4 * i] as number, p[4 * i + 1] as number, p[4 * i + 2] as number]);
      const orthonormal = [0, 1, 2].every((i) =>
        [0, 1, 2].every((j) => {
          const dot = [0, 1, 2].reduce((s, k) => s + (r[i]?.[k] as number) * (r[j]?.[k] as number), 0);
          return Math.abs(dot - (i === j ? 1 : 0)) < 1e-4;
        }),
      );
      const lastRow = p[12] === 0 && p[13] === 0 && p[14] === 0 && p[15] === 1;
      if (!orthonormal || !lastRow) problems.push(`frames[${t}].pose is not a rigid transform`);
    }
  });
  return problems;
}

/** Reads and validates `dir/dataset.json`. */
export async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  const file = path.join(dir, DATASET_FILE);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new DatasetFormatError(`${file} is missing or unreadable`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DatasetFormatError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== DATASET_FORMAT_VERSION)
    throw new DatasetFormatError(
      `${file}: formatVersion ${JSON.stringify(version)}, expected ${DATASET_FORMAT_VERSION}`,
    );
  const parsed = datasetSchema.safeParse(json);
  if (!parsed.success) throw new DatasetFormatError(`${file}: ${describeIssues(parsed.error)}`);
  const problems = datasetProblems(parsed.data);
  if (problems.length > 0) throw new DatasetFormatError(`${file}: ${problems.slice(0, 5).join('; ')}`);
  return parsed.data;
}
