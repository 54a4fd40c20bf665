// The cluster section of the server config: off by default (one box, SQLite queue, no drain), switched on by
// variables in a deployment, and refused when it cannot work.
import t from 'tap';
import { parseServerConfig } from '../../src/config.js';

t.test('defaults: no Redis, the SQLite queue, close at once on SIGTERM', async (t) => {
  t.match(parseServerConfig(undefined).cluster, { jobQueue: 'sqlite', drainTimeoutMs: 0, heartbeatMs: 2000 });
  t.equal(parseServerConfig(undefined).cluster.redisUrl, undefined);
});

t.test('a Kubernetes pod sets it through variables', async (t) => {
  const c = parseServerConfig(undefined, {
    SPLATCAST_REDIS_URL: 'redis://splatcast-redis:6379',
    SPLATCAST_PUBLIC_URL: 'wss://node-3.avatar.example.com/v1/stream',
    SPLATCAST_JOB_QUEUE: 'redis',
    SPLATCAST_DRAIN_TIMEOUT_MS: '600000',
  });
  t.match(c.cluster, {
    redisUrl: 'redis://splatcast-redis:6379',
    publicUrl: 'wss://node-3.avatar.example.com/v1/stream',
    jobQueue: 'redis',
    drainTimeoutMs: 600000,
  });
});

t.test('bad cluster settings are refused with their key', async (t) => {
  t.throws(() => parseServerConfig({ cluster: { jobQueue: 'redis' } }), /cluster\.jobQueue.*needs cluster\.redisUrl/);
  t.throws(() => parseServerConfig({ cluster: { redisUrl: 'http://x' } }), /cluster\.redisUrl/);
  t.throws(() => parseServerConfig({ cluster: { publicUrl: 'http://x' } }), /cluster\.publicUrl/);
  t.throws(() => parseServerConfig({}, { SPLATCAST_JOB_QUEUE: 'kafka' }), /cluster\.jobQueue.*SPLATCAST_JOB_QUEUE/);
  t.throws(() => parseServerConfig({ cluster: { drainTimeoutMs: -1 } }), /cluster\.drainTimeoutMs/);
});
