// The admin HTTP API (fastify): its own port and API keys, CORS and rate limits from the config, request ids in
// every log line, one error shape, an OpenAPI document generated from the route schemas. It owns the catalog
// database, the job queue and the job runner of this node.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { JobKind } from '../jobs/job.js';
import { measureQueue } from '../jobs/job-metrics.js';
import { type JobQueue, JobQueueError } from '../jobs/job-queue.js';
import { type DeviceSlot, JobRunner } from '../jobs/job-runner.js';
import { SqliteJobQueue } from '../jobs/sqlite-job-queue.js';
import { DataDir, StorageError } from '../storage/data-dir.js';
import { openDatabase } from '../storage/database.js';
import type { AdminContext } from './admin-context.js';
import { adminErrors, adminRequests } from './admin-metrics.js';
import { ApiError } from './api-error.js';
import { ApiKeys } from './api-keys.js';
import { requireApiKey } from './auth.js';
import type { AdminConfig } from './config.js';
import { queryGpus } from './gpus.js';
import { IdentityCatalog } from './identity-catalog.js';
import { IdentityService } from './identity-service.js';
import { PriorCatalog } from './prior-catalog.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { identityRoutes } from './routes/identities.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { priorRoutes } from './routes/priors.js';
import { sessionRoutes } from './routes/sessions.js';
import { tokenRoutes } from './routes/tokens.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { persistentSecret } from './secrets.js';
import { NO_SESSIONS, type SessionDirectory } from './session-directory.js';
import { TokenMinter } from './token-minter.js';
import { ResumableUploads } from './upload/resumable.js';
import { UploadRejected } from './upload/upload-error.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url));
const executor = (name: string) => pathToFileURL(path.join(here, '..', 'jobs', `${name}${ext}`)).href;
/** The executors the job processes load, per kind (next to this build: .js, or .ts under the test loader). */
export const DEFAULT_EXECUTORS: Record<JobKind, string> = {
  adaptation: executor('adaptation-executor'),
  pretraining: executor('pretraining-executor'),
};

export interface AdminServerOptions {
  config: AdminConfig;
  /** The streaming server's live sessions (none when this node runs no streaming server). */
  sessions?: SessionDirectory;
  /** The job queue; default the embedded SQLite one (cluster.jobQueue: redis passes the shared BullMQ queue). */
  queue?: JobQueue;
  logger?: Logger;
  /** Executor modules per kind (tests swap in doubles). */
  executors?: Partial<Record<JobKind, string>>;
  /** Job slots; default from the config and the GPUs nvidia-smi lists. */
  slots?: DeviceSlot[];
  /** Environment of job processes. */
  jobEnv?: NodeJS.ProcessEnv;
}

export class AdminServer {
  private ready = false;

  private constructor(
    readonly app: FastifyInstance,
    readonly context: AdminContext,
  ) {}

  /** Opens the data directory and database, recovers interrupted jobs, starts the runner and listens. */
  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const { config } = options;
    const logger = options.logger ?? pino({ name: 'splatcast-admin' });
    const dataDir = new DataDir(config.dataDir);
    await dataDir.prepare();
    const db = openDatabase(dataDir.database);
    const queue =
      options.queue ??
      new SqliteJobQueue(db, {
        defaultMaxAttempts: config.jobs.maxAttempts,
        defaultTimeoutSeconds: config.jobs.defaultTimeoutSeconds,
      });
    measureQueue(queue);
    const keys = new ApiKeys(db, config.apiKeys.rotationGraceSeconds);
    await bootstrapKey(keys, config, dataDir, logger);
    const secret = config.tokens.secret ?? (await persistentSecret(dataDir.inside('token-secret')));
    const minter = new TokenMinter(secret, config.tokens.issuer, config.tokens.audience);
    const catalog = new IdentityCatalog(db);
    const priors = new PriorCatalog(db);
    const sessions = options.sessions ?? NO_SESSIONS;
    const identities = new IdentityService({ catalog, queue, dataDir, sessions, uploads: config.uploads, logger });
    const slots = options.slots ?? (await defaultSlots(config));
    const runner = new JobRunner({
      queue,
      dataDir,
      owner: config.nodeId,
      slots,
      executors: { ...DEFAULT_EXECUTORS, ...options.executors },
      logger: logger.child({ component: 'jobs' }),
      pollMs: config.jobs.pollMs,
      leaseMs: config.jobs.leaseSeconds * 1000,
      env: options.jobEnv,
      hooks: {
        succeeded: async (job, result) => {
          if (job.kind === 'adaptation') await identities.adapted(job);
          else
            priors.add({
              id: job.params.priorId as string,
              name: job.params.name as string,
              jobId: job.id,
              datasets: job.params.identityIds as string[],
              info: result,
            });
        },
        ended: async (job) => {
          if (job.kind === 'adaptation') await identities.adaptationEnded(job);
        },
      },
    });
    const resumable = new ResumableUploads({
      dataDir,
      maxBytes: Math.max(config.uploads.maxVideoBytes, config.uploads.maxEvidenceBytes),
      ttlHours: config.uploads.resumableTtlHours,
      logger,
    });
    const context: AdminContext = {
      ...{ config, dataDir, db, queue, runner, catalog, identities, priors, keys, minter, sessions, resumable, logger },
    };
    const app = await buildApp(context, () => server.ready);
    const server = new AdminServer(app, context);
    await runner.start();
    await app.listen({ host: config.host, port: config.port });
    server.ready = true;
    logger.info(
      {
        url: server.url,
        dataDir: dataDir.root,
        slots: slots.map((s) => `${s.device}${s.gpuIndex ?? ''}x${s.concurrency}`),
      },
      'admin API listening',
    );
    return server;
  }

  get url(): string {
    const address = this.app.server.address();
    if (!address || typeof address === 'string') return String(address);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Stops taking requests, gives running jobs back to the queue, closes the database. */
  async close(): Promise<void> {
    this.ready = false;
    await this.app.close();
    await this.context.runner.close();
    this.context.resumable.close();
    this.context.queue.close();
    measureQueue(undefined);
    this.context.db.close();
  }
}

async function defaultSlots(config: AdminConfig): Promise<DeviceSlot[]> {
  const gpus = config.jobs.gpus === 'auto' ? (await queryGpus()).map((g) => g.index) : config.jobs.gpus;
  return [
    { device: 'cpu', concurrency: config.jobs.cpuConcurrency },
    ...gpus.map((gpuIndex) => ({ device: 'cuda' as const, gpuIndex, concurrency: config.jobs.perGpuConcurrency })),
  ];
}

/** With no key stored yet: the configured bootstrap key, or a new one written to `<dataDir>/admin-key` (0600). */
async function bootstrapKey(keys: ApiKeys, config: AdminConfig, dataDir: DataDir, logger: Logger): Promise<void> {
  if (keys.count() > 0) return;
  if (config.apiKeys.bootstrapKey) {
    keys.createBootstrap(config.apiKeys.bootstrapKey);
    logger.info('stored the configured bootstrap admin key (hashed)');
    return;
  }
  const { secret } = keys.create('first key');
  const file = dataDir.inside('admin-key');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  logger.warn({ file }, `no admin API key existed: made one and wrote it to ${file} (readable by this user only)`);
}

async function buildApp(ctx: AdminContext, ready: () => boolean): Promise<FastifyInstance> {
  const { config } = ctx;
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger.child({ component: 'admin-api' }) as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Node's own header limit (16 KiB) answers 431 for anything larger, before fastify sees it.
    routerOptions: { maxParamLength: 200 },
    // close() ends every connection, including an upload still sending a body that was already refused.
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    adminRequests.inc({
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: `${Math.floor(reply.statusCode / 100)}xx`,
    });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Splatcast admin API',
        version: '1.0.0',
        description: 'Identities, adaptation and pre-training jobs, motion priors, sessions, client tokens, API keys.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an admin API key (sck_...)' } },
      },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json) => String(json.$id) },
  });
  await app.register(cors, {
    origin: config.cors.origins.includes('*') ? true : config.cors.origins.length ? config.cors.origins : false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-request-id', 'last-event-id'],
    exposedHeaders: ['x-request-id'],
  });
  if (config.rateLimit.max > 0)
    await app.register(rateLimit, {
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowSeconds * 1000,
      errorResponseBuilder: (_request, context) =>
        new ApiError('rate-limited', `too many requests: ${context.max} per ${context.after} per client`),
    });
  await app.register(multipart, { throwFileSizeLimit: true });
  requireApiKey(app, ctx.keys);
  app.setErrorHandler((error, request, reply) => {
    const answer = toApiError(error);
    adminErrors.inc({ code: answer.code });
    if (answer.code === 'internal') request.log.error({ err: error }, `internal error: ${(error as Error).message}`);
    else request.log.info({ code: answer.code }, answer.message);
    if (answer.code === 'rate-limited' && reply.getHeader('retry-after') === undefined) reply.header('retry-after', 60);
    // A body refused before it was read to the end: close the connection rather than read the rest.
    if (!request.raw.complete) reply.header('connection', 'close');
    return reply
      .code(answer.status)
      .send({ error: { code: answer.code, message: answer.message, requestId: request.id } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'not-found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      },
    }),
  );
  opsRoutes(app, ctx, ready);
  identityRoutes(app, ctx);
  ctx.resumable.register(app);
  jobRoutes(app, ctx);
  priorRoutes(app, ctx);
  sessionRoutes(app, ctx);
  tokenRoutes(app, ctx);
  apiKeyRoutes(app, ctx);
  await app.ready();
  return app;
}

/** Every error as the API answers it; anything unrecognised is internal (a bug), logged with its stack. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UploadRejected)
    return new ApiError(
      error.code === 'too-large' ? 'too-large' : error.code === 'bad-request' ? 'bad-request' : 'unprocessable',
      error.message,
    );
  if (error instanceof JobQueueError)
    return new ApiError(error.code === 'not-found' ? 'not-found' : 'conflict', error.message);
  if (error instanceof StorageError) return new ApiError('bad-request', error.message);
  const e = error as FastifyError;
  if (e.validation) return new ApiError('bad-request', e.message);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code =
      e.statusCode === 413
        ? 'too-large'
        : e.statusCode === 429
          ? 'rate-limited'
          : e.statusCode === 404
            ? 'not-found'
            : 'bad-request';
    return new ApiError(code, e.message);
  }
  return new ApiError('internal', 'internal error (logged with request id)');
}
