// Entry point of an engine worker process (forked by EngineWorker with advanced serialization). argv[2] holds the
// WorkerConfig as JSON. Exit codes: 0 closed, 1 fatal error (reported first as a 'fatal' message), 2 bad start.
import { chooseDevice } from '@splatcast/engine';
import { EngineHost } from './engine-host.js';
import { watchParent } from './parent-watch.js';
import { type ChildMessage, describeIssues, EXIT_BAD_START, EXIT_FATAL, workerConfigSchema } from './protocol.js';

let host: EngineHost | undefined;
let exiting = false;

function post(message: ChildMessage): void {
  // The callback swallows a send on a closed channel: 'disconnect' ends the process then anyway.
  if (process.connected) process.send?.(message, undefined, {}, () => {});
}

function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  host?.close();
  process.exit(code);
}

/** Reports the error to the parent and exits once the report is written (or after a second at most). */
function fatal(error: unknown, code = EXIT_FATAL): void {
  if (exiting) return;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`splatcast engine worker ${process.pid}: fatal: ${message}\n`);
  setTimeout(() => exit(code), 1000).unref();
  if (process.connected) process.send?.({ kind: 'fatal', message } satisfies ChildMessage, () => exit(code));
  else exit(code);
}

process.on('uncaughtException', (error) => fatal(error));
process.on('unhandledRejection', (reason) => fatal(reason));
// The parent is gone (exited, crashed, killed): nobody will read our frames.
watchParent(() => exit(0));

function start(): void {
  if (!process.send) {
    process.stderr.write('worker-main: start it with child_process.fork (it talks over the IPC channel)\n');
    process.exit(EXIT_BAD_START);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(process.argv[2] ?? '');
  } catch {
    raw = undefined;
  }
  const config = workerConfigSchema.safeParse(raw);
  if (!config.success) {
    fatal(new Error(`bad worker config: ${describeIssues(config.error)}`), EXIT_BAD_START);
    return;
  }
  try {
    const choice = chooseDevice(config.data.device);
    const running = new EngineHost(config.data, choice.device, { post, onClose: () => exit(0), onFatal: fatal });
    host = running;
    process.on('message', (message) => void running.handle(message));
    post({ kind: 'ready', device: choice.device, reason: choice.reason });
  } catch (error) {
    fatal(error, EXIT_BAD_START);
  }
}

start();
