// JSON Schemas of the admin API's requests and responses: fastify validates requests with them and serialises
// responses through them, and @fastify/swagger builds the OpenAPI document from the same objects, so the document
// cannot drift from what the server does.

import { JOB_DEVICES, JOB_KINDS, JOB_STATES, LOG_LEVELS } from '../jobs/job.js';
import { IDENTITY_STATES } from './identity-catalog.js';
import { CAPABILITIES } from './token-minter.js';

const str = { type: 'string' } as const;
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
const dateTime = { type: 'string', format: 'date-time' } as const;
const id = (prefix: string) => ({ type: 'string', pattern: `^${prefix}_[0-9a-f]{20}$` }) as const;

export const ids = { identity: id('idn'), job: id('job'), prior: id('pri'), key: id('key') };

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: str, message: str, requestId: str },
    },
  },
} as const;

export const identitySchema = {
  $id: 'Identity',
  type: 'object',
  required: ['id', 'name', 'state', 'createdAt', 'updatedAt', 'source', 'consent'],
  properties: {
    id: ids.identity,
    name: str,
    state: { type: 'string', enum: [...IDENTITY_STATES] },
    createdAt: dateTime,
    updatedAt: dateTime,
    source: {
      type: 'object',
      properties: {
        fileName: str,
        bytes: { type: 'integer' },
        sha256: str,
        container: str,
        videoCodec: str,
        audioCodec: str,
        width: { type: 'integer' },
        height: { type: 'integer' },
        fps: { type: 'number' },
        durationSeconds: { type: 'number' },
      },
    },
    consent: {
      type: 'object',
      properties: {
        subjectName: str,
        recordedBy: str,
        recordedAt: dateTime,
        statement: str,
        subjectConsent: { type: 'boolean' },
        evidence: {
          type: 'object',
          properties: { fileName: str, bytes: { type: 'integer' }, sha256: str, mediaType: str },
        },
      },
    },
    priorId: nullable(ids.prior),
    package: nullable({
      type: 'object',
      properties: {
        bytes: { type: 'integer' },
        gaussians: { type: 'object', properties: { face: { type: 'integer' }, mouth: { type: 'integer' } } },
        width: { type: 'integer' },
        height: { type: 'integer' },
        frames: { type: 'integer' },
        createdAt: dateTime,
      },
    }),
    error: nullable(str),
  },
} as const;

const progressSchema = {
  type: 'object',
  properties: {
    stage: str,
    iteration: { type: 'number' },
    total: { type: 'number' },
    loss: { type: 'number' },
    psnr: { type: 'number' },
    etaSeconds: { type: 'number' },
  },
} as const;

export const jobSchema = {
  $id: 'Job',
  type: 'object',
  required: ['id', 'kind', 'state', 'priority', 'device', 'createdAt'],
  properties: {
    id: ids.job,
    kind: { type: 'string', enum: [...JOB_KINDS] },
    state: { type: 'string', enum: [...JOB_STATES] },
    priority: { type: 'integer' },
    device: { type: 'string', enum: [...JOB_DEVICES] },
    identityId: nullable(ids.identity),
    params: { type: 'object', additionalProperties: true },
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    timeoutSeconds: { type: 'integer' },
    createdAt: dateTime,
    updatedAt: dateTime,
    startedAt: nullable(dateTime),
    finishedAt: nullable(dateTime),
    assignedDevice: nullable(str),
    cancelRequested: { type: 'boolean' },
    progress: nullable(progressSchema),
    error: nullable(str),
    result: nullable({ type: 'object', additionalProperties: true }),
  },
} as const;

export const logLineSchema = {
  $id: 'JobLogLine',
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: dateTime,
    level: { type: 'string', enum: [...LOG_LEVELS] },
    message: str,
  },
} as const;

export const priorSchema = {
  $id: 'MotionPrior',
  type: 'object',
  properties: {
    id: ids.prior,
    name: str,
    createdAt: dateTime,
    isDefault: { type: 'boolean' },
    jobId: nullable(ids.job),
    datasets: { type: 'array', items: ids.identity },
    info: nullable({ type: 'object', additionalProperties: true }),
  },
} as const;

export const sessionSchema = {
  $id: 'LiveSession',
  type: 'object',
  properties: { id: str, identityId: str, subject: str, startedAt: dateTime, worker: str, state: str },
} as const;

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    id: ids.key,
    name: str,
    createdAt: dateTime,
    rotatedAt: nullable(dateTime),
    lastUsedAt: nullable(dateTime),
    previousValidUntil: nullable(dateTime),
  },
} as const;

export const capabilitiesSchema = {
  type: 'array',
  items: { type: 'string', enum: [...CAPABILITIES] },
  uniqueItems: true,
  minItems: 1,
} as const;

export const SHARED_SCHEMAS = [
  errorSchema,
  identitySchema,
  jobSchema,
  logLineSchema,
  priorSchema,
  sessionSchema,
  apiKeySchema,
];

export const ref = (name: string) => ({ $ref: `${name}#` });

/** The error responses every authenticated route can give, plus the ones named. */
export function errors(...statuses: number[]): Record<number, object> {
  const out: Record<number, object> = {};
  for (const status of [400, 401, 429, 500, ...statuses]) out[status] = ref('Error');
  return out;
}

export const idParams = (schema: object) => ({
  type: 'object',
  required: ['id'],
  properties: { id: schema },
  additionalProperties: false,
});
