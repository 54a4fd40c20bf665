// Loads the native engine addon and declares what it exports. Everything native goes through this file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** 0 = cpu, 1 = cuda (the addon's numbering). */
export type NativeDevice = 0 | 1;
/** 0 = f32, 1 = i32, 2 = u8. */
export type NativeDType = 0 | 1 | 2;

export interface NativeTensor {
  readonly shape: number[];
  readonly device: NativeDevice;
  readonly dtype: NativeDType;
  readonly disposed: boolean;
  upload(data: Float32Array | Int32Array | Uint8Array): void;
  download<T extends Float32Array | Int32Array | Uint8Array>(target?: T): T;
  copyFrom(source: NativeTensor): void;
  fillZero(): void;
  dispose(): void;
}

export interface HashgridConfigArg {
  levels: number;
  features: number;
  log2Table: number;
  baseResolution: number;
  maxResolution: number;
  bound: number;
}

export interface CudaInfo {
  compiledIn: boolean;
  available: boolean;
  reason?: string;
  name?: string;
  freeBytes?: number;
  totalBytes?: number;
}

export interface NativeAddon {
  NativeTensor: new (device: NativeDevice, dtype: NativeDType, shape: number[]) => NativeTensor;
  cudaInfo(): CudaInfo;
  synchronize(): void;
  hashgridLayout(config: HashgridConfigArg): {
    paramCount: number;
    outputDim: number;
    resolution: number[];
    entries: number[];
  };
  triplaneHashgridForward(
    device: NativeDevice,
    config: HashgridConfigArg,
    rowCounts: number[],
    xyz: NativeTensor,
    tables: NativeTensor[],
    out: NativeTensor,
  ): void;
}

function load(): NativeAddon {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Same relative path from src/ (tests) and dist/ (built package). SPLATCAST_BUILD_DIR lets several builds
  // (say, CPU-only and CUDA) live side by side.
  const buildDir = process.env.SPLATCAST_BUILD_DIR ?? path.resolve(here, '..', '..', 'build');
  const file = path.join(buildDir, 'splatcast_engine.node');
  if (!existsSync(file))
    throw new Error(
      `the native engine is not built (${file} is missing): run "npm install" or "npm run build:native --workspace engine"`,
    );
  return createRequire(import.meta.url)(file) as NativeAddon;
}

export const addon: NativeAddon = load();
