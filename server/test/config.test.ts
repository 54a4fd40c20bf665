// The server configuration: defaults that run on a laptop, environment variables on top, every bad key named.
import t from 'tap';
import { ConfigError, parseServerConfig } from '../src/config.js';

t.test('defaults', async (t) => {
  const c = parseServerConfig(undefined);
  t.match(c.http, { host: '127.0.0.1', port: 8080, demo: true });
  t.match(c.engine, { device: 'auto', width: 512, height: 512, maxLookaheadMs: 80 });
  t.match(c.media, { rtcMinPort: 40000, rtcMaxPort: 49999, enableTcp: true, videoCodecs: ['vp8', 'h264'] });
  t.equal(c.auth.devToken, 'auto');
  t.equal(c.admin.port, 8081, 'the admin section is filled by its own schema');
});

t.test('environment variables override the file', async (t) => {
  const c = parseServerConfig(
    { http: { port: 9000 }, media: { announcedAddress: 'a.example.com' } },
    {
      SPLATCAST_PORT: '9100',
      SPLATCAST_RTC_MIN_PORT: '50000',
      SPLATCAST_RTC_MAX_PORT: '50100',
      SPLATCAST_DEV_TOKEN: 'false',
    },
  );
  t.equal(c.http.port, 9100);
  t.match(c.media, { rtcMinPort: 50000, rtcMaxPort: 50100, announcedAddress: 'a.example.com' });
  t.equal(c.auth.devToken, false);
});

t.test('bad values are refused with their path and variable', async (t) => {
  t.throws(() => parseServerConfig({ engine: { width: 333 } }), /engine\.width/);
  t.throws(() => parseServerConfig({}, { SPLATCAST_PORT: 'eighty' }), /http\.port.*SPLATCAST_PORT/);
  t.throws(() => parseServerConfig({ nonsense: true }), ConfigError);
  t.throws(() => parseServerConfig({ media: { rtcMinPort: 5000, rtcMaxPort: 4000 } }), /rtcMinPort/);
  t.throws(() => parseServerConfig([]), /JSON object/);
  t.throws(() => parseServerConfig({ media: { videoCodecs: ['av1'] } }), /videoCodecs/);
});
