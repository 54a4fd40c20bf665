// Device buffers a renderer reuses frame after frame. A buffer is reallocated only when the batch's composition
// (and so its shape) changes, so steady-state frames allocate nothing.
import { type DeviceKind, type DType, Tensor } from '../tensor.js';

export class Workspace {
  private readonly buffers = new Map<string, Tensor>();

  constructor(readonly device: DeviceKind) {}

  get<T extends DType>(name: string, dtype: T, shape: readonly number[]): Tensor<T> {
    const existing = this.buffers.get(name);
    if (existing && existing.dtype === dtype && sameShape(existing.shape, shape)) return existing as Tensor<T>;
    existing?.dispose();
    const tensor = Tensor.empty(this.device, dtype, shape);
    this.buffers.set(name, tensor);
    return tensor;
  }

  /** Bytes held, for the memory-per-session figure. */
  get bytes(): number {
    let total = 0;
    for (const t of this.buffers.values()) total += t.size * (t.dtype === 'u8' ? 1 : 4);
    return total;
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
