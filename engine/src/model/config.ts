// The model's shape: everything that fixes tensor sizes. Weights live in the identity package; this config travels
// in its manifest. Defaults follow the official InsTaG code (see docs/identity-format.md for every key).
import type { HashgridConfig } from '../ops/triplane-hashgrid.js';

/** A plain MLP: ReLU between layers, linear output. `hidden` lists the hidden widths. */
export interface MlpShape {
  input: number;
  hidden: number[];
  output: number;
  bias: boolean;
}

export interface AudioConfig {
  /** Feature kind the identity was trained on; the server must compute the same. */
  feature: 'log-mel' | 'onnx';
  /** Feature dimension per 20-ms step (80 mel bands; 1024 for HuBERT-like encoders). */
  featureDim: number;
  /** Feature steps per second (50 = one per 20 ms, two per 25-fps video frame). */
  featureRate: number;
  /** Feature steps in one AudioNet window (official: 16). */
  window: number;
  /** Of those, how many lie after the frame's own step (official: 8; lower = less latency). */
  windowAhead: number;
  /** AudioAttNet looks at video frames [t - attentionBefore, t + attentionAfter] (official: 4 and 3). */
  attentionBefore: number;
  attentionAfter: number;
  /** Width of the audio code fed to the motion fields (official: 32). */
  codeDim: number;
}

export interface BranchConfig {
  /** Spherical-harmonics degree of the colour (0..2). */
  shDegree: number;
  /** Hash encoder of the universal motion field. */
  motionGrid: HashgridConfig;
  /** Hash encoder of the motion aligner (paper: same as the motion field's). */
  alignerGrid: HashgridConfig;
  /** Aligner MLP: grid features -> 6 (offset xyz, scale xyz). */
  aligner: MlpShape;
  /** Audio channel attention: grid features -> codeDim. */
  audioAttention: MlpShape;
  /** Motion decoder: grid features + attended audio + condition -> deformation. */
  decoder: MlpShape;
}

export interface FaceBranchConfig extends BranchConfig {
  /** Expression attention: grid features -> expressionDim. */
  expressionAttention: MlpShape;
  /** Expression encoder over the first expressionDim - 1 signals (the last, blink, passes through). */
  expressionEncoder: MlpShape;
}

export interface MouthBranchConfig extends BranchConfig {
  /** Hook scaler tau_M: grid features + hook features (max, min, range) -> 1. */
  hookScaler: MlpShape;
  /** How many extreme face displacements are averaged for the hook's max and min (official: 10). */
  hookTopK: number;
  /**
   * Face-mouth hook on (InsTaG eqs. 10-11): the mouth field sees the face's lip motion. Off, it sees zeros there
   * (the ablation "without hook"): mouth and face then move only through the shared audio code.
   */
  hook: boolean;
}

export interface ModelConfig {
  audio: AudioConfig;
  /** Upper-face expression signals per frame (AU01, AU04, AU05, AU06, AU07 stand-ins + blink). */
  expressionDim: number;
  face: FaceBranchConfig;
  mouth: MouthBranchConfig;
  /** Mouth alpha is dilated by a (2r+1)^2 max filter before compositing (official: r = 6, a 13x13 pool). */
  mouthDilateRadius: number;
  /** Displacement outputs are multiplied by this (official: 1e-2). */
  displacementScale: number;
}

const mlp = (input: number, hidden: number[], output: number, bias = false): MlpShape => ({
  input,
  hidden,
  output,
  bias,
});

export function defaultModelConfig(): ModelConfig {
  const grid = (baseResolution: number, maxResolution: number): HashgridConfig => ({
    levels: 12,
    features: 1,
    log2Table: 17,
    baseResolution,
    maxResolution,
    bound: 0.15,
  });
  const audio: AudioConfig = {
    feature: 'log-mel',
    featureDim: 80,
    featureRate: 50,
    window: 16,
    windowAhead: 3,
    attentionBefore: 4,
    attentionAfter: 0,
    codeDim: 32,
  };
  const faceGrid = grid(16, 256);
  const mouthGrid = grid(64, 384);
  const gridDim = 3 * 12;
  const expressionDim = 6;
  return {
    audio,
    expressionDim,
    face: {
      shDegree: 2,
      motionGrid: faceGrid,
      alignerGrid: faceGrid,
      aligner: mlp(gridDim, [32], 6),
      audioAttention: mlp(gridDim, [32], audio.codeDim),
      expressionAttention: mlp(gridDim, [16], expressionDim),
      expressionEncoder: mlp(expressionDim - 1, [16], expressionDim - 1),
      // outputs: d_xyz (3), d_rotation (4), d_opacity (1, unused at render), d_scale (3)
      decoder: mlp(gridDim + audio.codeDim + expressionDim, [64, 64], 11),
    },
    mouth: {
      shDegree: 2,
      motionGrid: mouthGrid,
      alignerGrid: mouthGrid,
      aligner: mlp(gridDim, [32], 6),
      audioAttention: mlp(gridDim, [32], audio.codeDim),
      // outputs: d_xyz (3) and four unused channels kept for checkpoint compatibility with the official layout
      decoder: mlp(gridDim + audio.codeDim + 3, [32, 32], 7),
      hookScaler: mlp(gridDim + 3, [32], 1),
      hookTopK: 10,
      hook: true,
    },
    mouthDilateRadius: 6,
    displacementScale: 1e-2,
  };
}

/** Number of weights of an MLP (row-major [out][in] per layer, then the bias if any). */
export function mlpParamCount(shape: MlpShape): number {
  const widths = [shape.input, ...shape.hidden, shape.output];
  let n = 0;
  for (let i = 0; i + 1 < widths.length; i++)
    n += (widths[i] as number) * (widths[i + 1] as number) + (shape.bias ? (widths[i + 1] as number) : 0);
  return n;
}

/** SH coefficients per colour channel for a degree. */
export const shCoefficients = (degree: number): number => (degree + 1) * (degree + 1);
