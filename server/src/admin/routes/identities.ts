// /v1/identities: create from an upload (multipart, streamed), list, get, rename, delete, consent evidence.
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { newId } from '../../storage/ids.js';
import type { AdminContext } from '../admin-context.js';
import { IDENTITY_STATES } from '../identity-catalog.js';
import { errors, idParams, ids, ref } from '../schemas.js';
import { displayName, type ReceivedUpload, receiveUpload } from '../upload/receive.js';
import { UploadRejected } from '../upload/upload-error.js';

/** The JSON form: name, consent and two finished resumable uploads, moved into the upload's folder. */
async function fromResumable(ctx: AdminContext, body: unknown, dir: string): Promise<ReceivedUpload> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UploadRejected(
      'bad-request',
      'send the identity as multipart/form-data, or as JSON {name, consent, video, evidence} naming resumable uploads',
    );
  const { name, consent, video, evidence, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length)
    throw new UploadRejected('bad-request', `unknown field ${JSON.stringify(displayName(unknown[0]))}`);
  if (typeof name !== 'string')
    throw new UploadRejected('bad-request', 'the name field is required (1-200 characters)');
  await mkdir(dir, { recursive: true });
  return {
    fields: { name, ...(consent !== undefined && { consent: JSON.stringify(consent) }) },
    ...(video !== undefined && {
      video: await ctx.resumable.take(video, dir, 'video', ctx.config.uploads.maxVideoBytes),
    }),
    ...(evidence !== undefined && {
      evidence: await ctx.resumable.take(evidence, dir, 'evidence', ctx.config.uploads.maxEvidenceBytes),
    }),
  };
}

export function identityRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.post(
    '/v1/identities',
    {
      schema: {
        summary: 'Create an identity from a video upload with its consent record',
        description:
          'multipart/form-data, streamed to disk: fields `name` and `consent` (JSON: subjectName, recordedBy, ' +
          'recordedAt, statement, subjectConsent: true), files `video` (MP4/MOV/WebM/MKV, 3-300 s, one face) and ' +
          '`evidence` (PDF, PNG, JPEG, WAV, MP4, WebM or text). Or application/json naming two finished resumable ' +
          'uploads: `{name, consent, video: "upl_…", evidence: "upl_…"}`. Every check runs before anything is kept; ' +
          'a rejected upload leaves nothing on disk.',
        tags: ['identities'],
        consumes: ['multipart/form-data'],
        response: { 201: ref('Identity'), ...errors(413, 422) },
      },
    },
    async (request, reply) => {
      const staging = ctx.dataDir.inside('incoming', newId('upl'));
      let received: ReceivedUpload;
      try {
        received = request.isMultipart()
          ? await receiveUpload(request, staging, ctx.config.uploads)
          : await fromResumable(ctx, request.body, staging);
      } catch (error) {
        await ctx.dataDir.remove(staging);
        throw error;
      }
      const identity = await ctx.identities.create(received, staging);
      request.log.info({ identityId: identity.id, bytes: identity.source.bytes }, 'identity created');
      return reply.code(201).send(identity);
    },
  );

  app.get(
    '/v1/identities',
    {
      schema: {
        summary: 'List identities, newest first',
        tags: ['identities'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...IDENTITY_STATES] },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: {
          200: { type: 'object', properties: { identities: { type: 'array', items: ref('Identity') } } },
          ...errors(),
        },
      },
    },
    async (request) => {
      const q = request.query as { state?: (typeof IDENTITY_STATES)[number]; limit: number; offset: number };
      return { identities: ctx.catalog.list(q) };
    },
  );

  app.get(
    '/v1/identities/:id',
    {
      schema: {
        summary: 'One identity',
        tags: ['identities'],
        params: idParams(ids.identity),
        response: { 200: ref('Identity'), ...errors(404) },
      },
    },
    async (request) => ctx.identities.get((request.params as { id: string }).id),
  );

  app.patch(
    '/v1/identities/:id',
    {
      schema: {
        summary: 'Rename an identity',
        tags: ['identities'],
        params: idParams(ids.identity),
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } },
        },
        response: { 200: ref('Identity'), ...errors(404) },
      },
    },
    async (request) =>
      ctx.identities.rename((request.params as { id: string }).id, (request.body as { name: string }).name.trim()),
  );

  app.delete(
    '/v1/identities/:id',
    {
      schema: {
        summary: 'Delete an identity and every file derived from it',
        description:
          'Cancels its jobs, ends its live sessions, then removes the source video, consent evidence, dataset, ' +
          'checkpoints and package.',
        tags: ['identities'],
        params: idParams(ids.identity),
        response: {
          200: { type: 'object', properties: { deleted: ids.identity, freedBytes: { type: 'integer' } } },
          ...errors(404, 409),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { freedBytes } = await ctx.identities.delete(id);
      return { deleted: id, freedBytes };
    },
  );

  app.get(
    '/v1/identities/:id/consent/evidence',
    {
      schema: {
        summary: 'Download the consent evidence file (as an attachment, never rendered inline)',
        tags: ['identities'],
        params: idParams(ids.identity),
        produces: ['application/octet-stream'],
        response: { 200: { type: 'string', format: 'binary' }, ...errors(404) },
      },
    },
    async (request, reply) => {
      const identity = ctx.identities.get((request.params as { id: string }).id);
      const name = identity.consent.evidence.fileName.replace(/[^\w.-]/g, '_') || 'evidence';
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('x-content-type-options', 'nosniff')
        .send(createReadStream(ctx.dataDir.identity(identity.id).evidence));
    },
  );
}
