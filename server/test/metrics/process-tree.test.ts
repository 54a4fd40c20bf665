// CPU of the server's process tree from /proc: the stat line parsed even with odd command names, and a real child
// process's CPU counted under its parent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { parseProcStat, processTreeCpu } from '../../src/metrics/process-tree.js';

t.test('stat lines, including a name with spaces and parentheses', async (t) => {
  const line = '4242 (node (worker) 1) S 100 4242 4242 0 -1 4194560 1 0 0 0 250 50 7 3 20 0 11 0 1 2 3';
  t.same(parseProcStat(line), { pid: 4242, ppid: 100, own: 300, reaped: 10 });
  t.equal(parseProcStat('garbage'), undefined);
  t.equal(parseProcStat('12 (x) S 1 2'), undefined, 'too short');
});

t.test(
  'a busy child counts under this process',
  { skip: existsSync('/proc/self/stat') ? false : 'no /proc here' },
  async (t) => {
    const before = processTreeCpu();
    t.ok(before && before.processes >= 1);
    // The child burns 0.5 s of its own CPU time (not wall time: a loaded machine may give it little of each second).
    const child = spawn(process.execPath, ['-e', "console.log('go'); while (process.cpuUsage().user < 500000);"], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const during = processTreeCpu();
    t.ok(during && during.processes >= (before?.processes ?? 0) + 1, `${during?.processes} processes while it runs`);
    await new Promise((resolve) => child.once('exit', resolve));
    // Reaped by Node: its time now counts in this process's children's time.
    const added = (processTreeCpu()?.seconds ?? 0) - (before?.seconds ?? 0);
    t.ok(added >= 0.45, `${added.toFixed(2)} CPU s added`);
    t.equal(processTreeCpu(999_999_999), undefined, 'no such process');
  },
);
