// The identity manifest (identity.json): its schema and types. docs/identity-format.md documents every key.
//
// Schema library: zod. It validates and infers the TypeScript types from one declaration (so the types cannot drift
// from the checks), reports every problem with its path (tracks.pose.3.5), has no dependencies and is the most
// widely maintained choice; TypeBox would give JSON Schema as well, which nothing here needs.
import { z } from 'zod';
import type { AudioConfig, BranchConfig, MlpShape, ModelConfig } from '../model/config.js';
import type { HashgridConfig } from '../ops/triplane-hashgrid.js';

export const FORMAT_VERSION = 1;
export const TRACK_FPS = 25;
export const MANIFEST_FILE = 'identity.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const PLATES_FILE = 'plates.bin';

const count = z.int().positive();
const finite = z.number(); // zod 4 numbers reject NaN and +-Infinity
const positive = finite.positive();

const mlp: z.ZodType<MlpShape> = z.strictObject({
  input: count,
  hidden: z.array(count),
  output: count,
  bias: z.boolean(),
});

const hashgrid: z.ZodType<HashgridConfig> = z.strictObject({
  levels: count,
  features: count,
  log2Table: z.int().min(1).max(30),
  baseResolution: count,
  maxResolution: count,
  bound: positive,
});

const audio: z.ZodType<AudioConfig> = z
  .strictObject({
    feature: z.enum(['log-mel', 'onnx']),
    featureDim: count,
    featureRate: count,
    window: count,
    windowAhead: z.int().nonnegative(),
    attentionBefore: z.int().nonnegative(),
    attentionAfter: z.int().nonnegative(),
    codeDim: count,
  })
  .refine((a) => a.windowAhead < a.window, { message: 'windowAhead must be less than window', path: ['windowAhead'] });

const branch = {
  shDegree: z.int().min(0).max(3),
  motionGrid: hashgrid,
  alignerGrid: hashgrid,
  aligner: mlp,
  audioAttention: mlp,
  decoder: mlp,
} satisfies Record<keyof BranchConfig, z.ZodType>;

export const modelConfigSchema: z.ZodType<ModelConfig> = z.strictObject({
  audio,
  expressionDim: z.int().min(2),
  face: z.strictObject({ ...branch, expressionAttention: mlp, expressionEncoder: mlp }),
  mouth: z.strictObject({ ...branch, hookScaler: mlp, hookTopK: count, hook: z.boolean().default(true) }),
  mouthDilateRadius: z.int().nonnegative(),
  displacementScale: positive,
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (SHA-256)');

export const manifestSchema = z.strictObject({
  formatVersion: z.literal(FORMAT_VERSION),
  kind: z.enum(['trained', 'fixture']),
  name: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  model: modelConfigSchema,
  /** Gaussian counts; the per-Gaussian tensors in weights.safetensors must match them. */
  gaussians: z.strictObject({ face: count, mouth: count }),
  render: z.strictObject({
    width: count,
    height: count,
    intrinsics: z.strictObject({ fx: positive, fy: positive, cx: finite, cy: finite }),
  }),
  tracks: z.strictObject({
    fps: z.literal(TRACK_FPS),
    /** Per frame: world-to-camera 4x4, row-major, OpenCV axes (x right, y down, z forward). */
    pose: z.array(z.array(finite).length(16)).min(1),
    /** Per frame: model.expressionDim signals (the last one is the blink). */
    expression: z.array(z.array(finite)).min(1),
    /** Per frame: which plate of plates.bin is the frame's torso-over-background. */
    plateIndex: z.array(z.int().nonnegative()).min(1),
  }),
  plates: z.strictObject({ count }),
  provenance: z.strictObject({
    /** The video the identity was adapted from (or a fixture's plate source); null only for a synthetic fixture. */
    source: z.strictObject({ name: z.string().min(1), sha256 }).nullable(),
    /** Tool name -> version, for every tool that produced the package. */
    tools: z.record(z.string().min(1), z.string().min(1)),
  }),
  consent: z.strictObject({
    subjectConsent: z.boolean(),
    statement: z.string().min(1),
    recordedAt: z.iso.datetime({ offset: true }).nullable(),
  }),
  checksums: z.strictObject({ [WEIGHTS_FILE]: sha256, [PLATES_FILE]: sha256 }),
});

export type IdentityManifest = z.infer<typeof manifestSchema>;
/** A manifest before saving: saveIdentity fills in the checksums. */
export type ManifestDraft = Omit<IdentityManifest, 'checksums'> & { checksums?: IdentityManifest['checksums'] };

/** "tracks.pose.3.5: expected number, received null" for the first few problems. */
export function describeIssues(error: z.ZodError, limit = 5): string {
  const lines = error.issues
    .slice(0, limit)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > limit) lines.push(`... and ${error.issues.length - limit} more`);
  return lines.join('; ');
}
