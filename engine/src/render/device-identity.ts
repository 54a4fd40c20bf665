// An identity uploaded to one device: every weight tensor, and the torso plates at the render size.
import type { Identity } from '../identity/package.js';
import { expectedTensorShapes, TENSOR_NAMES, type TensorName } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import { resizeRgb } from './resize.js';

export class DeviceIdentity {
  readonly name: string;
  readonly model: ModelConfig;
  /** JSON of the model config: identities batched together must share it. */
  readonly modelKey: string;
  readonly gaussians: { face: number; mouth: number };
  readonly tracks: Identity['tracks'];
  /** Intrinsics scaled to the render size. */
  readonly intrinsics: { fx: number; fy: number; cx: number; cy: number };
  private readonly tensors: Map<TensorName, Tensor<'f32'>>;
  private readonly plates: Tensor<'u8'>[];
  private closed = false;

  private constructor(
    identity: Identity,
    readonly device: DeviceKind,
    readonly width: number,
    readonly height: number,
  ) {
    const m = identity.manifest;
    this.name = m.name;
    this.model = m.model;
    this.modelKey = JSON.stringify(m.model);
    this.gaussians = m.gaussians;
    this.tracks = identity.tracks;
    const sx = width / m.render.width;
    const sy = height / m.render.height;
    const k = m.render.intrinsics;
    this.intrinsics = { fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy };
    this.tensors = new Map();
    this.plates = [];
    try {
      const shapes = expectedTensorShapes(m.model, m.gaussians);
      for (const name of TENSOR_NAMES)
        this.tensors.set(name, Tensor.from(device, 'f32', shapes[name], identity.weights[name]));
      for (const plate of identity.plates) {
        const pixels = resizeRgb(plate, m.render.width, m.render.height, width, height);
        this.plates.push(Tensor.from(device, 'u8', [height, width, 3], pixels));
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Uploads `identity`; the render size may differ from the identity's own (plates are resampled once here). */
  static upload(identity: Identity, device: DeviceKind, size?: { width: number; height: number }): DeviceIdentity {
    const width = size?.width ?? identity.manifest.render.width;
    const height = size?.height ?? identity.manifest.render.height;
    if (width % 2 || height % 2 || width < 16 || height < 16)
      throw new RangeError(`render size ${width}x${height}: width and height must be even and at least 16`);
    return new DeviceIdentity(identity, device, width, height);
  }

  tensor(name: TensorName): Tensor<'f32'> {
    if (this.closed) throw new Error(`identity "${this.name}" was disposed`);
    return this.tensors.get(name) as Tensor<'f32'>;
  }

  /** The torso-over-background plate of a track frame. */
  plate(trackFrame: number): Tensor<'u8'> {
    if (this.closed) throw new Error(`identity "${this.name}" was disposed`);
    return this.plates[this.tracks.plateIndex[trackFrame] as number] as Tensor<'u8'>;
  }

  /** Device bytes held (weights and plates). */
  get bytes(): number {
    let total = 0;
    for (const t of this.tensors.values()) total += t.size * 4;
    for (const p of this.plates) total += p.size;
    return total;
  }

  get disposed(): boolean {
    return this.closed;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    for (const p of this.plates) p.dispose();
    this.closed = true;
  }
}
