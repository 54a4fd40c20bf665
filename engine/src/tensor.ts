// A typed buffer on the CPU or the GPU, as the engine's ops consume it.
import { addon, type NativeDType, type NativeTensor } from './native/addon.js';

export type DeviceKind = 'cpu' | 'cuda';
export type DType = 'f32' | 'i32' | 'u8';

const DTYPES: Record<DType, NativeDType> = { f32: 0, i32: 1, u8: 2 };
type ArrayOf<T extends DType> = T extends 'f32' ? Float32Array : T extends 'i32' ? Int32Array : Uint8Array;

export class Tensor<T extends DType = DType> {
  /** @internal the addon object; ops pass it to native code */
  readonly native: NativeTensor;

  private constructor(
    readonly device: DeviceKind,
    readonly dtype: T,
    readonly shape: readonly number[],
  ) {
    this.native = new addon.NativeTensor(device === 'cuda' ? 1 : 0, DTYPES[dtype], [...shape]);
  }

  static empty<T extends DType>(device: DeviceKind, dtype: T, shape: readonly number[]): Tensor<T> {
    return new Tensor(device, dtype, shape);
  }

  static zeros<T extends DType>(device: DeviceKind, dtype: T, shape: readonly number[]): Tensor<T> {
    const t = new Tensor(device, dtype, shape);
    t.native.fillZero();
    return t;
  }

  static from<T extends DType>(device: DeviceKind, dtype: T, shape: readonly number[], data: ArrayOf<T>): Tensor<T> {
    const t = new Tensor(device, dtype, shape);
    if (data.length !== t.size) {
      t.dispose();
      throw new RangeError(`tensor of shape [${shape.join(',')}] needs ${t.size} values, got ${data.length}`);
    }
    t.native.upload(data);
    return t;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Copies to host memory (waits for the GPU). */
  read(target?: ArrayOf<T>): ArrayOf<T> {
    return this.native.download(target) as ArrayOf<T>;
  }

  write(data: ArrayOf<T>): void {
    this.native.upload(data);
  }

  copyFrom(source: Tensor<T>): void {
    this.native.copyFrom(source.native);
  }

  /** Same contents on another device (or a copy on the same one). */
  to(device: DeviceKind): Tensor<T> {
    const t = new Tensor(device, this.dtype, this.shape);
    t.native.copyFrom(this.native);
    return t;
  }

  dispose(): void {
    this.native.dispose();
  }
}
