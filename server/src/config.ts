// The server's configuration: one JSON file (SPLATCAST_CONFIG or --config) with environment variables on top, checked
// by zod at start. Every key has a default that works on a laptop (`npm start`: CPU engine when there is no GPU,
// loopback only). The `admin` section belongs to the admin API (src/admin/config.ts); everything else is streaming.
// docs/streaming.md lists every key with its default and variable.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { adminConfigSchema, ConfigError, parseAdminConfig } from './admin/config.js';
import { VIDEO_CODECS } from './engine/protocol.js';

const port = z.number().int().min(0).max(65535);
const ms = (min: number) => z.number().int().min(min);

export const streamingConfigSchema = z
  .object({
    http: z
      .object({
        /** Address the signalling WebSocket, demo page, SDK bundle and /metrics listen on. */
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
        /** Serve the demo page at / (and the SDK bundle at /sdk/). */
        demo: z.boolean().default(true),
      })
      .prefault({}),
    engine: z
      .object({
        device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
        workersPerDevice: z.number().int().min(1).max(16).default(1),
        /** CUDA device ordinals to spread workers over; empty: one device. */
        gpus: z.array(z.number().int().min(0)).default([]),
        width: z.number().int().min(64).max(2048).multipleOf(2).default(512),
        height: z.number().int().min(64).max(2048).multipleOf(2).default(512),
        maxSessionsPerWorker: z.number().int().min(1).max(1024).default(32),
        /** Identities whose feature window looks further ahead than this are refused (the issue's ≤ 80 ms). */
        maxLookaheadMs: z.number().min(0).max(2000).default(80),
        /** A warm spare engine process per device (identities in use preloaded) replaces a crashed worker at once. */
        spareWorker: z.boolean().default(true),
      })
      .prefault({}),
    media: z
      .object({
        /** mediasoup worker processes (each is one thread: one per core is the rule of thumb). */
        workers: z.number().int().min(1).max(64).default(1),
        /** Address WebRTC listens on (0.0.0.0: every interface). */
        listenIp: z.string().min(1).default('127.0.0.1'),
        /** Public address or host name put in ICE candidates when behind NAT (a cloud VM's public IP). */
        announcedAddress: z.string().min(1).optional(),
        rtcMinPort: port.default(40000),
        rtcMaxPort: port.default(49999),
        /** Offer TCP candidates too (networks that block UDP); clients can also ask for TCP only. */
        enableTcp: z.boolean().default(true),
        /** RTCIceServer entries (TURN) handed to clients, e.g. [{urls: "turn:turn.example.com:3478", username, credential}]. */
        iceServers: z
          .array(
            z
              .object({
                urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
                username: z.string().optional(),
                credential: z.string().optional(),
              })
              .strict(),
          )
          .default([]),
        /** Tell clients to use relayed (TURN) candidates only. */
        relayOnly: z.boolean().default(false),
        /** Video codecs in order of preference; the first one the client decodes is used. */
        videoCodecs: z.array(z.enum(VIDEO_CODECS)).min(1).default(['vp8', 'h264']),
        startBitrateBps: z.number().int().min(50_000).default(1_000_000),
        minBitrateBps: z.number().int().min(30_000).default(150_000),
        maxBitrateBps: z.number().int().min(50_000).default(2_500_000),
      })
      .prefault({}),
    sessions: z
      .object({
        /** Sessions this server takes at once (more get SESSION_LIMIT_REACHED). */
        maxSessions: z.number().int().min(1).default(64),
        /** Close a session after this long without a client message (Ping counts). */
        idleTimeoutMs: ms(1000).default(60_000),
        /** Longest session; 0: no limit. */
        maxSessionMs: ms(0).default(3_600_000),
        /** How long a dropped connection's session waits for a resume (media and engine kept). */
        resumeWindowMs: ms(0).default(15_000),
        /** Hello must arrive this soon after the WebSocket opens. */
        helloTimeoutMs: ms(100).default(10_000),
        maxMessagesPerSecond: z.number().int().min(1).default(200),
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .default(128 * 1024),
        maxPcmChunkBytes: z
          .number()
          .int()
          .min(2)
          .multipleOf(2)
          .default(64 * 1024),
        /** How far ahead of playback agent audio may be pushed. */
        maxPcmBufferedMs: ms(100).default(30_000),
        /** Stats messages to the client this often; 0: none. */
        statsIntervalMs: ms(0).default(1000),
      })
      .prefault({}),
    auth: z
      .object({
        /** HS256 secret of client tokens; default: the admin API's (admin.tokens.secret or <dataDir>/token-secret). */
        secret: z.string().min(32).optional(),
        issuer: z.string().min(1).default('splatcast-admin'),
        audience: z.string().min(1).default('splatcast-stream'),
        /**
         * Development mode: log a ready-to-use token at start and serve /dev/token to the demo page. `auto`: on when
         * http.host is a loopback address (nobody else can reach it), off otherwise.
         */
        devToken: z.union([z.boolean(), z.literal('auto')]).default('auto'),
      })
      .prefault({}),
    identities: z
      .object({
        /** Make the generated fixture identity ("fixture", not a real person) on first start if no identity exists. */
        fixture: z.boolean().default(true),
        /** Its size: Gaussians of the face and mouth (the engine's CLI defaults are 40000 and 8000). */
        fixtureFaceGaussians: z.number().int().min(100).default(20000),
        fixtureMouthGaussians: z.number().int().min(10).default(4000),
      })
      .prefault({}),
    /** How this node runs in a fleet (docs/deploy.md): the shared Redis registry and queue, and draining. */
    cluster: z
      .object({
        /** redis://host:port of the shared session/identity registry (and of the job queue with jobQueue: redis). */
        redisUrl: z
          .string()
          .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
          .optional(),
        /** The ws(s)://…/v1/stream URL clients reach this node at (what the registry routes them to). */
        publicUrl: z
          .string()
          .regex(/^wss?:\/\//, 'a ws:// or wss:// URL')
          .optional(),
        /** sqlite: the embedded queue (one node); redis: BullMQ on cluster.redisUrl, shared by every node. */
        jobQueue: z.enum(['sqlite', 'redis']).default('sqlite'),
        /** How often this node refreshes its registry entry (it expires after three missed refreshes). */
        heartbeatMs: ms(200).default(2000),
        /** SIGTERM: refuse new sessions and wait this long for the open ones to end before closing; 0: close at once. */
        drainTimeoutMs: ms(0).default(0),
      })
      .prefault({}),
  })
  .strict();

export const serverConfigSchema = streamingConfigSchema.extend({
  // ---- admin API: owned by src/admin/config.ts (the admin engineer edits only this section) ----
  admin: adminConfigSchema.prefault({}),
});

export type StreamingConfig = z.infer<typeof streamingConfigSchema>;
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Environment variables of the streaming keys people set most. */
export const STREAMING_ENV: Record<string, { path: string[]; type: 'string' | 'number' | 'boolean' }> = {
  SPLATCAST_HOST: { path: ['http', 'host'], type: 'string' },
  SPLATCAST_PORT: { path: ['http', 'port'], type: 'number' },
  SPLATCAST_DEVICE: { path: ['engine', 'device'], type: 'string' },
  SPLATCAST_WIDTH: { path: ['engine', 'width'], type: 'number' },
  SPLATCAST_HEIGHT: { path: ['engine', 'height'], type: 'number' },
  SPLATCAST_MEDIA_WORKERS: { path: ['media', 'workers'], type: 'number' },
  SPLATCAST_RTC_LISTEN_IP: { path: ['media', 'listenIp'], type: 'string' },
  SPLATCAST_RTC_ANNOUNCED_ADDRESS: { path: ['media', 'announcedAddress'], type: 'string' },
  SPLATCAST_RTC_MIN_PORT: { path: ['media', 'rtcMinPort'], type: 'number' },
  SPLATCAST_RTC_MAX_PORT: { path: ['media', 'rtcMaxPort'], type: 'number' },
  SPLATCAST_MAX_SESSIONS: { path: ['sessions', 'maxSessions'], type: 'number' },
  SPLATCAST_STREAM_TOKEN_SECRET: { path: ['auth', 'secret'], type: 'string' },
  SPLATCAST_DEV_TOKEN: { path: ['auth', 'devToken'], type: 'boolean' },
  SPLATCAST_REDIS_URL: { path: ['cluster', 'redisUrl'], type: 'string' },
  SPLATCAST_PUBLIC_URL: { path: ['cluster', 'publicUrl'], type: 'string' },
  SPLATCAST_JOB_QUEUE: { path: ['cluster', 'jobQueue'], type: 'string' },
  SPLATCAST_DRAIN_TIMEOUT_MS: { path: ['cluster', 'drainTimeoutMs'], type: 'number' },
};

function applyEnv(
  section: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  table: typeof STREAMING_ENV,
): Record<string, unknown> {
  const out = structuredClone(section);
  for (const [name, { path, type }] of Object.entries(table)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (type === 'number' && /^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    if (type === 'boolean' && /^(true|false|1|0)$/i.test(raw)) value = /^(true|1)$/i.test(raw);
    let node = out;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1) as string] = value;
  }
  return out;
}

/** Validates a whole config (file contents, environment on top); throws ConfigError naming every bad key. */
export function parseServerConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): ServerConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw)))
    throw new ConfigError('config: the file must hold a JSON object');
  const { admin, ...streaming } = (raw ?? {}) as Record<string, unknown>;
  const adminConfig = parseAdminConfig(admin, env);
  const parsed = streamingConfigSchema.safeParse(applyEnv(streaming, env, STREAMING_ENV));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const at = issue.path.map(String).join('.');
      const variable = Object.entries(STREAMING_ENV).find(
        ([name, m]) => m.path.join('.') === at && env[name] !== undefined,
      )?.[0];
      return `  ${at}: ${issue.message}${variable ? ` (from ${variable}=${JSON.stringify(env[variable])})` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = { ...parsed.data, admin: adminConfig };
  if (config.media.rtcMinPort > config.media.rtcMaxPort)
    throw new ConfigError('invalid configuration:\n  media.rtcMinPort: is above media.rtcMaxPort');
  if (config.cluster.jobQueue === 'redis' && !config.cluster.redisUrl)
    throw new ConfigError(
      'invalid configuration:\n  cluster.jobQueue: "redis" needs cluster.redisUrl (SPLATCAST_REDIS_URL)',
    );
  if (config.media.minBitrateBps > config.media.maxBitrateBps)
    throw new ConfigError('invalid configuration:\n  media.minBitrateBps: is above media.maxBitrateBps');
  return config;
}

/** Reads the config file (when given) and the environment. */
export function loadServerConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  let raw: unknown;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`config file ${file}: ${(error as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return parseServerConfig(raw, env);
}

export { ConfigError };
