// An engine worker must not outlive the server that started it: nobody would read its frames, and on a GPU it would
// keep holding device memory. Two signals, because either alone has a gap:
// - the IPC channel's 'disconnect', at once when the parent exits, however it exits (SIGKILL included); but a parent
//   that dies while this process still loads its modules (the engine addon takes a while) closes the channel before
//   anyone listens, and the event is gone;
// - the parent pid, polled: the parent passes its pid in the environment, and a process whose parent is another one
//   (re-parented to init or a subreaper) was orphaned, whenever that happened.

/** Environment variable through which EngineWorker tells the child its parent's pid. */
export const PARENT_PID_ENV = 'SPLATCAST_ENGINE_PARENT_PID';
const POLL_MS = 500;

/** Calls `gone` (once) when the parent process has gone away. */
export function watchParent(gone: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    clearInterval(timer);
    gone();
  };
  const expected = Number(process.env[PARENT_PID_ENV]);
  const orphaned = () =>
    (Number.isInteger(expected) && expected > 0 && process.ppid !== expected) || !process.connected;
  process.on('disconnect', once);
  // unref: the poll alone must not keep the process alive after everything else has ended.
  const timer = setInterval(() => orphaned() && once(), POLL_MS).unref();
  if (orphaned()) setImmediate(once);
}
