// An engine worker leaves when its parent does. The SIGKILL of a running server is test/streaming/parent-death.test.ts;
// here the gap that 'disconnect' alone left: a parent that dies while the worker still loads the engine addon (the
// event fires before anyone listens, and the worker lived on as an orphan). The worker must notice from its parent
// pid, or from its closed channel, whenever it looks.
import { fork, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { PARENT_PID_ENV } from '../../src/engine/parent-watch.js';
import { DEFAULT_WORKER_CONFIG } from '../../src/engine/protocol.js';
import { running, SIZE, until } from '../helpers/fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../src/engine/worker-main.ts');
const config = JSON.stringify({ ...DEFAULT_WORKER_CONFIG, device: 'cpu', ...SIZE });

function run(parentPid: number): Promise<{ code: number | null; signal: string | null }> {
  const child = fork(entry, [config], {
    serialization: 'advanced',
    env: { ...process.env, [PARENT_PID_ENV]: String(parentPid) },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

t.test('a worker told of a parent that is not its parent (it was orphaned) exits on its own', async (t) => {
  // Our own parent's pid stands for "the server that started me", which is not this (new) parent.
  const exit = await Promise.race([
    run(process.ppid),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref()),
  ]);
  t.same(exit, { code: 0, signal: null }, 'exited cleanly, with its IPC channel still open');
});

t.test('a worker with its real parent stays', async (t) => {
  const exit = await Promise.race([
    run(process.pid),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 3000).unref()),
  ]);
  t.equal(exit, 'still running', 'still running after 3 s');
});

t.test('a parent killed while its worker still loads leaves no orphan', async (t) => {
  // Without the parent-pid poll this worker lived on: 'disconnect' fired before it listened.
  const parent = spawn(process.execPath, [...process.execArgv, path.resolve(here, '../helpers/doomed-parent.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  parent.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((resolve) => parent.once('exit', resolve));
  const pid = Number(out.trim());
  t.ok(pid > 0, `the worker was started (pid ${pid})`);
  t.teardown(() => {
    if (running(pid)) process.kill(pid, 'SIGKILL');
  });
  await until(() => !running(pid), 30_000, 'the orphaned worker to exit').catch(() => {});
  t.notOk(running(pid), 'the worker exited on its own');
});
