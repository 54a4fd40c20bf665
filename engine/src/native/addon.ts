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

/** A plain MLP's shape (model/config.ts MlpShape). */
export interface MlpShapeArg {
  input: number;
  hidden: number[];
  output: number;
  bias: boolean;
}

export interface FaceMotionShapesArg {
  audioAttention: MlpShapeArg;
  expressionAttention: MlpShapeArg;
  expressionEncoder: MlpShapeArg;
  decoder: MlpShapeArg;
}

export interface MouthMotionShapesArg {
  audioAttention: MlpShapeArg;
  decoder: MlpShapeArg;
  hookScaler: MlpShapeArg;
}

export interface CudaInfo {
  compiledIn: boolean;
  available: boolean;
  reason?: string;
  name?: string;
  freeBytes?: number;
  totalBytes?: number;
}

export interface RasterOptionsArg {
  width: number;
  height: number;
  shDegree: number;
  near?: number;
  far?: number;
}

export interface NativeRasterWorkspace {
  /** Renders a batch; returns the number of (Gaussian, tile) intersections. */
  forward(
    options: RasterOptionsArg,
    rowCounts: number[],
    means: NativeTensor,
    rotations: NativeTensor,
    scales: NativeTensor,
    opacities: NativeTensor[],
    sh: NativeTensor[],
    cameras: NativeTensor,
    rgb: NativeTensor,
    alpha: NativeTensor,
    depth: NativeTensor | null,
    train?: boolean,
  ): number;
  /** Gradients of the last training forward; its inputs must be the forward's own tensors. */
  backward(
    means: NativeTensor,
    rotations: NativeTensor,
    scales: NativeTensor,
    opacities: NativeTensor[],
    sh: NativeTensor[],
    cameras: NativeTensor,
    dRgb: NativeTensor,
    dAlpha: NativeTensor,
    dDepth: NativeTensor | null,
    dMeans: NativeTensor,
    dRotations: NativeTensor,
    dScales: NativeTensor,
    dOpacities: NativeTensor,
    dSh: NativeTensor,
    means2dGradNorm: NativeTensor | null,
    radii: NativeTensor | null,
  ): void;
  readonly reservedBytes: number;
  dispose(): void;
}

export interface NativeAddon {
  NativeTensor: new (device: NativeDevice, dtype: NativeDType, shape: number[]) => NativeTensor;
  RasterWorkspace: new (device: NativeDevice) => NativeRasterWorkspace;
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
  triplaneHashgridBackward(
    device: NativeDevice,
    config: HashgridConfigArg,
    rowCounts: number[],
    xyz: NativeTensor,
    tables: NativeTensor[],
    gradOut: NativeTensor,
    gradTables: NativeTensor[],
    gradXyz: NativeTensor | null,
  ): void;
  mlpLayout(shape: MlpShapeArg): { paramCount: number };
  mlpForward(
    device: NativeDevice,
    shape: MlpShapeArg,
    rowCounts: number[],
    input: NativeTensor,
    weights: NativeTensor[],
    out: NativeTensor,
  ): void;
  mlpBackward(
    device: NativeDevice,
    shape: MlpShapeArg,
    rowCounts: number[],
    input: NativeTensor,
    weights: NativeTensor[],
    gradOut: NativeTensor,
    gradWeights: NativeTensor[],
    gradInput: NativeTensor | null,
  ): void;
  audioNetLayout(config: { featureDim: number; window: number; codeDim: number }): { paramCount: number };
  audioNetForward(
    device: NativeDevice,
    config: { featureDim: number; window: number; codeDim: number },
    rowCounts: number[],
    windows: NativeTensor,
    weights: NativeTensor[],
    codes: NativeTensor,
  ): void;
  audioNetBackward(
    device: NativeDevice,
    config: { featureDim: number; window: number; codeDim: number },
    rowCounts: number[],
    windows: NativeTensor,
    weights: NativeTensor[],
    gradCodes: NativeTensor,
    gradWeights: NativeTensor[],
    gradWindows: NativeTensor | null,
  ): void;
  audioAttNetLayout(config: { frames: number; codeDim: number }): { paramCount: number };
  audioAttNetForward(
    device: NativeDevice,
    config: { frames: number; codeDim: number },
    rowCounts: number[],
    codes: NativeTensor,
    weights: NativeTensor[],
    out: NativeTensor,
  ): void;
  audioAttNetBackward(
    device: NativeDevice,
    config: { frames: number; codeDim: number },
    rowCounts: number[],
    codes: NativeTensor,
    weights: NativeTensor[],
    gradOut: NativeTensor,
    gradWeights: NativeTensor[],
    gradCodes: NativeTensor | null,
  ): void;
  faceMotionLayout(shapes: FaceMotionShapesArg): {
    gridDim: number;
    codeDim: number;
    expressionDim: number;
    outputDim: number;
    paramCounts: Record<keyof FaceMotionShapesArg, number>;
  };
  faceMotionForward(
    device: NativeDevice,
    shapes: FaceMotionShapesArg,
    rowCounts: number[],
    h: NativeTensor,
    audio: NativeTensor,
    expression: NativeTensor,
    weights: Record<keyof FaceMotionShapesArg, NativeTensor[]>,
    out: NativeTensor,
  ): void;
  faceMotionBackward(
    device: NativeDevice,
    shapes: FaceMotionShapesArg,
    rowCounts: number[],
    h: NativeTensor,
    audio: NativeTensor,
    expression: NativeTensor,
    weights: Record<keyof FaceMotionShapesArg, NativeTensor[]>,
    gradOut: NativeTensor,
    gradWeights: Record<keyof FaceMotionShapesArg, NativeTensor[]>,
    gradH: NativeTensor | null,
    gradAudio: NativeTensor | null,
    gradExpression: NativeTensor,
  ): void;
  mouthMotionLayout(shapes: MouthMotionShapesArg): {
    gridDim: number;
    codeDim: number;
    outputDim: number;
    paramCounts: Record<keyof MouthMotionShapesArg, number>;
  };
  mouthMotionForward(
    device: NativeDevice,
    shapes: MouthMotionShapesArg,
    rowCounts: number[],
    h: NativeTensor,
    audio: NativeTensor,
    hook: NativeTensor,
    weights: Record<keyof MouthMotionShapesArg, NativeTensor[]>,
    out: NativeTensor,
  ): void;
  mouthMotionBackward(
    device: NativeDevice,
    shapes: MouthMotionShapesArg,
    rowCounts: number[],
    h: NativeTensor,
    audio: NativeTensor,
    hook: NativeTensor,
    weights: Record<keyof MouthMotionShapesArg, NativeTensor[]>,
    gradOut: NativeTensor,
    gradWeights: Record<keyof MouthMotionShapesArg, NativeTensor[]>,
    gradH: NativeTensor | null,
    gradAudio: NativeTensor | null,
    gradHook: NativeTensor | null,
  ): void;
  gatherRows(device: NativeDevice, rowCounts: number[], sources: NativeTensor[], out: NativeTensor): void;
  gatherRowsBackward(
    device: NativeDevice,
    rowCounts: number[],
    gradOut: NativeTensor,
    gradSources: NativeTensor[],
  ): void;
  alignerApply(
    device: NativeDevice,
    rowCounts: number[],
    means: NativeTensor[],
    raw: NativeTensor,
    query: NativeTensor,
    tau: NativeTensor,
  ): void;
  alignerApplyBackward(
    device: NativeDevice,
    rowCounts: number[],
    raw: NativeTensor,
    gradQuery: NativeTensor | null,
    gradTau: NativeTensor | null,
    gradRaw: NativeTensor,
    gradMeans: NativeTensor[] | null,
  ): void;
  deformGaussians(
    device: NativeDevice,
    rowCounts: number[],
    means: NativeTensor[],
    rotations: NativeTensor[],
    scales: NativeTensor[],
    deltas: NativeTensor,
    tau: NativeTensor | null,
    options: { xyzColumn: number; rotationColumn: number; scaleColumn: number; displacementScale: number },
    outMeans: NativeTensor,
    outRotations: NativeTensor,
    outScales: NativeTensor,
    outDisplacement: NativeTensor,
  ): void;
  deformGaussiansBackward(
    device: NativeDevice,
    rowCounts: number[],
    rotations: NativeTensor[],
    scales: NativeTensor[],
    deltas: NativeTensor,
    tau: NativeTensor | null,
    options: { xyzColumn: number; rotationColumn: number; scaleColumn: number; displacementScale: number },
    gradMeans: NativeTensor,
    gradRotations: NativeTensor | null,
    gradScales: NativeTensor | null,
    gradDisplacement: NativeTensor | null,
    gradDeltas: NativeTensor,
    gradTau: NativeTensor | null,
    gradBaseMeans: NativeTensor[] | null,
    gradBaseRotations: NativeTensor[] | null,
    gradBaseScales: NativeTensor[] | null,
  ): void;
  hookFeatures(
    device: NativeDevice,
    rowCounts: number[],
    displacement: NativeTensor,
    topK: number,
    out: NativeTensor,
  ): void;
  hookFeaturesBackward(
    device: NativeDevice,
    rowCounts: number[],
    displacement: NativeTensor,
    topK: number,
    gradOut: NativeTensor,
    gradDisplacement: NativeTensor,
  ): void;
  composite(
    device: NativeDevice,
    faceRgb: NativeTensor,
    faceAlpha: NativeTensor,
    mouthRgb: NativeTensor,
    mouthAlpha: NativeTensor,
    backgrounds: NativeTensor[],
    dilateRadius: number,
    scratch: NativeTensor,
    out: NativeTensor,
  ): void;
  compositeBackward(
    device: NativeDevice,
    faceRgb: NativeTensor,
    faceAlpha: NativeTensor,
    mouthRgb: NativeTensor,
    mouthAlpha: NativeTensor,
    backgrounds: NativeTensor[],
    dilateRadius: number,
    gradOut: NativeTensor,
    scratch: NativeTensor,
    argScratch: NativeTensor,
    gradFaceRgb: NativeTensor,
    gradFaceAlpha: NativeTensor,
    gradMouthRgb: NativeTensor,
    gradMouthAlpha: NativeTensor,
  ): void;
  l1Loss(
    device: NativeDevice,
    image: NativeTensor,
    target: NativeTensor,
    mask: NativeTensor | null,
    weight: number,
    loss: NativeTensor,
    gradImage: NativeTensor | null,
  ): void;
  dssimLoss(
    device: NativeDevice,
    image: NativeTensor,
    target: NativeTensor,
    mask: NativeTensor | null,
    weight: number,
    loss: NativeTensor,
    gradImage: NativeTensor | null,
    workspace: NativeTensor,
  ): void;
  rgbToI420(device: NativeDevice, rgb: NativeTensor, fullRange: boolean, out: NativeTensor): void;
  densifyStats(
    device: NativeDevice,
    gradNorm: NativeTensor,
    radii: NativeTensor,
    accum: NativeTensor,
    count: NativeTensor,
    maxRadii: NativeTensor,
  ): void;
  adamStep(
    device: NativeDevice,
    params: NativeTensor,
    grads: NativeTensor,
    m: NativeTensor,
    v: NativeTensor,
    options: {
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
      gradScale: number;
      step: number;
    },
  ): void;
  squaredNorm(device: NativeDevice, x: NativeTensor): number;
  contrastLoss(
    device: NativeDevice,
    a: NativeTensor,
    b: NativeTensor,
    weight: number,
    loss: NativeTensor,
    gradA: NativeTensor | null,
    gradB: NativeTensor | null,
  ): void;
  axpy(device: NativeDevice, alpha: number, x: NativeTensor, y: NativeTensor): void;
  geometryLoss(
    device: NativeDevice,
    depth: NativeTensor,
    alpha: NativeTensor,
    prior: NativeTensor,
    options: { fx: number; fy: number; cx: number; cy: number; weightDepth: number; weightNormal: number },
    workspace: NativeTensor,
    loss: NativeTensor,
    gradDepth: NativeTensor | null,
    gradAlpha: NativeTensor | null,
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
