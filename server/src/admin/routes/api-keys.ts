// /v1/api-keys: the admin API's own keys: list, create, rotate, revoke.
import type { FastifyInstance } from 'fastify';
import { isId } from '../../storage/ids.js';
import type { AdminContext } from '../admin-context.js';
import { ApiError, notFound } from '../api-error.js';
import { errors, idParams, ids, ref } from '../schemas.js';

const withSecret = {
  type: 'object',
  properties: { key: ref('ApiKey'), secret: { type: 'string', description: 'the full key: shown only this once' } },
} as const;

export function apiKeyRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/v1/api-keys',
    {
      schema: {
        summary: 'List admin API keys (never their secrets)',
        tags: ['api-keys'],
        response: {
          200: { type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } } },
          ...errors(),
        },
      },
    },
    async () => ({ keys: ctx.keys.list() }),
  );

  app.post(
    '/v1/api-keys',
    {
      schema: {
        summary: 'Create an admin API key',
        tags: ['api-keys'],
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
        response: { 201: withSecret, ...errors() },
      },
    },
    async (request, reply) => {
      const created = ctx.keys.create((request.body as { name: string }).name);
      request.log.info({ keyId: created.key.id }, 'admin API key created');
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/v1/api-keys/:id/rotate',
    {
      schema: {
        summary: 'Rotate a key: a new secret now; the old one keeps working for the configured grace period',
        tags: ['api-keys'],
        params: idParams(ids.key),
        response: { 200: withSecret, ...errors(404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const rotated = isId(id, 'key') ? ctx.keys.rotate(id) : undefined;
      if (!rotated) throw notFound('API key', id);
      request.log.info({ keyId: id }, 'admin API key rotated');
      return rotated;
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      schema: {
        summary: 'Revoke a key at once',
        tags: ['api-keys'],
        params: idParams(ids.key),
        response: { 200: { type: 'object', properties: { revoked: ids.key } }, ...errors(404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!ctx.keys.get(id)) throw notFound('API key', id);
      if (request.apiKey?.id === id && ctx.keys.count() === 1)
        throw new ApiError('conflict', 'this is the last key: create another before revoking it');
      ctx.keys.delete(id);
      request.log.info({ keyId: id }, 'admin API key revoked');
      return { revoked: id };
    },
  );
}
