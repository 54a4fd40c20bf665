// Feeds a speech timeline to a session in real time, a chunk every `chunkMs` on the monotonic clock (a late timer
// sends the chunks that are due at once, so nothing drifts), and notes when each onset of the timeline left. One
// shared timer drives every driver of the process: hundreds of sessions do not mean hundreds of timers.
import type { SpeechTimeline } from './speech-timeline.js';

export interface SpeechSink {
  /** One chunk of mono samples in [-1, 1] at the timeline's rate; `speech` is false in the gaps. */
  write(chunk: Float32Array, speech: boolean): void;
  /** An utterance has been sent in full (agents end their segment here). */
  endUtterance(): void;
}

const TICK_MS = 5;
const drivers = new Set<SpeechDriver>();
let timer: NodeJS.Timeout | undefined;

function tickAll(): void {
  const now = performance.now();
  for (const d of drivers) d.tick(now);
}

export class SpeechDriver {
  /** performance.now() at which each timeline onset was sent. */
  readonly sentOnsetsMs: number[] = [];
  private readonly chunk: number;
  private startedAt = 0;
  private sent = 0;
  private nextOnset = 0;
  private nextUtterance = 0;
  private error: Error | undefined;

  constructor(
    private readonly timeline: SpeechTimeline,
    chunkMs: number,
    private readonly sink: SpeechSink,
  ) {
    this.chunk = Math.round((timeline.sampleRate * chunkMs) / 1000);
  }

  /** The first write error (the session's socket closed, say); the driver stops at it. */
  get failure(): Error | undefined {
    return this.error;
  }

  start(): void {
    this.startedAt = performance.now();
    drivers.add(this);
    timer ??= setInterval(tickAll, TICK_MS);
  }

  stop(): void {
    drivers.delete(this);
    if (drivers.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  /** @internal the shared timer */
  tick(now: number): void {
    const { signal, sampleRate, onsets, utterances } = this.timeline;
    const due = Math.min(signal.length, Math.floor(((now - this.startedAt) * sampleRate) / 1000));
    try {
      while (this.sent + this.chunk <= due) {
        const from = this.sent;
        const to = from + this.chunk;
        const utterance = utterances[this.nextUtterance];
        const speech = utterance !== undefined && from < utterance.end && to > utterance.start;
        this.sink.write(signal.subarray(from, to), speech);
        this.sent = to;
        while (this.nextOnset < onsets.length && (onsets[this.nextOnset] as number) < to) {
          this.sentOnsetsMs.push(now);
          this.nextOnset++;
        }
        if (utterance && to >= utterance.end) {
          this.sink.endUtterance();
          this.nextUtterance++;
        }
      }
    } catch (error) {
      this.error = error as Error;
      this.stop();
      return;
    }
    if (this.sent + this.chunk > signal.length) this.stop();
  }
}
