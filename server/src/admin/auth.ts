// Admin API authentication: `Authorization: Bearer <key>` (or `X-Api-Key: <key>`) on every route that is not
// marked public. Failures get one generic answer, whatever was wrong with the key.
import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-error.js';
import type { ApiKey, ApiKeys } from './api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
  interface FastifyContextConfig {
    /** Served without an API key. */
    public?: boolean;
  }
}

export function requireApiKey(app: FastifyInstance, keys: ApiKeys): void {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    const header = request.headers.authorization;
    const bearer =
      typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
    const presented =
      bearer ?? (typeof request.headers['x-api-key'] === 'string' ? request.headers['x-api-key'] : undefined);
    const key = presented ? keys.verify(presented.trim()) : undefined;
    if (!key) throw new ApiError('unauthorized', 'a valid admin API key is required (Authorization: Bearer <key>)');
    request.apiKey = key;
    request.log = request.log.child({ keyId: key.id });
  });
}
