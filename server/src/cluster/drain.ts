// Graceful drain, what Kubernetes asks of a pod it is about to stop (SIGTERM, then terminationGracePeriodSeconds):
// refuse new sessions at once (readiness turns 503, so the Service stops sending clients here, and the registry
// stops routing to this node), let the open sessions finish, and give up waiting after a timeout. Clients whose
// sessions are cut then get SERVER_SHUTDOWN and reconnect elsewhere (the SDK's reconnect policy).

export interface Drainable {
  stopAccepting(): void;
  /** Sessions still open. */
  readonly size: number;
}

export interface DrainResult {
  /** True when every session ended by itself before the timeout. */
  drained: boolean;
  /** Sessions still open when the wait ended. */
  remaining: number;
  waitedMs: number;
}

export async function drainSessions(
  sessions: Drainable,
  o: { timeoutMs: number; pollMs?: number; progress?: (remaining: number) => void },
): Promise<DrainResult> {
  sessions.stopAccepting();
  const started = performance.now();
  const pollMs = o.pollMs ?? 200;
  let reported = -1;
  while (sessions.size > 0 && performance.now() - started < o.timeoutMs) {
    if (sessions.size !== reported) {
      reported = sessions.size;
      o.progress?.(reported);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, o.timeoutMs)));
  }
  return { drained: sessions.size === 0, remaining: sessions.size, waitedMs: performance.now() - started };
}
