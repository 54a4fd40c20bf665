// Entry point of a job process (forked by JobProcess): loads the kind's executor, runs the one job it is given and
// reports progress, log lines and the outcome over IPC. It stops when the runner cancels, and exits at once when the
// runner goes away (IPC disconnect), so a killed server leaves no orphan training behind.
import { DataDir } from '../storage/data-dir.js';
import { type ExecutorModule, JobFailure } from './executor.js';
import type { FromJob, StartMessage, ToJob } from './job-ipc.js';

if (!process.send) {
  process.stderr.write('job-worker-main: start it with child_process.fork (it talks over the IPC channel)\n');
  process.exit(2);
}

const send = (message: FromJob) => process.send?.(message);
/** Sends the outcome and waits until it is written, so disconnecting right after cannot drop it. */
const sendLast = (message: FromJob) =>
  new Promise<void>((resolve) => process.send?.(message, undefined, {}, () => resolve()));
const controller = new AbortController();
let started = false;

process.on('disconnect', () => {
  // The runner is gone (killed or crashed): stop now; the job's lease runs out and the next runner recovers it.
  process.exit(3);
});

process.on('message', (message: ToJob) => {
  if (message.type === 'cancel') controller.abort(new Error(message.reason));
  else if (message.type === 'start' && !started) {
    started = true;
    run(message)
      .then(sendLast, (error) => sendLast(failed(error)))
      .finally(() => process.disconnect?.());
  }
});

function failed(error: unknown): FromJob {
  return {
    type: 'failed',
    reason: error instanceof Error ? error.message : String(error),
    failure: error instanceof JobFailure || (error instanceof Error && error.name === 'PrepareError'),
    stack: error instanceof Error ? error.stack : undefined,
  };
}

async function run(start: StartMessage): Promise<FromJob> {
  try {
    const module = (await import(start.executor)) as ExecutorModule;
    const executor = await module.default();
    if (executor.kind !== start.job.kind)
      throw new Error(`${start.executor} runs ${executor.kind} jobs, not ${start.job.kind}`);
    const result = await executor.run({
      job: start.job,
      device: start.device,
      dataDir: new DataDir(start.dataDir),
      signal: controller.signal,
      progress: (progress) => send({ type: 'progress', progress }),
      log: (level, message) => send({ type: 'log', level, message }),
    });
    return controller.signal.aborted ? { type: 'cancelled' } : { type: 'succeeded', result };
  } catch (error) {
    return controller.signal.aborted ? { type: 'cancelled' } : failed(error);
  }
}
