#!/usr/bin/env node
// `npm start`: the streaming server (and the admin API, unless admin.enabled is false) on the configuration from
// --config FILE or SPLATCAST_CONFIG plus the environment; with no configuration at all it serves the demo on
// http://127.0.0.1:8080 with the CPU engine when there is no GPU and a generated fixture identity.
import { parseArgs } from 'node:util';
import { AdminServer } from './admin/admin-server.js';
import { BullmqJobQueue } from './cluster/bullmq-job-queue.js';
import { ConfigError, loadServerConfig } from './config.js';
import { FIXTURE_ID } from './identities/identity-resolver.js';
import { StreamingServer } from './streaming-server.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log('usage: splatcast-server [--config FILE]   (docs/streaming.md lists the keys and variables)');
    return;
  }
  const config = loadServerConfig(values.config ?? process.env.SPLATCAST_CONFIG);
  const server = await StreamingServer.start({ config });
  // Several nodes share one job queue in Redis (BullMQ); a lone node keeps the embedded SQLite one.
  const queue =
    config.admin.enabled && config.cluster.jobQueue === 'redis' && config.cluster.redisUrl
      ? await BullmqJobQueue.connect({
          redisUrl: config.cluster.redisUrl,
          defaultMaxAttempts: config.admin.jobs.maxAttempts,
          defaultTimeoutSeconds: config.admin.jobs.defaultTimeoutSeconds,
        })
      : undefined;
  const admin = config.admin.enabled
    ? await AdminServer.start({ config: config.admin, sessions: server.sessions, ...(queue ? { queue } : {}) })
    : undefined;
  const base = `http://${config.http.host}:${server.port}`;
  const device = server.engines.workers[0]?.device;
  console.log(`splatcast: streaming on ${server.streamUrl}, demo at ${base}/ , metrics at ${base}/metrics`);
  console.log(
    `splatcast: engine on ${device?.device} (${device?.reason}), ${config.engine.width}x${config.engine.height}`,
  );
  if (server.devToken) {
    const identity = (await server.identities.list())[0];
    if (identity) {
      const label = identity.fixture ? ' (FIXTURE: a generated test head, not a trained identity)' : '';
      console.log(`splatcast: DEVELOPMENT MODE (auth.devToken): anyone reaching ${base} can open sessions`);
      console.log(`splatcast: dev token for identity "${identity.id}"${label}:\n${await server.devToken(identity.id)}`);
    } else console.log(`splatcast: no identity yet (the fixture "${FIXTURE_ID}" is off: identities.fixture)`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.log(`splatcast: ${signal} again, closing now`);
      await server.close();
      process.exit(0);
    }
    stopping = true;
    // SIGTERM (an orchestrator stopping this node) drains first when cluster.drainTimeoutMs is set; Ctrl-C does not.
    const drainMs = signal === 'SIGTERM' ? config.cluster.drainTimeoutMs : 0;
    if (drainMs > 0) {
      console.log(`splatcast: SIGTERM, draining: no new sessions, waiting up to ${drainMs} ms for open ones to end`);
      const { drained, remaining, waitedMs } = await server.drain(drainMs);
      console.log(
        drained
          ? `splatcast: drained in ${Math.round(waitedMs)} ms`
          : `splatcast: drain timed out with ${remaining} session(s) open: closing them`,
      );
    } else console.log(`splatcast: ${signal}, shutting down`);
    await admin?.close();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `splatcast: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
