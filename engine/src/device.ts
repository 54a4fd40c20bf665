// Picks the backend: 'auto' means CUDA when a usable GPU is present, else the CPU, with the reason reported.
import { addon, type CudaInfo } from './native/addon.js';
import type { DeviceKind } from './tensor.js';

export type DeviceRequest = DeviceKind | 'auto';

export interface DeviceChoice {
  device: DeviceKind;
  /** Why this device: the GPU's name, or why CUDA is not usable. */
  reason: string;
  cuda: CudaInfo;
}

export function chooseDevice(request: DeviceRequest = 'auto'): DeviceChoice {
  const cuda = addon.cudaInfo();
  if (request === 'cpu') return { device: 'cpu', reason: 'cpu requested', cuda };
  if (cuda.available) return { device: 'cuda', reason: `GPU: ${cuda.name ?? 'unknown'}`, cuda };
  if (request === 'cuda') throw new Error(`device "cuda" requested but CUDA is not usable: ${cuda.reason}`);
  return { device: 'cpu', reason: `running on the CPU: ${cuda.reason}`, cuda };
}
