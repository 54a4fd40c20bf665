// Starting weights for training an identity from scratch (no motion prior): Gaussians placed around the dataset's
// canonical face, networks initialised as PyTorch's defaults, with the layers whose output is a correction
// (decoders, aligners, the hook scaler) zeroed so that training starts from the static head.
import { GAUSSIAN_TENSORS, type IdentityWeights } from '../identity/tensors.js';
import { type ModelConfig, shCoefficients } from '../model/config.js';
import { between, logit, mlpWeights, type Random, rawScale, SH_C0, uniformFanIn } from '../model/init.js';
import { AudioAttNet, AudioNet } from '../ops/audio-net.js';
import { TriplaneHashgrid } from '../ops/triplane-hashgrid.js';
import { INNER_LIPS } from '../prepare/landmarks.js';
import type { GaussianCounts, HostGaussians } from './model-params.js';

/** An axis-aligned box in canonical head space (metres). */
export interface Box {
  min: [number, number, number];
  max: [number, number, number];
}

/**
 * Where each branch's Gaussians start, from the canonical face's 468 vertices: the face branch fills a box around
 * the whole head (the mesh's extent, grown upwards and backwards for hair and skull), the mouth branch a box just
 * behind the inner lips (teeth and tongue sit 0-4 cm behind them).
 */
export function branchBoxes(canonicalFace: ArrayLike<number>): { face: Box; mouth: Box } {
  const bounds = (indices: Iterable<number>): Box => {
    const min: [number, number, number] = [Infinity, Infinity, Infinity];
    const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
    for (const i of indices)
      for (let k = 0; k < 3; k++) {
        const v = canonicalFace[3 * i + k] as number;
        min[k] = Math.min(min[k] as number, v);
        max[k] = Math.max(max[k] as number, v);
      }
    return { min, max };
  };
  const mesh = bounds(Array.from({ length: canonicalFace.length / 3 }, (_, i) => i));
  const width = mesh.max[0] - mesh.min[0];
  const height = mesh.max[1] - mesh.min[1];
  const face: Box = {
    min: [mesh.min[0] - 0.1 * width, mesh.min[1] - 0.25 * height, mesh.min[2]],
    max: [mesh.max[0] + 0.1 * width, mesh.max[1] + 0.05 * height, mesh.max[2] + 0.4 * width],
  };
  const lips = bounds(INNER_LIPS);
  const mouth: Box = {
    min: [lips.min[0] - 0.005, lips.min[1] - 0.012, lips.min[2] - 0.002],
    max: [lips.max[0] + 0.005, lips.max[1] + 0.02, lips.max[2] + 0.04],
  };
  return { face, mouth };
}

/**
 * n Gaussians uniformly in `box`, isotropic, sized to the mean spacing, opacity 0.1, colour from `colour(xyz)` (an
 * RGB in 0..1, e.g. the first training frame under the point) with the higher SH coefficients zero.
 */
export function gaussiansInBox(
  random: Random,
  n: number,
  box: Box,
  shDegree: number,
  colour: (x: number, y: number, z: number) => [number, number, number],
): HostGaussians {
  const K = shCoefficients(shDegree);
  const out: HostGaussians = {
    xyz: new Float32Array(n * 3),
    rotation: new Float32Array(n * 4),
    scale: new Float32Array(n * 3),
    opacity: new Float32Array(n),
    sh: new Float32Array(n * K * 3),
  };
  const extent = [0, 1, 2].map((k) => (box.max[k] as number) - (box.min[k] as number));
  const spacing = Math.cbrt(((extent[0] as number) * (extent[1] as number) * (extent[2] as number)) / Math.max(1, n));
  const scale = rawScale(0.5 * spacing);
  for (let i = 0; i < n; i++) {
    const p = [0, 1, 2].map((k) => between(random, box.min[k] as number, box.max[k] as number)) as [
      number,
      number,
      number,
    ];
    out.xyz.set(p, 3 * i);
    out.rotation[4 * i] = 1;
    out.scale.fill(scale, 3 * i, 3 * i + 3);
    out.opacity[i] = logit(0.1);
    const rgb = colour(...p);
    for (let c = 0; c < 3; c++) out.sh[i * K * 3 + c] = ((rgb[c] as number) - 0.5) / SH_C0;
  }
  return out;
}

/** Conv1d (kernel 3) and Linear layers in packed order (native/src/ops/audio_net.h): [weights, biases, fanIn]. */
function packedLayers(random: Random, total: number, layers: [number, number, number][]): Float32Array {
  const w = new Float32Array(total);
  let at = 0;
  for (const [weights, biases, fanIn] of layers) {
    uniformFanIn(random, w.subarray(at, at + weights + biases), fanIn);
    at += weights + biases;
  }
  if (at !== total) throw new Error(`audio net layout: initialised ${at} of ${total} weights`);
  return w;
}

export function audioNetWeights(random: Random, audio: ModelConfig['audio']): Float32Array {
  const net = new AudioNet(audio);
  const conv = (cin: number, cout: number): [number, number, number] => [cout * cin * 3, cout, cin * 3];
  const dense = (nIn: number, nOut: number): [number, number, number] => [nOut * nIn, nOut, nIn];
  return packedLayers(random, net.paramCount, [
    conv(audio.featureDim, 32),
    conv(32, 32),
    conv(32, 64),
    conv(64, 64),
    dense(64, 64),
    dense(64, audio.codeDim),
  ]);
}

export function audioAttNetWeights(random: Random, audio: ModelConfig['audio']): Float32Array {
  const net = new AudioAttNet(audio);
  const conv = (cin: number, cout: number): [number, number, number] => [cout * cin * 3, cout, cin * 3];
  return packedLayers(random, net.paramCount, [
    conv(audio.codeDim, 16),
    conv(16, 8),
    conv(8, 4),
    conv(4, 2),
    conv(2, 1),
    [net.frames * net.frames, net.frames, net.frames],
  ]);
}

/** Hash tables start near zero (instant-NGP: U(-1e-4, 1e-4)). */
export function tableWeights(random: Random, grid: ModelConfig['face']['motionGrid']): Float32Array {
  const w = new Float32Array(new TriplaneHashgrid(grid).paramCount);
  for (let i = 0; i < w.length; i++) w[i] = between(random, -1e-4, 1e-4);
  return w;
}

export interface InitialGaussians {
  face: HostGaussians;
  mouth: HostGaussians;
}

/** Every network's starting weights plus the given Gaussians: a complete IdentityWeights. */
export function initialWeights(random: Random, model: ModelConfig, gaussians: InitialGaussians): IdentityWeights {
  const weights: Partial<IdentityWeights> = {};
  for (const branch of ['face', 'mouth'] as const)
    for (const attribute of GAUSSIAN_TENSORS) weights[`${branch}.${attribute}`] = gaussians[branch][attribute];
  const { face, mouth } = model;
  Object.assign(weights, {
    'face.motionGrid': tableWeights(random, face.motionGrid),
    'face.alignerGrid': tableWeights(random, face.alignerGrid),
    'face.aligner': mlpWeights(random, face.aligner, 0),
    'face.audioAttention': mlpWeights(random, face.audioAttention),
    'face.expressionAttention': mlpWeights(random, face.expressionAttention),
    'face.expressionEncoder': mlpWeights(random, face.expressionEncoder),
    'face.decoder': mlpWeights(random, face.decoder, 0),
    'mouth.motionGrid': tableWeights(random, mouth.motionGrid),
    'mouth.alignerGrid': tableWeights(random, mouth.alignerGrid),
    'mouth.aligner': mlpWeights(random, mouth.aligner, 0),
    'mouth.audioAttention': mlpWeights(random, mouth.audioAttention),
    'mouth.decoder': mlpWeights(random, mouth.decoder, 0),
    'mouth.hookScaler': mlpWeights(random, mouth.hookScaler, 0),
    'audio.net': audioNetWeights(random, model.audio),
    'audio.attention': audioAttNetWeights(random, model.audio),
  } satisfies Partial<IdentityWeights>);
  return weights as IdentityWeights;
}

/** Counts of an InitialGaussians. */
export const countsOf = (g: InitialGaussians): GaussianCounts => ({
  face: g.face.opacity.length,
  mouth: g.mouth.opacity.length,
});
