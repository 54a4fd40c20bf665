// The engine's public entry point: what the streaming server drives. Importing values from here loads the native
// addon; a process that must stay free of native code (the SFU) imports types only.
export { audioLatencyMs, FeatureWindow, VIDEO_FPS } from './audio/feature-window.js';
export { HOP, LogMelStream, MEL_BANDS, SAMPLE_RATE } from './audio/log-mel.js';
export { Resampler } from './audio/resample.js';
export { median, randomAudioWindows } from './bench/sampling.js';
export { chooseDevice, type DeviceChoice, type DeviceRequest } from './device.js';
export { type EvalOptions, type EvalResult, evaluateIdentity } from './eval/evaluate.js';
export { type FixtureOptions, makeFixtureIdentity } from './identity/fixture.js';
export { type Identity, IdentityFormatError, loadIdentity } from './identity/package.js';
export { type AudioConfig, defaultModelConfig, type ModelConfig } from './model/config.js';
export { i420Size } from './ops/i420.js';
export { audioWindowsAt } from './render/audio-windows.js';
export { DeviceIdentity } from './render/device-identity.js';
export { type FrameRequest, trackFrameAt } from './render/frame-request.js';
export { MAX_BATCH, type RenderedBatch, Renderer, type RendererOptions } from './render/renderer.js';
export type { DeviceKind } from './tensor.js';
export {
  loadMotionPrior,
  type MotionPrior,
  MotionPriorError,
  PRIOR_FORMAT,
  saveMotionPrior,
} from './train/motion-prior.js';
export {
  DEFAULT_PRETRAIN_SCHEDULE,
  type PretrainOptions,
  type PretrainProgress,
  type PretrainResult,
  type PretrainSchedule,
  pretrainMotionPrior,
} from './train/pretrain.js';
export { ADAPT_SCHEDULE, DEFAULT_SCHEDULE, type ScheduleOptions } from './train/stages.js';
export {
  TrainingAborted,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  trainIdentity,
} from './train/trainer.js';
