// The identity package: a directory with identity.json, weights.safetensors and plates.bin, everything an adapted
// identity needs at serve time (docs/identity-format.md). loadIdentity validates all of it; saveIdentity validates
// the same things and then writes atomically.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  describeIssues,
  FORMAT_VERSION,
  type IdentityManifest,
  MANIFEST_FILE,
  type ManifestDraft,
  manifestSchema,
  PLATES_FILE,
  WEIGHTS_FILE,
} from './manifest.js';
import { decodePlates, encodePlates } from './plates.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { expectedTensorShapes, type IdentityWeights, TENSOR_NAMES } from './tensors.js';

export class IdentityFormatError extends Error {
  override name = 'IdentityFormatError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`identity package: ${file}: ${problem}`);
  }
}

/** What saveIdentity writes. */
export interface IdentityContent {
  manifest: ManifestDraft;
  weights: IdentityWeights;
  /** [height, width, 3] u8 RGB each, manifest.plates.count of them. */
  plates: Uint8Array[];
}

/** A loaded, fully validated identity. */
export interface Identity extends IdentityContent {
  manifest: IdentityManifest;
  /** The manifest's tracks as flat arrays: pose [frames, 16], expression [frames, expressionDim]. */
  tracks: { frames: number; pose: Float32Array; expression: Float32Array; plateIndex: Int32Array };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Checks what the schema cannot: cross-field consistency of a schema-valid manifest. Returns the first problem. */
function manifestProblem(m: IdentityManifest): string | undefined {
  if (m.kind === 'trained' && m.provenance.source === null)
    return 'provenance.source: a trained identity must name the video it was adapted from';
  const { pose, expression, plateIndex } = m.tracks;
  if (expression.length !== pose.length)
    return `tracks.expression has ${expression.length} frames, tracks.pose has ${pose.length}`;
  if (plateIndex.length !== pose.length)
    return `tracks.plateIndex has ${plateIndex.length} frames, tracks.pose has ${pose.length}`;
  const badExpression = expression.findIndex((e) => e.length !== m.model.expressionDim);
  if (badExpression >= 0)
    return `tracks.expression.${badExpression} has ${expression[badExpression]?.length} values, model.expressionDim is ${m.model.expressionDim}`;
  const badPlate = plateIndex.findIndex((p) => p >= m.plates.count);
  if (badPlate >= 0)
    return `tracks.plateIndex.${badPlate} is ${plateIndex[badPlate]}, out of range for ${m.plates.count} plates`;
  for (let t = 0; t < pose.length; t++) {
    const problem = poseProblem(pose[t] as number[]);
    if (problem) return `tracks.pose.${t}: ${problem}`;
  }
  try {
    expectedTensorShapes(m.model, m.gaussians); // the ops validate their own configs (e.g. hash-grid sizes)
  } catch (e) {
    return `model: the engine cannot build this config (${(e as Error).message})`;
  }
  return undefined;
}

/** A world-to-camera pose must be rigid: orthonormal rotation with det +1, last row 0 0 0 1. */
function poseProblem(p: number[]): string | undefined {
  const at = (r: number, c: number) => p[r * 4 + c] as number;
  if (Math.abs(at(3, 0)) + Math.abs(at(3, 1)) + Math.abs(at(3, 2)) + Math.abs(at(3, 3) - 1) > 1e-6)
    return `last row is [${p.slice(12).join(', ')}], expected [0, 0, 0, 1]`;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = at(i, 0) * at(j, 0) + at(i, 1) * at(j, 1) + at(i, 2) * at(j, 2);
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-4) return 'rotation part is not orthonormal';
    }
  const det =
    at(0, 0) * (at(1, 1) * at(2, 2) - at(1, 2) * at(2, 1)) -
    at(0, 1) * (at(1, 0) * at(2, 2) - at(1, 2) * at(2, 0)) +
    at(0, 2) * (at(1, 0) * at(2, 1) - at(1, 1) * at(2, 0));
  return det > 0 ? undefined : 'rotation part is a reflection (determinant < 0)';
}

function checkManifest(raw: unknown, file: string): IdentityManifest {
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== FORMAT_VERSION)
    throw new IdentityFormatError(
      file,
      `formatVersion ${JSON.stringify(version)} is not supported (this engine reads ${FORMAT_VERSION})`,
    );
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new IdentityFormatError(file, describeIssues(parsed.error));
  const problem = manifestProblem(parsed.data);
  if (problem) throw new IdentityFormatError(file, problem);
  return parsed.data;
}

/** Same tensor set as the config expects, every shape right, every value finite. */
function checkWeights(
  manifest: IdentityManifest,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  file: string,
): IdentityWeights {
  const expected = expectedTensorShapes(manifest.model, manifest.gaussians);
  const missing = TENSOR_NAMES.filter((n) => !tensors.has(n));
  if (missing.length > 0) throw new IdentityFormatError(file, `missing tensors: ${missing.join(', ')}`);
  const extra = [...tensors.keys()].filter((n) => !(n in expected));
  if (extra.length > 0) throw new IdentityFormatError(file, `unexpected tensors: ${extra.join(', ')}`);
  const weights = {} as IdentityWeights;
  for (const name of TENSOR_NAMES) {
    const t = tensors.get(name) as SafetensorsTensor;
    const want = expected[name];
    if (t.dtype !== 'F32') throw new IdentityFormatError(file, `tensor "${name}" is ${t.dtype}, expected F32`);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      throw new IdentityFormatError(
        file,
        `tensor "${name}" has shape [${t.shape.join(', ')}], the model config needs [${want.join(', ')}]`,
      );
    const data = t.data as Float32Array;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new IdentityFormatError(file, `tensor "${name}" has a non-finite value at element ${bad}`);
    weights[name] = data;
  }
  return weights;
}

async function readPackageFile(dir: string, name: string): Promise<Uint8Array> {
  try {
    return await readFile(path.join(dir, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IdentityFormatError(name, code === 'ENOENT' ? 'missing file' : `cannot be read (${code})`);
  }
}

function checkChecksum(manifest: IdentityManifest, name: typeof WEIGHTS_FILE | typeof PLATES_FILE, bytes: Uint8Array) {
  const actual = sha256(bytes);
  if (actual !== manifest.checksums[name])
    throw new IdentityFormatError(
      name,
      `checksum mismatch: SHA-256 is ${actual}, ${MANIFEST_FILE} says ${manifest.checksums[name]}`,
    );
}

/** Reads and validates an identity package; throws IdentityFormatError naming the file and the problem. */
export async function loadIdentity(dir: string): Promise<Identity> {
  try {
    return await readIdentity(dir);
  } catch (e) {
    if (e instanceof IdentityFormatError && !path.isAbsolute(e.file))
      throw new IdentityFormatError(path.join(dir, e.file), e.problem);
    throw e;
  }
}

async function readIdentity(dir: string): Promise<Identity> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new IdentityFormatError(dir, 'is not a directory');
  } catch (e) {
    if (e instanceof IdentityFormatError) throw e;
    throw new IdentityFormatError(dir, `no identity package here (${(e as NodeJS.ErrnoException).code})`);
  }
  const manifestBytes = await readPackageFile(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (e) {
    throw new IdentityFormatError(MANIFEST_FILE, `not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const manifest = checkManifest(raw, MANIFEST_FILE);

  const weightsBytes = await readPackageFile(dir, WEIGHTS_FILE);
  let tensors: Map<string, SafetensorsTensor>;
  try {
    tensors = decodeSafetensors(weightsBytes).tensors;
  } catch (e) {
    throw new IdentityFormatError(WEIGHTS_FILE, (e as Error).message);
  }
  checkChecksum(manifest, WEIGHTS_FILE, weightsBytes);
  const weights = checkWeights(manifest, tensors, WEIGHTS_FILE);

  const platesBytes = await readPackageFile(dir, PLATES_FILE);
  const { width, height } = manifest.render;
  let plates: Uint8Array[];
  try {
    plates = await decodePlates(platesBytes, { count: manifest.plates.count, width, height });
  } catch (e) {
    throw new IdentityFormatError(PLATES_FILE, (e as Error).message);
  }
  checkChecksum(manifest, PLATES_FILE, platesBytes);

  return { manifest, weights, plates, tracks: flatTracks(manifest) };
}

/** The manifest's tracks as flat typed arrays. */
export function flatTracks(manifest: IdentityManifest): Identity['tracks'] {
  const { pose, expression, plateIndex } = manifest.tracks;
  return {
    frames: pose.length,
    pose: Float32Array.from(pose.flat()),
    expression: Float32Array.from(expression.flat()),
    plateIndex: Int32Array.from(plateIndex),
  };
}

/** Indented JSON with each array of numbers on one line (a pose per line), so the manifest stays readable. */
function manifestText(manifest: IdentityManifest): string {
  return `${JSON.stringify(manifest, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`)}\n`;
}

/** Writes a new file and waits until it is on disk (fails if the file exists). */
export async function writeDurably(file: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Validates and writes a package; returns the manifest as written (checksums filled in). Writes into a temporary
 * sibling directory and renames it into place, so a reader never sees a partial package (replacing an existing one
 * renames it aside first; between the two renames the directory is briefly absent).
 */
export async function saveIdentity(dir: string, identity: IdentityContent): Promise<IdentityManifest> {
  const target = path.resolve(dir);
  const unchecked = { [WEIGHTS_FILE]: '0'.repeat(64), [PLATES_FILE]: '0'.repeat(64) };
  const draft = checkManifest({ ...identity.manifest, checksums: unchecked }, MANIFEST_FILE);
  if (identity.plates.length !== draft.plates.count)
    throw new IdentityFormatError(
      PLATES_FILE,
      `${identity.plates.length} plates given, the manifest says ${draft.plates.count}`,
    );
  const shapes = expectedTensorShapes(draft.model, draft.gaussians);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const name of TENSOR_NAMES) {
    const data = identity.weights[name];
    if (!(data instanceof Float32Array))
      throw new IdentityFormatError(WEIGHTS_FILE, `tensor "${name}" is missing (expected a Float32Array)`);
    const size = shapes[name].reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new IdentityFormatError(
        WEIGHTS_FILE,
        `tensor "${name}" has ${data.length} values, shape [${shapes[name].join(', ')}] needs ${size}`,
      );
    tensors.set(name, { dtype: 'F32', shape: shapes[name], data });
  }
  checkWeights(draft, tensors, WEIGHTS_FILE);
  const weightsBytes = encodeSafetensors(tensors, {
    format: 'splatcast-identity',
    formatVersion: String(FORMAT_VERSION),
  });
  let platesBytes: Uint8Array;
  try {
    platesBytes = await encodePlates(identity.plates, draft.render.width, draft.render.height);
  } catch (e) {
    throw new IdentityFormatError(PLATES_FILE, (e as Error).message);
  }
  const manifest = {
    ...draft,
    checksums: { [WEIGHTS_FILE]: sha256(weightsBytes), [PLATES_FILE]: sha256(platesBytes) },
  };

  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${path.basename(target)}.tmp-${suffix}`);
  await mkdir(temp);
  try {
    await writeDurably(path.join(temp, WEIGHTS_FILE), weightsBytes);
    await writeDurably(path.join(temp, PLATES_FILE), platesBytes);
    await writeDurably(path.join(temp, MANIFEST_FILE), manifestText(manifest));
    const old = path.join(parent, `.${path.basename(target)}.old-${suffix}`);
    const replacing = await stat(target).then(
      () => true,
      () => false,
    );
    if (replacing) await rename(target, old);
    await rename(temp, target);
    if (replacing) await rm(old, { recursive: true, force: true });
    const parentHandle = await open(parent, 'r');
    await parentHandle.sync().finally(() => parentHandle.close());
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}
