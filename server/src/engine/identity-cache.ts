// The identities a worker holds on its device, by identity id, shared and refcounted by its sessions: the first
// session loads and uploads one, the last one to close frees it. Each entry also keeps the AudioNet input of
// silence and the idle frames already rendered (an idle frame depends only on the identity and its track frame).
import {
  type AudioConfig,
  audioLatencyMs,
  DeviceIdentity,
  type DeviceKind,
  HOP,
  IdentityFormatError,
  LogMelStream,
  loadIdentity,
  MEL_BANDS,
  SAMPLE_RATE,
} from '@splatcast/engine';
import { EngineError } from '../errors.js';

export interface IdentityEntry {
  readonly id: string;
  readonly identity: DeviceIdentity;
  /** Audio latency of the identity's feature window, ms. */
  readonly lookaheadMs: number;
  /** AudioNet input of digital silence for one frame: what idle frames render with. */
  readonly silenceWindows: Float32Array;
  readonly idleFrames: Map<number, Uint8Array>;
  refs: number;
}

export interface IdentityCacheOptions {
  device: DeviceKind;
  width: number;
  height: number;
  maxLookaheadMs: number;
  idleCacheBytes: number;
}

export class IdentityCache {
  private readonly entries = new Map<string, Promise<IdentityEntry>>();
  private idleBytes = 0;
  private closed = false;

  constructor(private readonly options: IdentityCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of idle frames held. */
  get idleCacheBytes(): number {
    return this.idleBytes;
  }

  /** The identity `id`, loaded from `dir` unless a session holds it already. Release it when done. */
  async acquire(id: string, dir: string): Promise<IdentityEntry> {
    if (this.closed) throw new EngineError('invalid-state', 'the identity cache was disposed');
    let pending = this.entries.get(id);
    if (!pending) {
      pending = this.load(id, dir);
      this.entries.set(id, pending);
      pending.catch(() => this.entries.delete(id));
    }
    const entry = await pending;
    // The last holder may have released it while this call waited: load it afresh.
    if (entry.identity.disposed) return this.acquire(id, dir);
    entry.refs++;
    return entry;
  }

  release(entry: IdentityEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    this.entries.delete(entry.id);
    this.dropIdleFrames(entry);
    entry.identity.dispose();
  }

  idleFrame(entry: IdentityEntry, trackFrame: number): Uint8Array | undefined {
    return entry.idleFrames.get(trackFrame);
  }

  /** Keeps an idle frame (a copy nobody mutates) while the budget allows. */
  storeIdleFrame(entry: IdentityEntry, trackFrame: number, i420: Uint8Array): void {
    if (entry.identity.disposed || entry.idleFrames.has(trackFrame)) return;
    if (this.idleBytes + i420.byteLength > this.options.idleCacheBytes) return;
    entry.idleFrames.set(trackFrame, i420);
    this.idleBytes += i420.byteLength;
  }

  dispose(): void {
    this.closed = true;
    for (const pending of this.entries.values())
      pending.then(
        (entry) => {
          this.dropIdleFrames(entry);
          entry.identity.dispose();
        },
        () => {},
      );
    this.entries.clear();
  }

  private async load(id: string, dir: string): Promise<IdentityEntry> {
    let identity: Awaited<ReturnType<typeof loadIdentity>>;
    try {
      identity = await loadIdentity(dir);
    } catch (e) {
      const message = e instanceof IdentityFormatError ? e.message : `identity "${id}": ${(e as Error).message}`;
      throw new EngineError('identity', message);
    }
    const audio = identity.manifest.model.audio;
    checkAudio(id, audio);
    const lookaheadMs = audioLatencyMs(audio);
    if (lookaheadMs > this.options.maxLookaheadMs)
      throw new EngineError(
        'unsupported',
        `identity "${id}" needs ${lookaheadMs} ms of audio lookahead, this worker allows ${this.options.maxLookaheadMs} ms (raise maxLookaheadMs or use an identity trained with a smaller windowAhead)`,
      );
    if (this.closed) throw new EngineError('invalid-state', 'the identity cache was disposed');
    let device: DeviceIdentity;
    try {
      device = DeviceIdentity.upload(identity, this.options.device, this.options);
    } catch (e) {
      throw new EngineError('identity', `identity "${id}": upload failed: ${(e as Error).message}`);
    }
    return { id, identity: device, lookaheadMs, silenceWindows: silenceWindows(audio), idleFrames: new Map(), refs: 0 };
  }

  private dropIdleFrames(entry: IdentityEntry): void {
    for (const frame of entry.idleFrames.values()) this.idleBytes -= frame.byteLength;
    entry.idleFrames.clear();
  }
}

/** The server computes log-mel features itself (LogMelStream); identities trained on anything else are refused. */
function checkAudio(id: string, audio: AudioConfig): void {
  const rate = SAMPLE_RATE / HOP;
  if (audio.feature !== 'log-mel' || audio.featureDim !== MEL_BANDS || audio.featureRate !== rate)
    throw new EngineError(
      'unsupported',
      `identity "${id}" was trained on ${audio.feature} features (${audio.featureDim}-d, ${audio.featureRate}/s); the streaming server computes log-mel, ${MEL_BANDS}-d, ${rate}/s`,
    );
}

/** [attention frames, window, featureDim] of the log-mel of digital silence. */
function silenceWindows(audio: AudioConfig): Float32Array {
  const mel = new LogMelStream();
  mel.push(new Float32Array(2 * HOP));
  const step = mel.pull().subarray(0, MEL_BANDS);
  const steps = (audio.attentionBefore + 1 + audio.attentionAfter) * audio.window;
  const out = new Float32Array(steps * MEL_BANDS);
  for (let s = 0; s < steps; s++) out.set(step, s * MEL_BANDS);
  return out;
}
