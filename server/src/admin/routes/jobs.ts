// /v1/jobs: submit adaptation and pre-training jobs, list, get, logs, cancel, retry, and live updates (SSE).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Job, JobDevice, JobKind } from '../../jobs/job.js';
import { isFinished, JOB_DEVICES, JOB_KINDS, JOB_STATES } from '../../jobs/job.js';
import type { JobChange } from '../../jobs/job-queue.js';
import { isId, newId } from '../../storage/ids.js';
import type { AdminContext } from '../admin-context.js';
import { ApiError, notFound } from '../api-error.js';
import { errors, idParams, ids, ref } from '../schemas.js';

interface SubmitBody {
  kind: JobKind;
  identityId?: string;
  identityIds?: string[];
  name?: string;
  priorId?: string;
  priority?: number;
  device?: JobDevice;
  timeoutSeconds?: number;
  settings?: { iterations?: number; size?: number; maxSeconds?: number };
}

const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    iterations: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    size: { type: 'integer', minimum: 64, maximum: 2048 },
    maxSeconds: { type: 'number', minimum: 3, maximum: 300 },
  },
} as const;

export function jobRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const job = async (id: string): Promise<Job> => {
    const found = isId(id, 'job') ? await ctx.queue.get(id) : undefined;
    if (!found) throw notFound('job', id);
    return found;
  };

  app.post(
    '/v1/jobs',
    {
      schema: {
        summary: 'Submit an adaptation job (one identity) or a pre-training job (a motion prior from several)',
        tags: ['jobs'],
        body: {
          type: 'object',
          required: ['kind'],
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: [...JOB_KINDS] },
            identityId: ids.identity,
            identityIds: { type: 'array', items: ids.identity, minItems: 1, maxItems: 200, uniqueItems: true },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            priorId: ids.prior,
            priority: { type: 'integer', minimum: -100, maximum: 100, default: 0 },
            device: { type: 'string', enum: [...JOB_DEVICES], default: 'auto' },
            timeoutSeconds: { type: 'integer', minimum: 10, maximum: 7 * 24 * 3600 },
            settings: settingsSchema,
          },
        },
        response: { 201: ref('Job'), ...errors(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body as SubmitBody;
      if (!ctx.runner.devices.includes(body.device ?? 'auto'))
        throw new ApiError(
          'unprocessable',
          `this server has no ${body.device} job slots (it has ${ctx.runner.devices.join(', ')})`,
        );
      const common = {
        priority: body.priority,
        device: body.device,
        timeoutSeconds: body.timeoutSeconds ?? ctx.config.jobs.defaultTimeoutSeconds,
        maxAttempts: ctx.config.jobs.maxAttempts,
      };
      let created: Job;
      if (body.kind === 'adaptation') {
        if (!body.identityId || body.identityIds || body.name)
          throw new ApiError('bad-request', 'an adaptation job takes identityId (and optionally priorId, settings)');
        const identity = ctx.identities.get(body.identityId);
        const active = (await ctx.queue.list({ identityId: identity.id, kind: 'adaptation' })).find(
          (j) => !isFinished(j.state),
        );
        if (active)
          throw new ApiError('conflict', `identity ${identity.id} is being adapted already (job ${active.id})`);
        const prior = body.priorId ? ctx.priors.get(body.priorId) : ctx.priors.default();
        if (body.priorId && !prior) throw notFound('motion prior', body.priorId);
        created = await ctx.queue.enqueue({
          ...common,
          kind: 'adaptation',
          identityId: identity.id,
          params: {
            ...body.settings,
            name: identity.name,
            consent: { statement: identity.consent.statement, recordedAt: identity.consent.recordedAt },
            ...(prior && { priorId: prior.id, priorDir: ctx.dataDir.prior(prior.id) }),
          },
        });
        ctx.identities.adapting(identity.id);
      } else {
        if (!body.identityIds || body.identityId || body.priorId)
          throw new ApiError('bad-request', 'a pre-training job takes identityIds (and optionally name, settings)');
        for (const id of body.identityIds) ctx.identities.get(id);
        created = await ctx.queue.enqueue({
          ...common,
          kind: 'pretraining',
          params: {
            ...body.settings,
            priorId: newId('pri'),
            name: body.name ?? `prior from ${body.identityIds.length} identities`,
            identityIds: body.identityIds,
          },
        });
      }
      request.log.info({ jobId: created.id, kind: created.kind }, 'job submitted');
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'List jobs, newest first',
        tags: ['jobs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...JOB_STATES] },
            kind: { type: 'string', enum: [...JOB_KINDS] },
            identityId: ids.identity,
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        },
        response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: ref('Job') } } }, ...errors() },
      },
    },
    async (request) => ({ jobs: await ctx.queue.list(request.query as object) }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'One job: state, progress (stage, iteration, ETA, loss, PSNR), error, result',
        tags: ['jobs'],
        params: idParams(ids.job),
        response: { 200: ref('Job'), ...errors(404) },
      },
    },
    async (request) => job((request.params as { id: string }).id),
  );

  app.get(
    '/v1/jobs/:id/logs',
    {
      schema: {
        summary: 'Log lines of a job, oldest first, after a sequence number',
        tags: ['jobs'],
        params: idParams(ids.job),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
          },
        },
        response: {
          200: { type: 'object', properties: { lines: { type: 'array', items: ref('JobLogLine') } } },
          ...errors(404),
        },
      },
    },
    async (request) => {
      const { after, limit } = request.query as { after: number; limit: number };
      const found = await job((request.params as { id: string }).id);
      return { lines: await ctx.queue.logs(found.id, after, limit) };
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or running job (a running one stops at its next safe point)',
        tags: ['jobs'],
        params: idParams(ids.job),
        response: { 202: ref('Job'), ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const found = await job((request.params as { id: string }).id);
      return reply.code(202).send(await ctx.queue.cancel(found.id, 'cancelled by an operator'));
    },
  );

  app.post(
    '/v1/jobs/:id/retry',
    {
      schema: {
        summary: 'Queue a failed or cancelled job again (it resumes from its checkpoints)',
        tags: ['jobs'],
        params: idParams(ids.job),
        response: { 202: ref('Job'), ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      const found = await job((request.params as { id: string }).id);
      if (found.kind === 'adaptation' && found.identityId) ctx.identities.get(found.identityId);
      const queued = await ctx.queue.retry(found.id);
      if (queued.kind === 'adaptation' && queued.identityId) ctx.identities.adapting(queued.identityId);
      return reply.code(202).send(queued);
    },
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        summary: 'Live updates of one job (Server-Sent Events: `job` and `log` events; ends when the job does)',
        tags: ['jobs'],
        params: idParams(ids.job),
        produces: ['text/event-stream'],
        response: { 200: { type: 'string' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const found = await job((request.params as { id: string }).id);
      stream(reply, ctx, found, (c) => (c.type === 'job' ? c.job.id : c.line.jobId) === found.id);
    },
  );

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Live updates of every job (Server-Sent Events: `job` and `log` events)',
        tags: ['jobs'],
        produces: ['text/event-stream'],
        response: { 200: { type: 'string' }, ...errors() },
      },
    },
    async (_request, reply) => stream(reply, ctx, undefined, () => true),
  );
}

/** Server-Sent Events: the current state first, then every matching change; comments keep proxies from timing out. */
function stream(
  reply: FastifyReply,
  ctx: AdminContext,
  initial: Job | undefined,
  match: (c: JobChange) => boolean,
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...corsHeaders(reply),
  });
  let id = 0;
  const send = (event: string, data: unknown) =>
    res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const close = () => {
    unsubscribe();
    clearInterval(ping);
    res.end();
  };
  const unsubscribe = ctx.queue.subscribe((change) => {
    if (!match(change)) return;
    if (change.type === 'job') {
      send('job', change.job);
      if (initial && isFinished(change.job.state)) close();
    } else send('log', change.line);
  });
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  res.on('close', () => {
    unsubscribe();
    clearInterval(ping);
  });
  if (initial) {
    send('job', initial);
    if (isFinished(initial.state)) close();
  }
}

/** The CORS headers @fastify/cors set on this reply before it was hijacked. */
function corsHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'vary']) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
