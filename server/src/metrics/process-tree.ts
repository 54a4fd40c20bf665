// CPU of the whole server: this process and every process under it (engine workers, mediasoup workers, job
// processes), read from /proc at scrape time. prom-client's process metrics cover the main process only, which does
// little of the work. Linux only: elsewhere the gauges stay empty.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Gauge } from 'prom-client';
import { registry } from './registry.js';

/** Linux reports process times in USER_HZ ticks, 100 per second on every architecture it runs on. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, and cutime + cstime of the children it has reaped, in ticks. */
  own: number;
  reaped: number;
}

/** Parses /proc/<pid>/stat; the command name is in parentheses and may hold spaces or parentheses itself. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
  const n = (i: number) => Number(f[i]);
  if (f.length < 15 || ![1, 11, 12, 13, 14].every((i) => Number.isFinite(n(i)))) return undefined;
  return { pid, ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
}

/** CPU seconds of `root` and its live descendants (plus what `root` reaped), and how many processes that is. */
export function processTreeCpu(root = process.pid, proc = '/proc'): { seconds: number; processes: number } | undefined {
  let entries: string[];
  try {
    entries = readdirSync(proc).filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>();
  for (const e of entries) {
    try {
      const s = parseProcStat(readFileSync(`${proc}/${e}/stat`, 'utf8'));
      if (s) stats.set(s.pid, s);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  const top = stats.get(root);
  if (!top) return undefined;
  const children = new Map<number, number[]>();
  for (const s of stats.values()) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  let ticks = top.reaped;
  let processes = 0;
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    const s = stats.get(pid);
    if (!s) continue;
    ticks += s.own;
    processes++;
    todo.push(...(children.get(pid) ?? []));
  }
  return { seconds: ticks / TICKS_PER_SECOND, processes };
}

new Gauge({
  name: 'splatcast_process_tree_cpu_seconds',
  help: 'CPU seconds used by the server process and its worker processes (cumulative; dips when a worker exits)',
  registers: [registry],
  collect() {
    const tree = processTreeCpu();
    if (tree) this.set(tree.seconds);
  },
});

new Gauge({
  name: 'splatcast_process_tree_processes',
  help: 'Processes in the server process tree (the server and its workers)',
  registers: [registry],
  collect() {
    const tree = processTreeCpu();
    if (tree) this.set(tree.processes);
  },
});

new Gauge({
  name: 'splatcast_host_cpu_cores',
  help: 'CPU cores available to the server (os.availableParallelism)',
  registers: [registry],
  collect() {
    this.set(availableParallelism());
  },
});
