// When to try again after the connection dropped: a policy object, so applications can bring their own.

export interface ReconnectContext {
  /** Attempts made so far (0 before the first retry). */
  attempt: number;
  /** Milliseconds since the connection was lost. */
  elapsedMs: number;
}

export interface ReconnectPolicy {
  /** Delay before the next attempt, or null to give up. */
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** 0, 300, 1200, 2700, 4800 ms, then every 7 s with up to 1 s of jitter; gives up after 10 attempts or 60 s. */
export class DefaultReconnectPolicy implements ReconnectPolicy {
  constructor(
    private readonly delays: readonly number[] = [0, 300, 1200, 2700, 4800],
    private readonly maxAttempts = 10,
    private readonly maxElapsedMs = 60_000,
  ) {}

  nextRetryDelayMs({ attempt, elapsedMs }: ReconnectContext): number | null {
    if (attempt >= this.maxAttempts || elapsedMs >= this.maxElapsedMs) return null;
    return this.delays[attempt] ?? 7000 + Math.floor(Math.random() * 1000);
  }
}
