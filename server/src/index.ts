// The server's public surface.

export { EnginePool, type EnginePoolEvents, type EnginePoolOptions } from './engine/engine-pool.js';
export {
  EngineSession,
  type EngineSessionEvents,
  type PlaybackFinished,
  type SessionState,
} from './engine/engine-session.js';
export {
  EngineWorker,
  type EngineWorkerEvents,
  type EngineWorkerOptions,
  type OpenSessionOptions,
  type WorkerExit,
} from './engine/engine-worker.js';
export {
  DEFAULT_WORKER_CONFIG,
  type EngineFrame,
  FRAME_AUDIO_RATE,
  type InterruptResult,
  type PushAudioResult,
  SAMPLE_RATES,
  type SampleRate,
  type SessionEvent,
  type WorkerConfig,
  type WorkerStats,
} from './engine/protocol.js';
export { EngineError, type EngineErrorCode } from './errors.js';
