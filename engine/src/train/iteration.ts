// What every trainer does around the frame graph (trainer.ts for one identity, pretrain.ts for a pre-training
// run): reproducible per-iteration randomness, starting parameters, frame sampling, density control and PSNR.
import { GAUSSIAN_TENSORS, type IdentityWeights } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import { rng } from '../model/init.js';
import { addon } from '../native/addon.js';
import { readDatasetManifest } from '../prepare/dataset-manifest.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import type { Adam } from './adam.js';
import { attributeWidths, densify, resetOpacity } from './densify.js';
import type { DensifyStatsTensors } from './frame-graph.js';
import { branchBoxes, countsOf, gaussiansInBox, initialWeights } from './initial-weights.js';
import { type Branch, type GaussianCounts, ModelParams } from './model-params.js';
import type { Stage } from './stages.js';
import type { TrainingData, TrainingFrame } from './training-data.js';

/** Per-iteration randomness from (seed, stage, iteration): a resumed run draws exactly what it would have. */
/** Device memory in use now (CUDA: the whole GPU's, as cudaMemGetInfo sees it), or null on the CPU. */
export function deviceBytesInUse(device: DeviceKind): number | null {
  if (device !== 'cuda') return null;
  const { freeBytes, totalBytes } = addon.cudaInfo();
  return freeBytes !== undefined && totalBytes !== undefined ? totalBytes - freeBytes : null;
}

export const randomFor = (seed: number, stage: number, iteration: number) =>
  rng((seed * 1000003 + stage * 7919 + iteration * 104729) >>> 0);

export async function peekSize(dataset: string): Promise<number> {
  return (await readDatasetManifest(dataset)).size;
}

/** Gaussians in boxes fitted to the canonical face, coloured by the first training frame under each point. */
export function freshParams(
  device: DeviceKind,
  model: ModelConfig,
  data: TrainingData,
  counts: GaussianCounts,
  seed: number,
  /** Tensors that replace the fresh ones (adaptation: the motion prior's). */
  replace: Partial<IdentityWeights> = {},
): ModelParams {
  const random = rng(seed);
  const boxes = branchBoxes(data.manifest.canonicalFace);
  const first = data.frames[0] as TrainingFrame;
  const colour = colourUnder(first, data.size, data.intrinsics);
  const gaussians = {
    face: gaussiansInBox(random, counts.face, boxes.face, model.face.shDegree, colour),
    mouth: gaussiansInBox(random, counts.mouth, boxes.mouth, model.mouth.shDegree, () => [0.55, 0.35, 0.35]),
  };
  const weights: IdentityWeights = { ...initialWeights(random, model, gaussians), ...replace };
  return new ModelParams(device, model, weights, countsOf(gaussians));
}

/** The frame's ground-truth colour where a head-space point projects (grey outside the image). */
function colourUnder(frame: TrainingFrame, size: number, k: TrainingData['intrinsics']) {
  const pose = frame.camera.read();
  const rgb = frame.host.target;
  return (x: number, y: number, z: number): [number, number, number] => {
    const c = [0, 1, 2].map(
      (r) =>
        (pose[4 * r] as number) * x +
        (pose[4 * r + 1] as number) * y +
        (pose[4 * r + 2] as number) * z +
        (pose[4 * r + 3] as number),
    );
    const [cx, cy, cz] = c as [number, number, number];
    if (cz <= 0) return [0.5, 0.5, 0.5];
    const u = Math.floor((k.fx * cx) / cz + k.cx);
    const v = Math.floor((k.fy * cy) / cz + k.cy);
    if (u < 0 || v < 0 || u >= size || v >= size) return [0.5, 0.5, 0.5];
    const p = 3 * (v * size + u);
    return [(rgb[p] as number) / 255, (rgb[p + 1] as number) / 255, (rgb[p + 2] as number) / 255];
  };
}

export function pickFrame(frames: TrainingFrame[], random: () => number, openMouths: boolean): TrainingFrame {
  if (openMouths && random() < 0.5) {
    const sorted = [...frames].sort((a, b) => b.mouthOpen - a.mouthOpen);
    return sorted[Math.floor(random() * Math.max(1, Math.ceil(sorted.length / 2)))] as TrainingFrame;
  }
  return frames[Math.floor(random() * frames.length)] as TrainingFrame;
}

export function statsTensors(
  device: DeviceKind,
  n: number,
  from: { accum: Float32Array; count: Float32Array; maxRadii: Float32Array } | null,
): DensifyStatsTensors {
  const make = (data?: Float32Array) =>
    data && data.length === n ? Tensor.from(device, 'f32', [n], data) : Tensor.zeros(device, 'f32', [n]);
  return { accum: make(from?.accum), count: make(from?.count), maxRadii: make(from?.maxRadii) };
}

/** Density control at branch iteration k: grow and prune every `every` iterations, reset opacity now and then. */
export function densifyStep(
  P: ModelParams,
  adam: Adam,
  stage: Stage,
  it: number,
  stats: DensifyStatsTensors,
  random: () => number,
  size: number,
  log: (line: string) => void,
): DensifyStatsTensors {
  const d = stage.densify;
  if (!d) return stats;
  const k = stage.branchOffset + it;
  const branch: Branch = d.branch;
  const shDegree = P.model[branch].shDegree;
  const widths = attributeWidths(shDegree);
  let out = stats;
  if (k >= d.from && k <= d.until && k % d.every === 0) {
    const result = densify(
      P.readGaussians(branch),
      { accum: stats.accum.read(), count: stats.count.read(), maxRadii: stats.maxRadii.read() },
      // After the first opacity reset, as 3DGS, Gaussians covering too much of the screen go too.
      { ...d.config, maxScreenRadius: k > d.resetOpacityEvery ? (d.config.maxScreenRadius ?? 0.1 * size) : null },
      shDegree,
      random,
    );
    const replaced = P.setGaussians(branch, result.gaussians);
    for (const attribute of GAUSSIAN_TENSORS) {
      const entry = replaced[attribute];
      adam.replace(`${branch}.${attribute}`, entry.value, entry.grad, result.carry, widths[attribute]);
    }
    for (const t of Object.values(stats)) t.dispose();
    out = statsTensors(stats.accum.device, result.gaussians.opacity.length, null);
    if (result.cloned + result.split + result.pruned > 0)
      log(
        `${branch} densify at ${k}: +${result.cloned} cloned, ${result.split} split, -${result.pruned} pruned -> ${result.gaussians.opacity.length}`,
      );
  }
  if (k % d.resetOpacityEvery === 0 && k < d.until) {
    const opacity = P.value(`${branch}.opacity`);
    opacity.write(resetOpacity(opacity.read()));
    const n = opacity.size;
    adam.replace(`${branch}.opacity`, opacity, P.grad(`${branch}.opacity`), new Int32Array(n).fill(-1), 1);
  }
  return out;
}

/** PSNR (dB) of a rendered image against its target (images in 0..1). */
export function framePsnr(rendered: Tensor<'f32'>, target: Tensor<'f32'>): number {
  const image = rendered.read();
  const reference = target.read();
  let se = 0;
  for (let i = 0; i < image.length; i++) se += ((image[i] as number) - (reference[i] as number)) ** 2;
  return 10 * Math.log10(1 / Math.max(1e-12, se / image.length));
}
