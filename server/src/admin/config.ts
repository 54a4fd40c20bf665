// The admin path's configuration: the `admin` section of the server config (server/src/config.ts), validated with
// zod at start. Every key has a default that works on a laptop (`npm start`); docs/admin-api.md lists them all with
// their environment variables.
import { hostname } from 'node:os';
import { z } from 'zod';

const MiB = 2 ** 20;

const port = z.number().int().min(0).max(65535);
const seconds = (min: number) => z.number().int().min(min);

export const adminConfigSchema = z
  .object({
    /** Serve the admin API at all. */
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(8081),
    /** Everything the admin path stores: SQLite database, uploads, datasets, checkpoints, packages, priors. */
    dataDir: z.string().min(1).default('data'),
    /** This node's name in job leases: keep it stable across restarts (default: the host name). */
    nodeId: z.string().min(1).max(100).default(hostname()),
    /** Largest JSON body (bytes). */
    bodyLimit: z.number().int().min(1024).default(MiB),
    apiKeys: z
      .object({
        /** After a rotation the old key keeps working this long, so clients can switch over. */
        rotationGraceSeconds: seconds(0).default(3600),
        /** A key accepted when none exists yet (at least 32 characters); otherwise one is made and written to
         * `<dataDir>/admin-key` (mode 0600). */
        bootstrapKey: z.string().min(32).optional(),
      })
      .prefault({}),
    tokens: z
      .object({
        /** HS256 secret shared with the streaming server's token verifier (at least 32 bytes); when absent, one is
         * made once and kept in `<dataDir>/token-secret` (mode 0600). */
        secret: z.string().min(32).optional(),
        issuer: z.string().min(1).default('splatcast-admin'),
        audience: z.string().min(1).default('splatcast-stream'),
        defaultTtlSeconds: seconds(10).default(600),
        maxTtlSeconds: seconds(10).default(3600),
      })
      .prefault({}),
    uploads: z
      .object({
        maxVideoBytes: z
          .number()
          .int()
          .min(MiB)
          .default(512 * MiB),
        maxEvidenceBytes: z
          .number()
          .int()
          .min(1024)
          .default(20 * MiB),
        minSeconds: z.number().min(1).default(3),
        maxSeconds: z.number().min(1).default(300),
        maxPixels: z
          .number()
          .int()
          .min(64 * 64)
          .default(3840 * 2160),
        /** Largest MP4 `moov` box (the header with the sample tables): bigger ones are hostile or absurd. */
        maxHeaderBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(32 * MiB),
        /** Unused resumable uploads are removed after this long. */
        resumableTtlHours: z.number().min(0.01).default(24),
        /** Look for exactly one face in a few sampled frames before accepting an upload. */
        faceScreen: z.boolean().default(true),
      })
      .prefault({}),
    cors: z
      .object({
        /** Origins allowed to call the admin API from a browser (`*` for any); none by default. */
        origins: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    rateLimit: z
      .object({
        /** Requests per window per client address (0: no limit). */
        max: z.number().int().min(0).default(600),
        windowSeconds: seconds(1).default(60),
      })
      .prefault({}),
    jobs: z
      .object({
        cpuConcurrency: z.number().int().min(0).max(64).default(1),
        /** GPUs jobs may use: `auto` (every GPU nvidia-smi lists), or their indices. */
        gpus: z.union([z.literal('auto'), z.array(z.number().int().min(0))]).default('auto'),
        perGpuConcurrency: z.number().int().min(0).max(16).default(1),
        defaultTimeoutSeconds: seconds(10).default(4 * 3600),
        maxAttempts: z.number().int().min(1).max(20).default(3),
        leaseSeconds: seconds(3).default(30),
        pollMs: z.number().int().min(10).default(2000),
      })
      .prefault({}),
  })
  .strict();

export type AdminConfig = z.infer<typeof adminConfigSchema>;

/** Environment variables for the admin keys people set most, each mapped to its config path. */
export const ADMIN_ENV: Record<string, { path: string[]; type: 'string' | 'number' | 'boolean' | 'list' }> = {
  SPLATCAST_ADMIN_ENABLED: { path: ['enabled'], type: 'boolean' },
  SPLATCAST_ADMIN_HOST: { path: ['host'], type: 'string' },
  SPLATCAST_ADMIN_PORT: { path: ['port'], type: 'number' },
  SPLATCAST_DATA_DIR: { path: ['dataDir'], type: 'string' },
  SPLATCAST_NODE_ID: { path: ['nodeId'], type: 'string' },
  SPLATCAST_ADMIN_BOOTSTRAP_KEY: { path: ['apiKeys', 'bootstrapKey'], type: 'string' },
  SPLATCAST_TOKEN_SECRET: { path: ['tokens', 'secret'], type: 'string' },
  SPLATCAST_TOKEN_TTL_SECONDS: { path: ['tokens', 'defaultTtlSeconds'], type: 'number' },
  SPLATCAST_ADMIN_CORS_ORIGINS: { path: ['cors', 'origins'], type: 'list' },
  SPLATCAST_ADMIN_RATE_LIMIT: { path: ['rateLimit', 'max'], type: 'number' },
  SPLATCAST_UPLOAD_MAX_BYTES: { path: ['uploads', 'maxVideoBytes'], type: 'number' },
  SPLATCAST_UPLOAD_FACE_SCREEN: { path: ['uploads', 'faceScreen'], type: 'boolean' },
  SPLATCAST_JOBS_CPU_CONCURRENCY: { path: ['jobs', 'cpuConcurrency'], type: 'number' },
  SPLATCAST_JOBS_PER_GPU: { path: ['jobs', 'perGpuConcurrency'], type: 'number' },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Overlays the admin environment variables on the file's `admin` section. A value of the wrong type is left as the
 * string so that validation names the variable and what it expected.
 */
export function applyAdminEnv(section: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(section);
  for (const [name, { path, type }] of Object.entries(ADMIN_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw.trim())) value = Number(raw);
    if (type === 'boolean' && /^(true|false|1|0)$/i.test(raw.trim())) value = /^(true|1)$/i.test(raw.trim());
    if (type === 'list')
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    let node = out;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1) as string] = value;
  }
  return out;
}

/** Validates the admin section (file values with the environment on top), or throws a ConfigError listing every
 * problem by its config path and, where it came from one, its environment variable. */
export function parseAdminConfig(section: unknown, env: NodeJS.ProcessEnv = {}): AdminConfig {
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section)))
    throw new ConfigError('config: "admin" must be an object');
  const merged = applyAdminEnv((section ?? {}) as Record<string, unknown>, env);
  const result = adminConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const at = ['admin', ...issue.path.map(String)].join('.');
    const variable = Object.entries(ADMIN_ENV).find(
      ([name, m]) => m.path.join('.') === issue.path.join('.') && env[name] !== undefined,
    )?.[0];
    return `  ${at}: ${issue.message}${variable ? ` (from ${variable}=${JSON.stringify(env[variable])})` : ''}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
