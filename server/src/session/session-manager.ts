// Admission and bookkeeping of sessions: checks the token and the identity, enforces the session limit, opens the
// engine session and the media, keeps a dropped connection's session for a resume, ends sessions that run too long,
// and re-creates media when a mediasoup worker dies. It is also the admin API's view of live sessions.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@splatcast/proto';
import type { LiveSession, SessionDirectory } from '../admin/session-directory.js';
import { TokenError, type TokenVerifier, type VerifiedToken } from '../auth/token-verifier.js';
import type { StreamingConfig } from '../config.js';
import type { EnginePool } from '../engine/engine-pool.js';
import { EngineError } from '../errors.js';
import type { IdentityResolver } from '../identities/identity-resolver.js';
import { Logger } from '../logger.js';
import { engineResumeMs, sessionsGauge, sessionsTotal, workerRestarts } from '../metrics/streaming.js';
import type { MediaWorkerPool } from '../sfu/media-worker-pool.js';
import { Session } from './session.js';
import { SessionError } from './session-error.js';

const logger = new Logger('SessionManager');

export interface SessionManagerOptions {
  config: StreamingConfig;
  verifier: TokenVerifier;
  identities: IdentityResolver;
  engines: EnginePool;
  media: MediaWorkerPool;
}

/** What owns a session's connection: told when the session ends or is taken over. */
export interface SessionOwner {
  /** The session closed for `reason` (the connection sends Closing and closes). */
  ended(reason: 'replaced' | 'max-duration' | 'closed', message: string): void;
}

interface Entry {
  session: Session;
  owner: SessionOwner | undefined;
  /** Running while no connection holds the session. */
  resumeTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
}

export class SessionManager implements SessionDirectory {
  private readonly entries = new Map<string, Entry>();
  /** Sessions being opened (they count against the limit). */
  private opening = 0;
  private isClosed = false;
  /** False once draining (cluster/drain.ts): new sessions are refused, held ones still resume. */
  private accepting = true;

  constructor(private readonly o: SessionManagerOptions) {
    o.media.on('workerdied', (slot) => {
      workerRestarts.inc({ kind: 'media' });
      for (const { session } of this.entries.values())
        if (session.onSlot(slot)) void session.mediaLost('the media worker restarted');
    });
    o.engines.on('workerdied', () => workerRestarts.inc({ kind: 'engine' }));
    o.engines.on('workerrestarted', (_worker, { fromSpare, resumeMs }) =>
      engineResumeMs.observe({ replacement: fromSpare ? 'spare' : 'fresh' }, resumeMs),
    );
  }

  get size(): number {
    return this.entries.size;
  }

  get sessions(): Session[] {
    return [...this.entries.values()].map((e) => e.session);
  }

  /** Verifies the token, then opens a new session or resumes `resumeId`. Throws fatal SessionErrors. */
  async open(
    tokenText: string,
    identityId: string,
    resumeId: string,
    owner: SessionOwner,
  ): Promise<{ session: Session; resumed: boolean }> {
    if (this.isClosed) throw new SessionError(ErrorCode.SESSION_LIMIT_REACHED, 'the server is shutting down', true);
    const token = await this.verify(tokenText);
    const wanted = identityId || token.identityId;
    if (wanted !== token.identityId)
      throw new SessionError(ErrorCode.PERMISSION_DENIED, `the token does not grant identity "${wanted}"`, true);
    if (!token.capabilities.has('session'))
      throw new SessionError(ErrorCode.PERMISSION_DENIED, 'the token does not grant "session"', true);
    if (resumeId) {
      const entry = this.entries.get(resumeId);
      if (entry && entry.session.token.subject === token.subject && entry.session.identity.id === wanted) {
        clearTimeout(entry.resumeTimer);
        entry.resumeTimer = undefined;
        const previous = entry.owner;
        entry.owner = owner;
        previous?.ended('replaced', 'another connection resumed this session');
        return { session: entry.session, resumed: true };
      }
    }
    if (!this.accepting) {
      sessionsTotal.inc({ result: 'draining' });
      throw new SessionError(
        ErrorCode.SESSION_LIMIT_REACHED,
        'this server is draining: connect again for another',
        true,
      );
    }
    if (this.entries.size + this.opening >= this.o.config.sessions.maxSessions) {
      sessionsTotal.inc({ result: 'limit' });
      throw new SessionError(ErrorCode.SESSION_LIMIT_REACHED, 'this server holds its maximum of sessions', true);
    }
    this.opening++;
    try {
      const session = await this.create(token, wanted);
      const entry: Entry = { session, owner };
      const max = this.o.config.sessions.maxSessionMs;
      if (max > 0)
        entry.maxTimer = setTimeout(
          () => this.end(session.id, 'max-duration', 'the session reached its maximum length'),
          max,
        );
      this.entries.set(session.id, entry);
      session.once('@close', () => this.forget(session.id));
      sessionsGauge.set(this.entries.size);
      sessionsTotal.inc({ result: 'opened' });
      return { session, resumed: false };
    } finally {
      this.opening--;
    }
  }

  /** The connection went away without a clean close: keep the session for a resume, then end it. */
  detach(session: Session, owner: SessionOwner, keep: boolean): void {
    const entry = this.entries.get(session.id);
    if (!entry || entry.owner !== owner) return;
    entry.owner = undefined;
    const window = this.o.config.sessions.resumeWindowMs;
    if (!keep || window === 0) {
      session.close();
      return;
    }
    entry.resumeTimer = setTimeout(() => session.close(), window);
  }

  async list(): Promise<LiveSession[]> {
    return this.sessions.map((s) => ({
      id: s.id,
      identityId: s.identity.id,
      subject: s.token.subject,
      startedAt: s.startedAt.toISOString(),
      worker: `engine pid ${s.engine.workerPid ?? 'restarting'}`,
      state: s.engine.state,
    }));
  }

  async kick(id: string, reason: string): Promise<boolean> {
    return this.end(id, 'closed', reason);
  }

  /** Draining: refuse new sessions from now on; the open ones (and their resumes) carry on until they end. */
  stopAccepting(): void {
    this.accepting = false;
  }

  get isAccepting(): boolean {
    return this.accepting && !this.isClosed;
  }

  /** Ends every session (shutdown). */
  close(): void {
    this.isClosed = true;
    for (const id of [...this.entries.keys()]) this.end(id, 'closed', 'the server is shutting down');
  }

  private end(id: string, reason: 'max-duration' | 'closed', message: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    entry.owner?.ended(reason, message);
    entry.session.close();
    return true;
  }

  private forget(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    clearTimeout(entry.resumeTimer);
    clearTimeout(entry.maxTimer);
    this.entries.delete(id);
    sessionsGauge.set(this.entries.size);
  }

  private async verify(text: string): Promise<VerifiedToken> {
    try {
      return await this.o.verifier.verify(text);
    } catch (error) {
      sessionsTotal.inc({ result: 'unauthenticated' });
      const message = error instanceof TokenError ? error.message : 'the token could not be checked';
      throw new SessionError(ErrorCode.UNAUTHENTICATED, message, true);
    }
  }

  private async create(token: VerifiedToken, identityId: string): Promise<Session> {
    const identity = await this.o.identities.resolve(identityId);
    if (!identity) throw new SessionError(ErrorCode.IDENTITY_NOT_FOUND, `no identity "${identityId}"`, true);
    const id = randomUUID();
    let engine: Awaited<ReturnType<EnginePool['openSession']>>;
    try {
      engine = await this.o.engines.openSession({ identityId: identity.id, identityDir: identity.dir, sessionId: id });
    } catch (error) {
      const e = error as EngineError;
      logger.warn('engine session for %s: %s', identity.id, e.message);
      if (e instanceof EngineError && e.code === 'session-limit')
        throw new SessionError(ErrorCode.SESSION_LIMIT_REACHED, e.message, true);
      if (e instanceof EngineError && (e.code === 'identity' || e.code === 'unsupported'))
        throw new SessionError(ErrorCode.IDENTITY_NOT_FOUND, e.message, true);
      throw new SessionError(ErrorCode.ENGINE_UNAVAILABLE, e.message, true);
    }
    const session = new Session({ id, token, identity, engine, media: this.o.media, config: this.o.config });
    try {
      await session.startEncoding();
      await session.attachMedia();
    } catch (error) {
      session.close();
      throw new SessionError(ErrorCode.ENGINE_UNAVAILABLE, (error as Error).message, true);
    }
    return session;
  }
}
