// A server killed outright (SIGKILL: no handler runs, nothing is closed) must not leave processes behind: its engine
// workers, the warm spare and the mediasoup workers notice that their parent is gone and exit on their own.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { running, until } from '../helpers/fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, '..', 'helpers', `server-child${path.extname(fileURLToPath(import.meta.url))}`);

interface ChildProcesses {
  pid: number;
  engineWorkers: number[];
  spares: number[];
  mediaWorkers: number[];
}

t.test('SIGKILL of the server: its engine workers, spare and mediasoup workers exit within seconds', async (t) => {
  const scratch = await mkdtemp(path.join(tmpdir(), 'splatcast-parent-death-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  // The child runs the sources through the same loader as this test (execArgv carries it).
  const child = spawn(process.execPath, [...process.execArgv, CHILD], {
    env: { ...process.env, TMPDIR: scratch },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const started = await new Promise<ChildProcesses>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as ChildProcesses);
    });
    child.once('exit', (code, signal) => reject(new Error(`the server child exited early (${code}, ${signal})`)));
  });
  const descendants = [...started.engineWorkers, ...started.spares, ...started.mediaWorkers];
  t.equal(started.engineWorkers.length, 1, 'one engine worker');
  t.equal(started.spares.length, 1, 'one warm spare');
  t.equal(started.mediaWorkers.length, 1, 'one mediasoup worker');
  t.ok(descendants.every(running), 'all running before the kill');

  const killedAt = performance.now();
  process.kill(started.pid, 'SIGKILL');
  await until(() => !descendants.some(running), 10_000, 'the orphaned processes to exit').catch(() => {});
  const left = descendants.filter(running);
  t.comment(`orphans gone ${(performance.now() - killedAt).toFixed(0)} ms after the kill`);
  t.same(left, [], 'no process of the killed server is left');
  for (const pid of left) process.kill(pid, 'SIGKILL');
});
