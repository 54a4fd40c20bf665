// EventEmitter with typed events, and safeEmit: a listener that throws is logged and cannot break the emitter's
// own state machine (mediasoup's enhancedEvents).
import { EventEmitter } from 'node:events';
import { Logger } from './logger.js';

const logger = new Logger('events');

export type Events = Record<string, unknown[]>;

export class EnhancedEventEmitter<E extends Events = Events> extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(Number.POSITIVE_INFINITY);
  }

  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }

  /** Emits, catching and logging a listener's exception. Returns whether the event had listeners. */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      logger.error('a listener of "%s" threw: %o', event, error);
      return true;
    }
  }

  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}
