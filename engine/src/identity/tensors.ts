// The tensors of weights.safetensors and the shape each must have for a model config.
import { type MlpShape, type ModelConfig, mlpParamCount, shCoefficients } from '../model/config.js';
import { AudioAttNet, AudioNet } from '../ops/audio-net.js';
import { TriplaneHashgrid } from '../ops/triplane-hashgrid.js';

export const GAUSSIAN_TENSORS = ['xyz', 'rotation', 'scale', 'opacity', 'sh'] as const;
type GaussianTensor = (typeof GAUSSIAN_TENSORS)[number];

export const TENSOR_NAMES = [
  ...GAUSSIAN_TENSORS.map((t) => `face.${t}` as const),
  ...GAUSSIAN_TENSORS.map((t) => `mouth.${t}` as const),
  'face.motionGrid',
  'face.alignerGrid',
  'face.aligner',
  'face.audioAttention',
  'face.expressionAttention',
  'face.expressionEncoder',
  'face.decoder',
  'mouth.motionGrid',
  'mouth.alignerGrid',
  'mouth.aligner',
  'mouth.audioAttention',
  'mouth.decoder',
  'mouth.hookScaler',
  'audio.net',
  'audio.attention',
] as const;

export type TensorName = (typeof TENSOR_NAMES)[number];
/** All weights of an identity, host-side, float32, row-major. */
export type IdentityWeights = Record<TensorName, Float32Array>;

const gaussianShapes = (n: number, shDegree: number): Record<GaussianTensor, number[]> => ({
  xyz: [n, 3],
  rotation: [n, 4],
  scale: [n, 3],
  opacity: [n],
  sh: [n, shCoefficients(shDegree), 3],
});

/**
 * Every tensor's shape for a model config and the package's Gaussian counts. Parameter counts of the networks come
 * from the ops that consume them (hash tables, MLPs, audio encoders), so the format follows their layouts.
 */
export function expectedTensorShapes(
  model: ModelConfig,
  gaussians: { face: number; mouth: number },
): Record<TensorName, number[]> {
  const params = (shape: MlpShape) => [mlpParamCount(shape)];
  const table = (grid: ModelConfig['face']['motionGrid']) => [new TriplaneHashgrid(grid).paramCount];
  const face = gaussianShapes(gaussians.face, model.face.shDegree);
  const mouth = gaussianShapes(gaussians.mouth, model.mouth.shDegree);
  return {
    'face.xyz': face.xyz,
    'face.rotation': face.rotation,
    'face.scale': face.scale,
    'face.opacity': face.opacity,
    'face.sh': face.sh,
    'mouth.xyz': mouth.xyz,
    'mouth.rotation': mouth.rotation,
    'mouth.scale': mouth.scale,
    'mouth.opacity': mouth.opacity,
    'mouth.sh': mouth.sh,
    'face.motionGrid': table(model.face.motionGrid),
    'face.alignerGrid': table(model.face.alignerGrid),
    'face.aligner': params(model.face.aligner),
    'face.audioAttention': params(model.face.audioAttention),
    'face.expressionAttention': params(model.face.expressionAttention),
    'face.expressionEncoder': params(model.face.expressionEncoder),
    'face.decoder': params(model.face.decoder),
    'mouth.motionGrid': table(model.mouth.motionGrid),
    'mouth.alignerGrid': table(model.mouth.alignerGrid),
    'mouth.aligner': params(model.mouth.aligner),
    'mouth.audioAttention': params(model.mouth.audioAttention),
    'mouth.decoder': params(model.mouth.decoder),
    'mouth.hookScaler': params(model.mouth.hookScaler),
    'audio.net': [new AudioNet(model.audio).paramCount],
    'audio.attention': [new AudioAttNet(model.audio).paramCount],
  };
}
