// /v1/tokens: short-lived client tokens for one identity and a set of capabilities.
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.js';
import { ApiError } from '../api-error.js';
import { capabilitiesSchema, errors, ids } from '../schemas.js';
import { CAPABILITIES, type Capability } from '../token-minter.js';

export function tokenRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.post(
    '/v1/tokens',
    {
      schema: {
        summary: 'Mint a client token (HS256 JWT) that lets its holder stream one ready identity',
        tags: ['tokens'],
        body: {
          type: 'object',
          required: ['identityId'],
          additionalProperties: false,
          properties: {
            identityId: ids.identity,
            capabilities: capabilitiesSchema,
            ttlSeconds: { type: 'integer', minimum: 10 },
            subject: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              tokenId: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              identityId: ids.identity,
              capabilities: capabilitiesSchema,
            },
          },
          ...errors(404, 409),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        identityId: string;
        capabilities?: Capability[];
        ttlSeconds?: number;
        subject?: string;
      };
      const { tokens } = ctx.config;
      const ttl = body.ttlSeconds ?? tokens.defaultTtlSeconds;
      if (ttl > tokens.maxTtlSeconds)
        throw new ApiError('bad-request', `ttlSeconds ${ttl} is over the limit of ${tokens.maxTtlSeconds}`);
      const identity = ctx.identities.get(body.identityId);
      if (identity.state !== 'ready' && !identity.package)
        throw new ApiError(
          'conflict',
          `identity ${identity.id} is ${identity.state}: only an adapted identity can be streamed`,
        );
      const capabilities = body.capabilities ?? [...CAPABILITIES];
      const minted = await ctx.minter.mint({
        identityId: identity.id,
        capabilities,
        ttlSeconds: ttl,
        subject: body.subject,
      });
      request.log.info({ identityId: identity.id, tokenId: minted.tokenId, ttl }, 'client token minted');
      return reply.code(201).send({ ...minted, identityId: identity.id, capabilities });
    },
  );
}
