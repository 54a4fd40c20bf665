// One load run: `sessions` simulated clients started at `rampPerSecond`, all held for `durationMs` once the last
// is up, the server's /metrics scraped throughout; then every session's numbers, the run's, and the time series.
import { type MetricsSample, MetricsScraper } from './metrics-scraper.js';
import type { OnsetDetectorOptions } from './onset-detector.js';
import {
  type RunSummary,
  type SessionSummary,
  summarizeRun,
  summarizeSession,
  type TimePoint,
  timeSeries,
} from './session-summary.js';
import { type DriveMode, MODE_SAMPLE_RATE, runSession, type SessionRecord } from './simulated-client.js';
import { buildTimeline } from './speech-timeline.js';
import { fetchToken, type TokenSource } from './token-source.js';

export interface LoadRunOptions {
  url: string;
  tokens: TokenSource;
  identityId?: string;
  sessions: number;
  rampPerSecond: number;
  durationMs: number;
  mode: DriveMode;
  /** Mono speech at MODE_SAMPLE_RATE[mode]. */
  speech: Float32Array;
  utteranceMs: number;
  gapMs: number;
  /** A sent onset not heard back within this is missed. */
  maxLatencyMs: number;
  connectTimeoutMs: number;
  /** The server's /metrics; undefined: not scraped. */
  metricsUrl: string | undefined;
  bucketMs: number;
  detector?: OnsetDetectorOptions;
  /** Told about each session as it ends. */
  onSession?: (s: SessionSummary) => void;
}

export interface LoadRunReport {
  startedAt: string;
  sessions: number;
  mode: DriveMode;
  rampPerSecond: number;
  durationMs: number;
  /** When the last session was due to start, ms since the start: steady-state numbers count from here. */
  steadyFromMs: number;
  run: RunSummary;
  perSession: SessionSummary[];
  timeline: TimePoint[];
  server: { samples: MetricsSample[]; errors: string[] };
}

export async function runLoad(o: LoadRunOptions): Promise<LoadRunReport> {
  if (!Number.isInteger(o.sessions) || o.sessions < 1) throw new RangeError('sessions must be a positive integer');
  if (!(o.rampPerSecond > 0)) throw new RangeError('the ramp must be a positive number of sessions per second');
  if (!(o.durationMs > 0)) throw new RangeError('the duration must be positive');
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const steadyFromMs = ((o.sessions - 1) / o.rampPerSecond) * 1000;
  const stopAt = t0 + steadyFromMs + o.durationMs;
  const timeline = buildTimeline(o.speech, {
    sampleRate: MODE_SAMPLE_RATE[o.mode],
    utteranceMs: o.utteranceMs,
    gapMs: o.gapMs,
    durationMs: stopAt - t0 + o.maxLatencyMs,
    ...(o.detector ? { detector: o.detector } : {}),
  });
  const scraper = o.metricsUrl ? new MetricsScraper(o.metricsUrl, t0) : undefined;
  await scraper?.start();
  const pending: Promise<SessionRecord>[] = [];
  for (let i = 0; i < o.sessions; i++) {
    const due = t0 + (i / o.rampPerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      (async () => {
        let token: string;
        try {
          token = await fetchToken(o.tokens);
        } catch (error) {
          return failed(i, o.mode, performance.now() - t0, (error as Error).message);
        }
        const record = await runSession({
          index: i,
          url: o.url,
          token,
          mode: o.mode,
          timeline,
          runStartedAt: t0,
          stopAt,
          connectTimeoutMs: o.connectTimeoutMs,
          ...(o.identityId ? { identityId: o.identityId } : {}),
          ...(o.detector ? { detector: o.detector } : {}),
        });
        o.onSession?.(summarizeSession(record, o.maxLatencyMs, steadyFromMs));
        return record;
      })(),
    );
  }
  const records = await Promise.all(pending);
  await scraper?.stop();
  const perSession = records.map((r) => summarizeSession(r, o.maxLatencyMs, steadyFromMs));
  return {
    startedAt,
    sessions: o.sessions,
    mode: o.mode,
    rampPerSecond: o.rampPerSecond,
    durationMs: o.durationMs,
    steadyFromMs,
    run: summarizeRun(perSession),
    perSession,
    timeline: timeSeries(records, o.maxLatencyMs, o.bucketMs),
    server: { samples: scraper?.samples ?? [], errors: scraper?.errors ?? [] },
  };
}

function failed(index: number, mode: DriveMode, atMs: number, error: string): SessionRecord {
  return {
    index,
    sessionId: '',
    mode,
    error,
    connectMs: undefined,
    firstFrameMs: undefined,
    fps: 25,
    startedAtMs: atMs,
    endedAtMs: atMs,
    frameArrivalsMs: [],
    sentOnsetsMs: [],
    heardOnsetsMs: [],
    serverStats: [],
    rtp: [],
    reconnects: 0,
  };
}
