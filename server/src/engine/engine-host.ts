// Everything an engine worker process runs: its renderer, identities, sessions and clock, and the dispatcher of the
// parent's requests. A malformed or failing request gets an error reply; only a failing tick (a device fault) is
// fatal, since a half-done batch may have left the device unusable.
import { type DeviceKind, Renderer } from '@splatcast/engine';
import { EngineError, toErrorReply } from '../errors.js';
import { FrameEncoder } from './frame-encoder.js';
import { FrameScheduler } from './frame-scheduler.js';
import { IdentityCache, type IdentityEntry } from './identity-cache.js';
import {
  type ChildMessage,
  describeIssues,
  type Empty,
  type EncodedEngineFrame,
  type EngineFrame,
  type Method,
  parentMessageSchema,
  type RequestData,
  type Results,
  requestSchemas,
  type SessionEvent,
  type WorkerConfig,
  type WorkerStats,
} from './protocol.js';
import { WorkerSession } from './worker-session.js';

export interface EngineHostHooks {
  post(message: ChildMessage): void;
  /** The parent asked the worker to close. */
  onClose(): void;
  /** A tick failed: the worker must exit. */
  onFatal(error: unknown): void;
}

export class EngineHost {
  private readonly renderer: Renderer;
  private readonly cache: IdentityCache;
  private readonly sessions = new Map<string, WorkerSession>();
  /** Sessions whose frames are encoded here (after configureVideo). */
  private readonly encoders = new Map<string, FrameEncoder>();
  /** Identities loaded by preloadIdentity, by id, each holding one cache reference. */
  private readonly preloaded = new Map<string, Promise<IdentityEntry>>();
  /** Session ids whose openSession is loading the identity (they count against maxSessions). */
  private readonly opening = new Set<string>();
  private readonly scheduler: FrameScheduler;
  private closed = false;

  constructor(
    readonly config: WorkerConfig,
    readonly device: DeviceKind,
    private readonly hooks: EngineHostHooks,
  ) {
    this.renderer = new Renderer({ device, width: config.width, height: config.height });
    this.cache = new IdentityCache({ ...config, device });
    const sink = {
      frame: (frame: EngineFrame) => {
        const encoder = this.encoders.get(frame.sessionId);
        if (encoder) encoder.push(frame);
        else hooks.post({ kind: 'frame', frame });
      },
      event: (event: SessionEvent) => hooks.post({ kind: 'sessionEvent', event }),
    };
    this.scheduler = new FrameScheduler(this.renderer, this.sessions, this.cache, sink, config.fps, hooks.onFatal);
    this.scheduler.start();
  }

  /** Handles one message from the parent; never throws. */
  async handle(raw: unknown): Promise<void> {
    const envelope = parentMessageSchema.safeParse(raw);
    if (!envelope.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      const message = `malformed message: ${describeIssues(envelope.error)}`;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0)
        this.reply(id, new EngineError('invalid-request', message));
      else this.hooks.post({ kind: 'protocolError', message });
      return;
    }
    const msg = envelope.data;
    if (msg.kind === 'close') {
      this.hooks.onClose();
      return;
    }
    try {
      if (!Object.hasOwn(requestSchemas, msg.method))
        throw new EngineError(
          'invalid-request',
          `unknown method "${msg.method}" (expected one of ${Object.keys(requestSchemas).join(', ')})`,
        );
      this.reply(msg.id, undefined, await this.dispatch(msg.method as Method, msg.data));
    } catch (error) {
      this.reply(msg.id, error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.stop();
    this.sessions.clear();
    this.preloaded.clear();
    for (const encoder of this.encoders.values()) encoder.close();
    this.encoders.clear();
    this.cache.dispose();
    this.renderer.dispose();
  }

  private reply(id: number, error: unknown, data?: unknown): void {
    if (error === undefined) this.hooks.post({ kind: 'response', id, ok: true, data });
    else this.hooks.post({ kind: 'response', id, ok: false, error: toErrorReply(error) });
  }

  private dispatch(method: Method, data: unknown): unknown {
    if (this.closed) throw new EngineError('invalid-state', 'the engine worker is closing');
    switch (method) {
      case 'openSession':
        return this.openSession(parse(method, data));
      case 'closeSession':
        return this.closeSession(parse(method, data));
      case 'pushAudio': {
        const { sessionId, pcm, sampleRate, receivedAtMs, live } = parse(method, data);
        const samples = pcm instanceof Int16Array ? Float32Array.from(pcm, (v) => v / 32768) : pcm;
        const bufferedMs = this.session(sessionId).pushAudio(samples, sampleRate, receivedAtMs, live);
        return { bufferedMs } satisfies Results[typeof method];
      }
      case 'endSegment':
        this.session(parse(method, data).sessionId).endSegment();
        return {} satisfies Results[typeof method];
      case 'interrupt':
        return this.session(parse(method, data).sessionId).interrupt() satisfies Results[typeof method];
      case 'stats':
        parse(method, data);
        return this.stats();
      case 'configureVideo':
        return this.configureVideo(parse(method, data));
      case 'requestKeyframe':
        this.encoder(parse(method, data).sessionId).requestKeyframe();
        return {} satisfies Results[typeof method];
      case 'setBitrate': {
        const { sessionId, bitrateBps } = parse(method, data);
        this.encoder(sessionId).setBitrate(bitrateBps);
        return {} satisfies Results[typeof method];
      }
      case 'preloadIdentity':
        return this.preloadIdentity(parse(method, data));
      case 'releaseIdentity':
        this.releaseIdentity(parse(method, data).identityId);
        return {} satisfies Results[typeof method];
      default:
        throw new EngineError('invalid-request', `unknown method "${method satisfies never}"`);
    }
  }

  private async openSession({
    sessionId,
    identityId,
    identityDir,
  }: RequestData<'openSession'>): Promise<Results['openSession']> {
    if (this.sessions.has(sessionId) || this.opening.has(sessionId))
      throw new EngineError('invalid-state', `session "${sessionId}" is open already`);
    if (this.sessions.size + this.opening.size >= this.config.maxSessions)
      throw new EngineError('session-limit', `this worker holds its maximum of ${this.config.maxSessions} sessions`);
    this.opening.add(sessionId);
    try {
      const entry = await this.cache.acquire(identityId, identityDir);
      if (this.closed) throw new EngineError('invalid-state', 'the engine worker is closing');
      const emit = (event: SessionEvent) => this.hooks.post({ kind: 'sessionEvent', event });
      this.sessions.set(sessionId, new WorkerSession(sessionId, entry, this.scheduler.tick, emit));
      return {
        identityName: entry.identity.name,
        lookaheadMs: entry.lookaheadMs,
        width: this.config.width,
        height: this.config.height,
      };
    } finally {
      this.opening.delete(sessionId);
    }
  }

  private async preloadIdentity({ identityId, identityDir }: RequestData<'preloadIdentity'>): Promise<Empty> {
    // Preloading twice is harmless (the spare's parent may retry after a timeout): one reference per identity.
    let pending = this.preloaded.get(identityId);
    if (!pending) {
      pending = this.cache.acquire(identityId, identityDir);
      this.preloaded.set(identityId, pending);
      pending.catch(() => this.preloaded.delete(identityId));
    }
    await pending;
    return {};
  }

  private releaseIdentity(identityId: string): void {
    const pending = this.preloaded.get(identityId);
    if (!pending) return;
    this.preloaded.delete(identityId);
    // A load still in flight is released when it lands (or failed, holding nothing).
    pending.then(
      (entry) => this.cache.release(entry),
      () => {},
    );
  }

  private configureVideo({ sessionId, codec, bitrateBps, keyframeInterval }: RequestData<'configureVideo'>): Empty {
    this.session(sessionId);
    this.encoders.get(sessionId)?.close();
    const { width, height } = this.config;
    const post = (frame: EncodedEngineFrame) => this.hooks.post({ kind: 'encodedFrame', frame });
    // An encoder fault is the session's, not the worker's: its frames go out without pictures from then on.
    const failed = (error: Error) => {
      process.stderr.write(`splatcast engine worker: session ${sessionId}: encoder failed: ${error.message}\n`);
      this.encoders.get(sessionId)?.close();
    };
    const options = { codec, width, height, fps: 25, bitrateBps, ...(keyframeInterval ? { keyframeInterval } : {}) };
    this.encoders.set(sessionId, new FrameEncoder(options, post, failed));
    return {};
  }

  private encoder(sessionId: string): FrameEncoder {
    const encoder = this.encoders.get(sessionId);
    if (!encoder) {
      this.session(sessionId);
      throw new EngineError('invalid-state', `session "${sessionId}" has no video encoder (configureVideo first)`);
    }
    return encoder;
  }

  private closeSession({ sessionId }: RequestData<'closeSession'>): Empty {
    const session = this.session(sessionId);
    this.sessions.delete(sessionId);
    this.encoders.get(sessionId)?.close();
    this.encoders.delete(sessionId);
    this.cache.release(session.entry);
    return {};
  }

  private session(id: string): WorkerSession {
    const session = this.sessions.get(id);
    if (!session) throw new EngineError('invalid-state', `no session "${id}" on this worker`);
    return session;
  }

  private stats(): WorkerStats {
    let underruns = 0;
    for (const s of this.sessions.values()) underruns += s.underruns;
    return {
      ...this.scheduler.stats(),
      sessions: this.sessions.size,
      identities: this.cache.size,
      preloadedIdentities: this.preloaded.size,
      underruns,
      idleCacheBytes: this.cache.idleCacheBytes,
    };
  }
}

function parse<M extends Method>(method: M, data: unknown): RequestData<M> {
  const parsed = requestSchemas[method].safeParse(data ?? {});
  if (!parsed.success) throw new EngineError('invalid-request', `${method}: ${describeIssues(parsed.error)}`);
  return parsed.data as RequestData<M>;
}
