// Operations endpoints, without an API key (the admin port is an internal one): liveness, readiness, Prometheus
// metrics, the OpenAPI document.
import { access, constants } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { registry } from '../../metrics/registry.js';
import type { AdminContext } from '../admin-context.js';

export function opsRoutes(app: FastifyInstance, ctx: AdminContext, ready: () => boolean): void {
  const open = { config: { public: true, rateLimit: false } };
  app.get('/healthz', { ...open, schema: { summary: 'Liveness: the process answers', tags: ['ops'] } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { ...open, schema: { summary: 'Readiness: database, data directory and job runner', tags: ['ops'] } },
    async (_request, reply) => {
      const problems: string[] = [];
      if (!ready()) problems.push('starting');
      try {
        ctx.db.prepare('SELECT 1').get();
      } catch (error) {
        problems.push(`database: ${(error as Error).message}`);
      }
      await access(ctx.dataDir.root, constants.W_OK).catch(() => problems.push(`${ctx.dataDir.root} is not writable`));
      return reply
        .code(problems.length ? 503 : 200)
        .send({ status: problems.length ? 'unavailable' : 'ready', problems });
    },
  );

  app.get('/metrics', { ...open, schema: { summary: 'Prometheus metrics', tags: ['ops'] } }, async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );

  app.get('/openapi.json', { ...open, schema: { hide: true } }, async () => app.swagger());
}
