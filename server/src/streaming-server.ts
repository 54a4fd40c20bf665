// The streaming server assembled: engine workers, mediasoup workers, sessions, signalling, HTTP. `start` brings
// them up in dependency order and `close` takes them down in reverse (stop accepting, end sessions, stop workers).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { persistentSecret } from './admin/secrets.js';
import { mintDevToken } from './auth/dev-token.js';
import { JwtTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import { type DrainResult, drainSessions } from './cluster/drain.js';
import { NodeRegistry } from './cluster/node-registry.js';
import { answerRoute } from './cluster/route-endpoint.js';
import type { ServerConfig } from './config.js';
import { EnginePool } from './engine/engine-pool.js';
import { createHttpServer } from './http/http-server.js';
import { DataDirIdentityResolver, FIXTURE_ID, type IdentityResolver } from './identities/identity-resolver.js';
import { Logger } from './logger.js';
import { SessionManager } from './session/session-manager.js';
import { MediaWorkerPool } from './sfu/media-worker-pool.js';
import { SignallingServer, STREAM_PATH } from './signalling/signalling-server.js';

const logger = new Logger('StreamingServer');
const run = promisify(execFile);

export interface StreamingServerOptions {
  config: ServerConfig;
  /** Replaces the JWT verifier (tests). */
  verifier?: TokenVerifier;
  /** Replaces the data-directory resolver (tests, or another identity store). */
  identities?: IdentityResolver;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export class StreamingServer {
  private constructor(
    readonly config: ServerConfig,
    readonly http: Server,
    readonly engines: EnginePool,
    readonly media: MediaWorkerPool,
    readonly sessions: SessionManager,
    readonly signalling: SignallingServer,
    readonly identities: IdentityResolver,
    /** Set in development mode: mints a token for an identity. */
    readonly devToken: ((identityId: string) => Promise<string>) | undefined,
    /** The fleet's shared registry (cluster.redisUrl); undefined on a lone node. */
    readonly registry: NodeRegistry | undefined,
  ) {}

  static async start(o: StreamingServerOptions): Promise<StreamingServer> {
    const { config } = o;
    const dataDir = path.resolve(config.admin.dataDir);
    const resolver = new DataDirIdentityResolver(dataDir);
    const identities = o.identities ?? resolver;
    if (!o.identities && config.identities.fixture && !existsSync(resolver.fixtureDir))
      await makeFixture(resolver.fixtureDir, config);
    const secret =
      config.auth.secret ?? config.admin.tokens.secret ?? (await persistentSecret(path.join(dataDir, 'token-secret')));
    const tokenOptions = { secret, issuer: config.auth.issuer, audience: config.auth.audience };
    const verifier = o.verifier ?? new JwtTokenVerifier(tokenOptions);
    const dev = config.auth.devToken === 'auto' ? LOOPBACK.test(config.http.host) : config.auth.devToken;
    const devToken = dev ? (identityId: string) => mintDevToken(tokenOptions, identityId) : undefined;

    const e = config.engine;
    const engines = await EnginePool.create({
      workersPerDevice: e.workersPerDevice,
      gpus: e.gpus,
      worker: {
        device: e.device,
        width: e.width,
        height: e.height,
        maxSessions: e.maxSessionsPerWorker,
        maxLookaheadMs: e.maxLookaheadMs,
      },
      restartDelayMs: 100,
      spareWorker: e.spareWorker,
    });
    let media: MediaWorkerPool;
    try {
      media = await MediaWorkerPool.create({ workers: config.media.workers });
    } catch (error) {
      engines.close();
      throw error;
    }
    const sessions = new SessionManager({ config, verifier, identities, engines, media });
    const health = () => ({
      ok: engines.workers.length > 0 && media.workerPids.length > 0,
      detail: {
        sessions: sessions.size,
        engineWorkers: engines.workers.length,
        mediaWorkers: media.workerPids.length,
        accepting: sessions.isAccepting,
      },
    });
    // Known once listening (the port may be 0) and connected; the /v1/route handler reads them when asked.
    let registry: NodeRegistry | undefined;
    let publicUrl = config.cluster.publicUrl ?? '';
    const http = createHttpServer({
      demo: config.http.demo,
      identities,
      ...(devToken ? { devToken } : {}),
      health,
      ready: () => {
        const h = health();
        return { ok: h.ok && sessions.isAccepting, detail: h.detail };
      },
      route: (url, req) =>
        answerRoute({ verifier, registry, self: { nodeId: config.admin.nodeId, url: publicUrl } }, url, req),
    });
    const signalling = new SignallingServer(http, sessions, media, config);
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.http.port, config.http.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      publicUrl ||= streamUrlOf(config, (http.address() as AddressInfo).port);
      if (config.cluster.redisUrl) {
        registry = await NodeRegistry.connect({
          redisUrl: config.cluster.redisUrl,
          nodeId: config.admin.nodeId,
          publicUrl,
          heartbeatMs: config.cluster.heartbeatMs,
          state: () => ({
            sessions: sessions.sessions.map((s) => ({ id: s.id, identityId: s.identity.id })),
            accepting: sessions.isAccepting,
            maxSessions: config.sessions.maxSessions,
          }),
        });
        registry.start();
      }
    } catch (error) {
      http.close();
      engines.close();
      media.close();
      throw error;
    }
    return new StreamingServer(config, http, engines, media, sessions, signalling, identities, devToken, registry);
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** ws://host:port/v1/stream */
  get streamUrl(): string {
    return streamUrlOf(this.config, this.port);
  }

  /**
   * Graceful drain (SIGTERM): new sessions are refused and /readyz answers 503 from now on; resolves when the open
   * sessions have ended or `timeoutMs` has passed. close() ends whatever is left.
   */
  async drain(timeoutMs = this.config.cluster.drainTimeoutMs): Promise<DrainResult> {
    this.sessions.stopAccepting();
    // Tell the fleet now rather than at the next heartbeat: no new clients are routed here from this moment.
    await this.registry?.heartbeat().catch((error) => logger.warn('registry: %s', (error as Error).message));
    return drainSessions(this.sessions, {
      timeoutMs,
      progress: (n) => logger.warn('draining: %d session(s) still open (waiting up to %d ms)', n, timeoutMs),
    });
  }

  async close(): Promise<void> {
    await this.registry?.leave().catch((error) => logger.warn('registry: %s', (error as Error).message));
    this.registry?.close();
    this.http.close();
    this.sessions.close();
    this.signalling.close();
    this.http.closeAllConnections();
    this.media.close();
    this.engines.close();
    await this.engines.exited();
  }
}

function streamUrlOf(config: ServerConfig, port: number): string {
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return `ws://${host}:${port}${STREAM_PATH}`;
}

/** The built-in test identity, generated by the engine's CLI in a child process (this one stays free of the addon). */
async function makeFixture(dir: string, config: ServerConfig): Promise<void> {
  const cli = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@splatcast/engine/package.json')),
    'dist',
    'cli',
    'main.js',
  );
  logger.warn(
    'no identity yet: generating the fixture identity "%s" (a test head, not a person) in %s',
    FIXTURE_ID,
    dir,
  );
  const i = config.identities;
  await run(process.execPath, [
    cli,
    'fixture',
    '--out',
    dir,
    '--face',
    String(i.fixtureFaceGaussians),
    '--mouth',
    String(i.fixtureMouthGaussians),
    '--seed',
    '7',
  ]);
}
