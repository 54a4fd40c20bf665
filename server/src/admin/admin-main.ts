// Runs the admin API on its own: `node server/dist/admin/admin-main.js [--config FILE]`. The config file is the
// server's JSON config (its `admin` section is read); SPLATCAST_* variables override it (docs/admin-api.md).
// SIGTERM or SIGINT shuts down in order: running jobs go back to the queue and resume at the next start.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AdminServer } from './admin-server.js';
import { ConfigError, parseAdminConfig } from './config.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } } });
  const file = values.config ?? process.env.SPLATCAST_CONFIG;
  let section: unknown;
  if (file) {
    const text = await readFile(file, 'utf8').catch((error: Error) => {
      throw new ConfigError(`cannot read the config file ${file}: ${error.message}`);
    });
    try {
      section = (JSON.parse(text) as { admin?: unknown }).admin;
    } catch (error) {
      throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const config = parseAdminConfig(section, process.env);
  const logger = pino({ name: 'splatcast-admin', level: process.env.SPLATCAST_LOG_LEVEL ?? 'info' });
  const server = await AdminServer.start({ config, logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`splatcast admin: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
