// The admin config: defaults, environment overrides, and messages that name the key and the variable.
import t from 'tap';
import { ConfigError, parseAdminConfig } from '../../src/admin/config.js';

t.test('defaults work with nothing given', async (t) => {
  const config = parseAdminConfig(undefined);
  t.match(config, {
    enabled: true,
    host: '127.0.0.1',
    port: 8081,
    dataDir: 'data',
    tokens: { defaultTtlSeconds: 600, issuer: 'splatcast-admin', audience: 'splatcast-stream' },
    uploads: { maxSeconds: 300, faceScreen: true },
    jobs: { cpuConcurrency: 1, gpus: 'auto', perGpuConcurrency: 1, maxAttempts: 3 },
    cors: { origins: [] },
  });
});

t.test('the environment overrides the file', async (t) => {
  const config = parseAdminConfig(
    { port: 9000, jobs: { perGpuConcurrency: 2 } },
    {
      SPLATCAST_ADMIN_PORT: '9100',
      SPLATCAST_ADMIN_CORS_ORIGINS: 'https://a.example, https://b.example',
      SPLATCAST_UPLOAD_FACE_SCREEN: 'false',
      SPLATCAST_DATA_DIR: '/srv/splatcast',
    },
  );
  t.equal(config.port, 9100);
  t.equal(config.jobs.perGpuConcurrency, 2, 'file values the environment does not set stay');
  t.same(config.cors.origins, ['https://a.example', 'https://b.example']);
  t.equal(config.uploads.faceScreen, false);
  t.equal(config.dataDir, '/srv/splatcast');
});

t.test('clear messages: every problem, by path and variable', async (t) => {
  const error = (() => {
    try {
      parseAdminConfig(
        { port: 70000, jobs: { gpus: 'some' }, colour: 'blue' },
        { SPLATCAST_TOKEN_TTL_SECONDS: 'soon' },
      );
    } catch (e) {
      return e as Error;
    }
  })();
  t.type(error, ConfigError);
  t.match(error?.message, /^invalid configuration:/);
  t.match(error?.message, /admin\.port: .*65535/);
  t.match(error?.message, /admin\.jobs\.gpus: /);
  t.match(error?.message, /admin: .*colour/);
  t.match(error?.message, /admin\.tokens\.defaultTtlSeconds: .* \(from SPLATCAST_TOKEN_TTL_SECONDS="soon"\)/);
  t.throws(() => parseAdminConfig([1]), /"admin" must be an object/);
  t.throws(() => parseAdminConfig({ tokens: { secret: 'short' } }), /admin\.tokens\.secret/);
});
