// Every learnable tensor of one identity on the training device, with its gradient buffer: the same tensor names
// and layouts as weights.safetensors (identity/tensors.ts), so a checkpoint or an identity package is a readback.
// Gaussian tensors are replaced whenever densification changes the counts.
import {
  expectedTensorShapes,
  GAUSSIAN_TENSORS,
  type IdentityWeights,
  TENSOR_NAMES,
  type TensorName,
} from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import { type DeviceKind, Tensor } from '../tensor.js';

export type Branch = 'face' | 'mouth';
export type GaussianAttribute = (typeof GAUSSIAN_TENSORS)[number];
export type GaussianCounts = Record<Branch, number>;

/** One branch's Gaussians as host arrays, row-major per attribute (xyz [n,3], rotation [n,4], scale [n,3], ...). */
export type HostGaussians = Record<GaussianAttribute, Float32Array>;

interface Entry {
  value: Tensor<'f32'>;
  grad: Tensor<'f32'>;
}

export class ModelParams {
  private readonly entries = new Map<TensorName, Entry>();
  /** Tensors another ModelParams owns (pre-training: the universal motion field all videos share). */
  private readonly borrowed = new Set<TensorName>();
  private counts: GaussianCounts;
  private closed = false;

  /**
   * `weights` must hold every tensor except those taken from `shared.from` (the same value and gradient tensors,
   * so every sharer's gradients add up in one place; the owner disposes them).
   */
  constructor(
    readonly device: DeviceKind,
    readonly model: ModelConfig,
    weights: Partial<IdentityWeights>,
    counts: GaussianCounts,
    shared?: { from: ModelParams; names: readonly TensorName[] },
  ) {
    this.counts = { ...counts };
    const shapes = expectedTensorShapes(model, counts);
    try {
      for (const name of shared?.names ?? []) {
        this.entries.set(name, (shared as { from: ModelParams }).from.get(name));
        this.borrowed.add(name);
      }
      for (const name of TENSOR_NAMES)
        if (!this.borrowed.has(name))
          this.entries.set(name, this.entry(shapes[name], weights[name] ?? new Float32Array(0), name));
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  get gaussians(): GaussianCounts {
    return { ...this.counts };
  }

  value(name: TensorName): Tensor<'f32'> {
    return this.get(name).value;
  }

  grad(name: TensorName): Tensor<'f32'> {
    return this.get(name).grad;
  }

  /** Zeroes the gradients of `names` (the ops add into them). */
  zeroGrad(names: readonly TensorName[] = TENSOR_NAMES): void {
    for (const name of names) this.get(name).grad.native.fillZero();
  }

  /** Replaces one branch's Gaussians (densification); returns the new tensors by name. */
  setGaussians(branch: Branch, host: HostGaussians): Record<GaussianAttribute, Entry> {
    const n = host.opacity.length;
    const shapes = expectedTensorShapes(this.model, { ...this.counts, [branch]: n });
    const replaced = {} as Record<GaussianAttribute, Entry>;
    for (const attribute of GAUSSIAN_TENSORS) {
      const name = `${branch}.${attribute}` as const;
      const entry = this.entry(shapes[name], host[attribute], name);
      const old = this.entries.get(name);
      old?.value.dispose();
      old?.grad.dispose();
      this.entries.set(name, entry);
      replaced[attribute] = entry;
    }
    this.counts[branch] = n;
    return replaced;
  }

  /** One branch's Gaussians read back to the host. */
  readGaussians(branch: Branch): HostGaussians {
    const out = {} as HostGaussians;
    for (const attribute of GAUSSIAN_TENSORS) out[attribute] = this.value(`${branch}.${attribute}`).read();
    return out;
  }

  /** Every tensor read back to the host: what an identity package or a checkpoint stores. */
  readWeights(): IdentityWeights {
    const out = {} as IdentityWeights;
    for (const name of TENSOR_NAMES) out[name] = this.value(name).read();
    return out;
  }

  dispose(): void {
    for (const [name, { value, grad }] of this.entries) {
      if (this.borrowed.has(name)) continue;
      value.dispose();
      grad.dispose();
    }
    this.entries.clear();
    this.closed = true;
  }

  private get(name: TensorName): Entry {
    if (this.closed) throw new Error('ModelParams: used after dispose()');
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`ModelParams: no tensor "${name}"`);
    return entry;
  }

  private entry(shape: number[], data: Float32Array, name: string): Entry {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new RangeError(
        `ModelParams: "${name}" has ${data.length} values, its shape [${shape.join(', ')}] needs ${size}`,
      );
    const value = Tensor.from(this.device, 'f32', shape, data);
    return { value, grad: Tensor.zeros(this.device, 'f32', shape) };
  }
}
