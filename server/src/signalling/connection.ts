// One client WebSocket speaking splatcast.v1: Hello first (within helloTimeoutMs), then requests, in order, each
// answered with its response or a ServerError. Every frame is decoded and validated by @splatcast/proto; a bad one
// gets an error reply (or, before Hello or when fatal, Closing and a close with 4000 + code), never a crash.
import {
  CloseReason,
  closeCodeForError,
  DEFAULT_CODEC_LIMITS,
  decodeClientMessage,
  ErrorCode,
  encodeServerMessage,
  type KnownClientMessage,
  negotiateProtocolVersion,
  PCM_SAMPLE_RATES,
  PROTOCOL_VERSION,
  type ServerMessageInit,
} from '@splatcast/proto';
import type { WebSocket } from 'ws';
import type { StreamingConfig } from '../config.js';
import { Logger } from '../logger.js';
import type { Response, Session } from '../session/session.js';
import { SessionError } from '../session/session-error.js';
import type { SessionManager, SessionOwner } from '../session/session-manager.js';

const logger = new Logger('Connection');

type State = 'hello' | 'opening' | 'ready' | 'closed';

export class Connection implements SessionOwner {
  private state: State = 'hello';
  private session: Session | undefined;
  private queue: Promise<void> = Promise.resolve();
  private helloTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private lastRefill = performance.now();
  private refused = 0;
  private readonly limits;

  constructor(
    private readonly socket: WebSocket,
    private readonly manager: SessionManager,
    private readonly config: StreamingConfig,
    private readonly router: { rtpCapabilitiesJson(): string },
  ) {
    const s = config.sessions;
    this.limits = {
      ...DEFAULT_CODEC_LIMITS,
      maxMessageBytes: s.maxMessageBytes,
      maxPcmChunkBytes: s.maxPcmChunkBytes,
    };
    this.tokens = s.maxMessagesPerSecond;
    this.helloTimer = setTimeout(
      () => this.fail(ErrorCode.UNEXPECTED_MESSAGE, `no Hello within ${s.helloTimeoutMs} ms`),
      s.helloTimeoutMs,
    );
    this.touch();
    socket.on('message', (data, isBinary) => this.received(data as Buffer, isBinary));
    socket.on('close', (code) => this.closed(code));
    socket.on('error', (error) => logger.debug('socket error: %s', error.message));
  }

  /** SessionOwner: the manager ended the session or gave it to another connection. */
  ended(reason: 'replaced' | 'max-duration' | 'closed', message: string): void {
    const closeReason =
      reason === 'replaced'
        ? CloseReason.REPLACED
        : reason === 'max-duration'
          ? CloseReason.MAX_DURATION
          : CloseReason.SERVER_SHUTDOWN;
    this.session = undefined;
    this.closeWith(closeReason, message, ErrorCode.UNSPECIFIED, 1000);
  }

  private received(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.touch();
    if (!isBinary) {
      this.reply(0, {
        case: 'error',
        value: { code: ErrorCode.MALFORMED_MESSAGE, message: 'expected a binary frame' },
      });
      return;
    }
    if (!this.takeToken()) return;
    const decoded = decodeClientMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.limits);
    if (decoded.kind === 'unknown') {
      logger.debug('ignored unknown payload case %o', decoded.fieldNumbers);
      return;
    }
    if (decoded.kind === 'error') {
      const { code, message, requestId } = decoded.error;
      if (this.state === 'hello') this.fail(code, message, requestId);
      else this.reply(requestId, { case: 'error', value: { code, message } });
      return;
    }
    const message = decoded.message;
    this.queue = this.queue.then(() => this.dispatch(message));
  }

  private async dispatch(message: KnownClientMessage): Promise<void> {
    if (this.state === 'closed') return;
    const { requestId, payload } = message;
    if (payload.case === 'ping') {
      this.reply(requestId, {
        case: 'pong',
        value: { clientTimeMs: payload.value.clientTimeMs, serverTimeMs: performance.timeOrigin + performance.now() },
      });
      return;
    }
    if (payload.case === 'hello') {
      await this.hello(requestId, payload.value);
      return;
    }
    if (this.state !== 'ready' || !this.session) {
      this.fail(ErrorCode.UNEXPECTED_MESSAGE, `${payload.case} before Hello`, requestId);
      return;
    }
    try {
      const response = await this.session.handle(payload);
      if (response) this.reply(requestId, response);
    } catch (error) {
      const e = error instanceof SessionError ? error : new SessionError(ErrorCode.INTERNAL, String(error));
      if (e.code === ErrorCode.INTERNAL) logger.error('%s: %s', payload.case, e.message);
      if (e.fatal) this.fail(e.code, e.message, requestId);
      else this.reply(requestId, { case: 'error', value: { code: e.code, message: e.message } });
    }
  }

  private async hello(requestId: number, hello: Extract<KnownClientMessage['payload'], { case: 'hello' }>['value']) {
    if (this.state !== 'hello') {
      this.reply(requestId, {
        case: 'error',
        value: { code: ErrorCode.UNEXPECTED_MESSAGE, message: 'a second Hello' },
      });
      return;
    }
    clearTimeout(this.helloTimer);
    const version = negotiateProtocolVersion(hello.protocolVersion);
    if (!version.ok) {
      this.fail(version.failure.code, version.failure.message, requestId);
      return;
    }
    this.state = 'opening';
    let opened: Awaited<ReturnType<SessionManager['open']>>;
    try {
      opened = await this.manager.open(hello.token, hello.identityId, hello.resumeSessionId, this);
    } catch (error) {
      const e = error instanceof SessionError ? error : new SessionError(ErrorCode.INTERNAL, String(error), true);
      this.fail(e.code, e.message, requestId);
      return;
    }
    if (this.socket.readyState !== this.socket.OPEN) {
      this.manager.detach(opened.session, this, true);
      return;
    }
    this.session = opened.session;
    this.state = 'ready';
    opened.session.on('event', this.onEvent);
    opened.session.once('@close', this.onSessionClose);
    const s = this.config.sessions;
    const engine = this.config.engine;
    this.reply(requestId, {
      case: 'welcome',
      value: {
        sessionId: opened.session.id,
        protocolVersion: PROTOCOL_VERSION,
        resumed: opened.resumed,
        limits: {
          maxMessageBytes: s.maxMessageBytes,
          maxPcmChunkBytes: s.maxPcmChunkBytes,
          pcmSampleRates: [...PCM_SAMPLE_RATES],
          maxPcmBufferedMs: s.maxPcmBufferedMs,
          maxMessagesPerSecond: s.maxMessagesPerSecond,
          idleTimeoutMs: s.idleTimeoutMs,
          maxSessionMs: s.maxSessionMs,
        },
        stream: {
          lookaheadMs: Math.round(opened.session.engine.lookaheadMs),
          frameWidth: engine.width,
          frameHeight: engine.height,
          fps: 25,
        },
        routerRtpCapabilitiesJson: this.router.rtpCapabilitiesJson(),
      },
    });
  }

  private readonly onEvent = (payload: Response): void => {
    this.reply(0, payload);
    if (payload?.case === 'error' && payload.value.fatal)
      this.closeWith(CloseReason.ERROR, payload.value.message ?? '', payload.value.code ?? ErrorCode.INTERNAL);
  };

  private readonly onSessionClose = (): void => {
    if (this.state !== 'closed')
      this.closeWith(CloseReason.SERVER_SHUTDOWN, 'the session ended', ErrorCode.UNSPECIFIED, 1000);
  };

  /** Token bucket: maxMessagesPerSecond sustained, as much again in a burst. */
  private takeToken(): boolean {
    const rate = this.config.sessions.maxMessagesPerSecond;
    const now = performance.now();
    this.tokens = Math.min(2 * rate, this.tokens + ((now - this.lastRefill) * rate) / 1000);
    this.lastRefill = now;
    if (this.tokens >= 1) {
      this.tokens--;
      this.refused = 0;
      return true;
    }
    this.refused++;
    if (this.refused === 1)
      this.reply(0, {
        case: 'error',
        value: { code: ErrorCode.RATE_LIMITED, message: `more than ${rate} messages/s` },
      });
    if (this.refused > 4 * rate) this.fail(ErrorCode.RATE_LIMITED, 'the client keeps exceeding the message rate');
    return false;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    const ms = this.config.sessions.idleTimeoutMs;
    this.idleTimer = setTimeout(() => this.closeWith(CloseReason.IDLE_TIMEOUT, `no message for ${ms} ms`), ms);
  }

  private reply(requestId: number, payload: ServerMessageInit['payload']): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    const encoded = encodeServerMessage({ requestId, payload } as ServerMessageInit);
    if (encoded.kind === 'error') {
      logger.error('could not encode %s: %s', payload?.case, encoded.error.message);
      return;
    }
    this.socket.send(encoded.bytes);
  }

  /** A fatal error: ServerError, Closing and a close with 4000 + code; the session ends with the connection. */
  private fail(code: ErrorCode, message: string, requestId = 0): void {
    if (this.state === 'closed') return;
    this.reply(requestId, { case: 'error', value: { code, message, fatal: true } });
    this.closeWith(CloseReason.ERROR, message, code);
  }

  private closeWith(reason: CloseReason, message: string, errorCode = ErrorCode.UNSPECIFIED, wsCode?: number): void {
    if (this.state === 'closed') return;
    this.reply(0, { case: 'closing', value: { reason, message: message.slice(0, 1000), errorCode } });
    const session = this.session;
    this.teardown();
    if (session) this.manager.detach(session, this, false);
    const code = wsCode ?? (errorCode ? closeCodeForError(errorCode) : 1000);
    this.socket.close(code, message.slice(0, 120));
  }

  private closed(code: number): void {
    if (this.state === 'closed') return;
    const session = this.session;
    this.teardown();
    // A clean close (1000) ends the session; anything else (network loss) keeps it for a resume.
    if (session) this.manager.detach(session, this, code !== 1000);
  }

  private teardown(): void {
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    clearTimeout(this.idleTimer);
    if (this.session) {
      this.session.off('event', this.onEvent);
      this.session.off('@close', this.onSessionClose);
    }
    this.session = undefined;
  }
}
