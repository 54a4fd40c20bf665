// /v1/sessions: the streaming server's live sessions, through the SessionDirectory interface.
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { notFound } from '../api-error.js';
import { errors, ref } from '../schemas.js';

const sessionId = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' } as const;

export function sessionRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/v1/sessions',
    {
      schema: {
        summary: 'List live streaming sessions',
        tags: ['sessions'],
        response: {
          200: { type: 'object', properties: { sessions: { type: 'array', items: ref('LiveSession') } } },
          ...errors(),
        },
      },
    },
    async () => ({ sessions: await ctx.sessions.list() }),
  );

  app.delete(
    '/v1/sessions/:id',
    {
      schema: {
        summary: 'End (kick) a live session',
        tags: ['sessions'],
        params: { type: 'object', required: ['id'], properties: { id: sessionId }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { kicked: { type: 'string' } } }, ...errors(404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await ctx.sessions.kick(id, 'ended by an operator'))) throw notFound('live session', id);
      request.log.info({ sessionId: id }, 'session kicked');
      return { kicked: id };
    },
  );
}
