// A streaming server in a process of its own, for tests that kill it: it starts the test server (CPU engine, a
// fixture identity, one mediasoup worker), opens one session on it so that the engine worker holds real work, then
// prints one JSON line with every process it started: {"pid", "engineWorkers", "spares", "mediaWorkers"}.
// Temporary files go under TMPDIR: the killing test sets it to a folder it removes itself.
import { startServer, TestClient } from './streaming.js';

const teardowns: (() => unknown)[] = [];
const server = await startServer({ teardown: (fn) => teardowns.push(fn) });
await TestClient.open(server);
await server.engines.sparesReady();
process.stdout.write(
  `${JSON.stringify({
    pid: process.pid,
    engineWorkers: server.engines.workers.map((w) => w.pid),
    spares: server.engines.spareWorkers.map((w) => w.pid),
    mediaWorkers: server.media.workerPids,
  })}\n`,
);
// Stays up until killed (or told to stop on stdin closing, when the test ends the ordinary way).
process.stdin.resume();
process.stdin.on('end', async () => {
  for (const fn of teardowns.reverse()) await fn();
  process.exit(0);
});
