// /v1/priors: motion priors (pre-training results): list, get, set the default, delete.
import type { FastifyInstance } from 'fastify';
import { isId } from '../../storage/ids.js';
import type { AdminContext } from '../admin-context.js';
import { ApiError, notFound } from '../api-error.js';
import { errors, idParams, ids, ref } from '../schemas.js';

export function priorRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const prior = (id: string) => {
    const found = isId(id, 'pri') ? ctx.priors.get(id) : undefined;
    if (!found) throw notFound('motion prior', id);
    return found;
  };

  app.get(
    '/v1/priors',
    {
      schema: {
        summary: 'List motion priors',
        tags: ['priors'],
        response: {
          200: { type: 'object', properties: { priors: { type: 'array', items: ref('MotionPrior') } } },
          ...errors(),
        },
      },
    },
    async () => ({ priors: ctx.priors.list() }),
  );

  app.get(
    '/v1/priors/:id',
    {
      schema: {
        summary: 'One motion prior',
        tags: ['priors'],
        params: idParams(ids.prior),
        response: { 200: ref('MotionPrior'), ...errors(404) },
      },
    },
    async (request) => prior((request.params as { id: string }).id),
  );

  app.post(
    '/v1/priors/:id/default',
    {
      schema: {
        summary: 'Make this prior the one adaptation jobs start from when they name none',
        tags: ['priors'],
        params: idParams(ids.prior),
        response: { 200: ref('MotionPrior'), ...errors(404) },
      },
    },
    async (request) => ctx.priors.setDefault(prior((request.params as { id: string }).id).id),
  );

  app.delete(
    '/v1/priors/:id',
    {
      schema: {
        summary: 'Delete a motion prior and its files',
        tags: ['priors'],
        params: idParams(ids.prior),
        response: { 200: { type: 'object', properties: { deleted: ids.prior } }, ...errors(404, 409) },
      },
    },
    async (request) => {
      const found = prior((request.params as { id: string }).id);
      const using = (await ctx.queue.list({ kind: 'adaptation', state: 'running' })).concat(
        await ctx.queue.list({ kind: 'adaptation', state: 'queued' }),
      );
      const user = using.find((j) => j.params.priorId === found.id);
      if (user) throw new ApiError('conflict', `job ${user.id} adapts from this prior; cancel it or wait`);
      ctx.priors.delete(found.id);
      await ctx.dataDir.remove(ctx.dataDir.prior(found.id));
      return { deleted: found.id };
    },
  );
}
