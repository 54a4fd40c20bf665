// A labelled test identity (kind 'fixture') with realistic sizes, made from a seed: random Gaussians on a head-sized
// ellipsoid, random small network weights, a swaying head pose and blinking expression tracks. It renders something
// head-shaped for tests and benchmarks; it is not anyone's likeness.
//
// Canonical head space (as for trained identities): origin at the head's centre, metres, OpenCV-like axes: x towards
// the image right (the subject's left), y DOWN, z away from the camera (the face looks towards -z).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultModelConfig, type ModelConfig, shCoefficients } from '../model/config.js';
import { between, logit, mlpWeights, normal, type Random, rawScale, rng, SH_C0 } from '../model/init.js';
import { FORMAT_VERSION, type ManifestDraft, TRACK_FPS } from './manifest.js';
import { flatTracks, type Identity, saveIdentity } from './package.js';
import { expectedTensorShapes, type IdentityWeights, type TensorName } from './tensors.js';

const run = promisify(execFile);
const RENDER_SIZE = 512;
/** Head ellipsoid semi-axes (x, y, z): about 0.15 m wide, 0.18 m tall, 0.19 m deep. */
const HEAD = [0.075, 0.09, 0.095] as const;

export interface FixtureOptions {
  /** Package directory to write. */
  out: string;
  faceGaussians?: number;
  mouthGaussians?: number;
  /** Track length at 25 fps. */
  frames?: number;
  seed: number;
  /** A video to cut the plate from (its first frame); without it the plate is a synthetic gradient. */
  plateSource?: string;
  /** Defaults to defaultModelConfig(); tests pass smaller hash tables. */
  model?: ModelConfig;
}

interface GaussianSet {
  xyz: Float32Array;
  rotation: Float32Array;
  scale: Float32Array;
  opacity: Float32Array;
  sh: Float32Array;
}

function gaussians(
  random: Random,
  n: number,
  coefficients: number,
  place: (out: Float32Array, i: number) => void,
  colour: () => [number, number, number],
): GaussianSet {
  const set: GaussianSet = {
    xyz: new Float32Array(n * 3),
    rotation: new Float32Array(n * 4),
    scale: new Float32Array(n * 3),
    opacity: new Float32Array(n),
    sh: new Float32Array(n * coefficients * 3),
  };
  for (let i = 0; i < n; i++) {
    place(set.xyz, i);
    const q = [normal(random), normal(random), normal(random), normal(random)];
    const norm = Math.hypot(...q);
    for (let k = 0; k < 4; k++) set.rotation[i * 4 + k] = (q[k] as number) / norm; // (w, x, y, z)
    for (let k = 0; k < 3; k++) set.scale[i * 3 + k] = rawScale(between(random, 1e-3, 3e-3));
    set.opacity[i] = logit(between(random, 0.6, 0.95));
    const rgb = colour();
    const base = i * coefficients * 3;
    for (let c = 0; c < 3; c++) set.sh[base + c] = ((rgb[c] as number) - 0.5) / SH_C0;
    for (let k = 3; k < coefficients * 3; k++) set.sh[base + k] = between(random, -0.02, 0.02);
  }
  return set;
}

/** Face: on and near the ellipsoid surface, denser on the camera side (-z). */
function faceGaussians(random: Random, n: number, coefficients: number): GaussianSet {
  const place = (xyz: Float32Array, i: number) => {
    for (;;) {
      const d = [normal(random), normal(random), normal(random)];
      const norm = Math.hypot(...d);
      const [dx, dy, dz] = d.map((v) => v / norm) as [number, number, number];
      if (random() > 0.35 + 0.65 * Math.max(0, -dz)) continue;
      const depth = 1 + normal(random) * 0.02; // a couple of millimetres off the surface
      xyz.set([HEAD[0] * dx * depth, HEAD[1] * dy * depth, HEAD[2] * dz * depth], i * 3);
      return;
    }
  };
  const skin = (): [number, number, number] => {
    const shade = between(random, -0.08, 0.08);
    return [0.84 + shade, 0.64 + shade, 0.53 + shade];
  };
  return gaussians(random, n, coefficients, place, skin);
}

/** Inside the mouth: a small box just behind the lips (the lips sit at about y = +0.045, z = -0.082). */
function mouthGaussians(random: Random, n: number, coefficients: number): GaussianSet {
  const place = (xyz: Float32Array, i: number) => {
    xyz.set([between(random, -0.022, 0.022), between(random, 0.035, 0.055), between(random, -0.078, -0.055)], i * 3);
  };
  const teethOrTongue = (): [number, number, number] =>
    random() < 0.4 ? [0.92, 0.9, 0.84] : [between(random, 0.3, 0.5), 0.1, between(random, 0.1, 0.15)];
  return gaussians(random, n, coefficients, place, teethOrTongue);
}

const uniformArray = (random: Random, n: number, bound: number) =>
  Float32Array.from({ length: n }, () => between(random, -bound, bound));

function weightsFor(random: Random, model: ModelConfig, face: GaussianSet, mouth: GaussianSet): IdentityWeights {
  const shapes = expectedTensorShapes(model, { face: face.opacity.length, mouth: mouth.opacity.length });
  const size = (name: TensorName) => shapes[name].reduce((a, b) => a * b, 1);
  // Grid features of +-0.05 make the motion depend on position; the audio encoder's parameters are an opaque
  // vector here, filled at the Xavier bound of its small convolutions.
  const table = (name: TensorName) => uniformArray(random, size(name), 0.05);
  return {
    'face.xyz': face.xyz,
    'face.rotation': face.rotation,
    'face.scale': face.scale,
    'face.opacity': face.opacity,
    'face.sh': face.sh,
    'mouth.xyz': mouth.xyz,
    'mouth.rotation': mouth.rotation,
    'mouth.scale': mouth.scale,
    'mouth.opacity': mouth.opacity,
    'mouth.sh': mouth.sh,
    'face.motionGrid': table('face.motionGrid'),
    'face.alignerGrid': table('face.alignerGrid'),
    'face.aligner': mlpWeights(random, model.face.aligner, 0.1),
    'face.audioAttention': mlpWeights(random, model.face.audioAttention, 0.1),
    'face.expressionAttention': mlpWeights(random, model.face.expressionAttention, 0.1),
    'face.expressionEncoder': mlpWeights(random, model.face.expressionEncoder, 0.1),
    'face.decoder': mlpWeights(random, model.face.decoder, 0.1),
    'mouth.motionGrid': table('mouth.motionGrid'),
    'mouth.alignerGrid': table('mouth.alignerGrid'),
    'mouth.aligner': mlpWeights(random, model.mouth.aligner, 0.1),
    'mouth.audioAttention': mlpWeights(random, model.mouth.audioAttention, 0.1),
    'mouth.decoder': mlpWeights(random, model.mouth.decoder, 0.1),
    'mouth.hookScaler': mlpWeights(random, model.mouth.hookScaler, 0.1),
    'audio.net': uniformArray(random, size('audio.net'), 0.1),
    'audio.attention': uniformArray(random, size('audio.attention'), 0.1),
  };
}

/** World-to-camera poses: the camera 0.9-1.0 m in front of the face, the head swaying a few degrees. */
function poseTrack(random: Random, frames: number): number[][] {
  const distance = between(random, 0.9, 1.0);
  const sway = (amplitude: number) => {
    const waves = [0, 1].map(() => ({ hz: between(random, 0.08, 0.3), phase: between(random, 0, 2 * Math.PI) }));
    return (t: number) =>
      waves.reduce((a, w, k) => a + (amplitude / (k + 1)) * Math.sin(2 * Math.PI * w.hz * t + w.phase), 0);
  };
  const deg = Math.PI / 180;
  const [yaw, pitch, roll] = [sway(4 * deg), sway(2 * deg), sway(1.5 * deg)];
  const [sx, sy, sz] = [sway(0.004), sway(0.003), sway(0.004)];
  return Array.from({ length: frames }, (_, f) => {
    const t = f / TRACK_FPS;
    const [a, b, c] = [pitch(t), yaw(t), roll(t)];
    const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)];
    // R = Rx(pitch) Ry(yaw) Rz(roll)
    const r = [
      [cb * cc, -cb * sc, sb],
      [sa * sb * cc + ca * sc, -sa * sb * sc + ca * cc, -sa * cb],
      [-ca * sb * cc + sa * sc, ca * sb * sc + sa * cc, ca * cb],
    ] as const;
    const tr = [sx(t), sy(t), distance + sz(t)];
    return [...r[0], tr[0], ...r[1], tr[1], ...r[2], tr[2], 0, 0, 0, 1] as number[];
  });
}

/** AU-like signals drifting slowly in 0..1.5, and the blink channel (last) at 0 with a blink every 2.5-4.5 s. */
function expressionTrack(random: Random, frames: number, dim: number): number[][] {
  const drift = Array.from({ length: dim - 1 }, () => ({
    level: between(random, 0.2, 0.8),
    hz: between(random, 0.1, 0.5),
    phase: between(random, 0, 2 * Math.PI),
  }));
  const blink = new Array<number>(frames).fill(0);
  const profile = [0.3, 1.0, 1.8, 2.0, 1.4, 0.7, 0.2];
  for (let start = Math.floor(between(random, 15, 40)); start < frames; start += Math.floor(between(random, 62, 112)))
    profile.forEach((v, k) => {
      if (start + k < frames) blink[start + k] = v;
    });
  return Array.from({ length: frames }, (_, f) => [
    ...drift.map((d) =>
      Math.min(1.5, Math.max(0, d.level + 0.4 * Math.sin((2 * Math.PI * d.hz * f) / TRACK_FPS + d.phase))),
    ),
    blink[f] as number,
  ]);
}

async function plateFromVideo(video: string, width: number, height: number): Promise<Uint8Array> {
  const fit = `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`;
  const args = ['-v', 'error', '-nostdin', '-i', video, '-frames:v', '1', '-vf', fit];
  let frame: Buffer;
  try {
    ({ stdout: frame } = await run('ffmpeg', [...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: width * height * 3 + 1024,
    }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'ffmpeg is not installed' : (err.stderr?.toString().trim() ?? err.message);
    throw new Error(`fixture plate: cannot decode a frame of ${video}: ${why}`);
  }
  if (frame.byteLength !== width * height * 3)
    throw new Error(
      `fixture plate: ffmpeg gave ${frame.byteLength} bytes for ${video}, expected ${width * height * 3}`,
    );
  return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** A vertical gradient with a darker, torso-like half-ellipse at the bottom. */
function syntheticPlate(random: Random, width: number, height: number): Uint8Array {
  const top = [between(random, 90, 160), between(random, 110, 170), between(random, 140, 200)];
  const torso = [between(random, 30, 90), between(random, 30, 70), between(random, 40, 110)];
  const plate = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const u = (x - width / 2) / (width * 0.42);
      const v = (y - height) / (height * 0.3);
      const inTorso = u * u + v * v < 1;
      for (let c = 0; c < 3; c++)
        plate[(y * width + x) * 3 + c] = inTorso ? (torso[c] as number) : (top[c] as number) * (1 - (0.4 * y) / height);
    }
  return plate;
}

async function toolVersions(withFfmpeg: boolean): Promise<Record<string, string>> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const pkg = JSON.parse(await readFile(path.resolve(here, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const tools: Record<string, string> = { '@splatcast/engine': pkg.version, 'fixture-generator': '1' };
  if (withFfmpeg) {
    const { stdout } = await run('ffmpeg', ['-version']);
    tools.ffmpeg = /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  }
  return tools;
}

/** Writes a fixture package to `out` and returns it as loadIdentity would. Deterministic for a seed. */
export async function makeFixtureIdentity(options: FixtureOptions): Promise<Identity> {
  const { out, faceGaussians: nf = 40000, mouthGaussians: nm = 8000, frames = 125, seed, plateSource } = options;
  const model = options.model ?? defaultModelConfig();
  const random = rng(seed);
  const face = faceGaussians(random, nf, shCoefficients(model.face.shDegree));
  const mouth = mouthGaussians(random, nm, shCoefficients(model.mouth.shDegree));
  const weights = weightsFor(random, model, face, mouth);
  const pose = poseTrack(random, frames);
  const expression = expressionTrack(random, frames, model.expressionDim);
  const plate = plateSource
    ? await plateFromVideo(plateSource, RENDER_SIZE, RENDER_SIZE)
    : syntheticPlate(random, RENDER_SIZE, RENDER_SIZE);
  const source = plateSource ? { name: path.basename(plateSource), sha256: await fileSha256(plateSource) } : null;
  const focal = 1200; // at 0.95 m the 0.18-m face spans about 230 of the 512 pixels
  const draft: ManifestDraft = {
    formatVersion: FORMAT_VERSION,
    kind: 'fixture',
    name: `fixture-${seed}`,
    createdAt: new Date().toISOString(),
    model,
    gaussians: { face: nf, mouth: nm },
    render: {
      width: RENDER_SIZE,
      height: RENDER_SIZE,
      intrinsics: { fx: focal, fy: focal, cx: RENDER_SIZE / 2, cy: RENDER_SIZE / 2 },
    },
    tracks: { fps: TRACK_FPS, pose, expression, plateIndex: new Array<number>(frames).fill(0) },
    plates: { count: 1 },
    provenance: { source, tools: await toolVersions(plateSource !== undefined) },
    consent: {
      subjectConsent: false,
      statement:
        'Test fixture: random Gaussians and weights, no person was captured.' +
        (source ? ` Its plate is a frame of the test video ${source.name}: for testing only, never distribute.` : ''),
      recordedAt: null,
    },
  };
  const manifest = await saveIdentity(out, { manifest: draft, weights, plates: [plate] });
  return { manifest, weights, plates: [plate], tracks: flatTracks(manifest) };
}

async function fileSha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}
