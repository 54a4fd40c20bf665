// A parent that dies while its engine worker still loads: it forks worker-main the way EngineWorker does (parent pid
// in the environment), prints the child's pid, and SIGKILLs itself 50 ms later, before the child has imported the
// engine addon and could listen for 'disconnect'.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARENT_PID_ENV } from '../../src/engine/parent-watch.js';
import { DEFAULT_WORKER_CONFIG } from '../../src/engine/protocol.js';
import { SIZE } from './fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../src/engine/worker-main.ts');
const child = fork(entry, [JSON.stringify({ ...DEFAULT_WORKER_CONFIG, device: 'cpu', ...SIZE })], {
  serialization: 'advanced',
  env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
});
process.stdout.write(`${child.pid}\n`);
setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
