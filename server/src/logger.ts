// Scoped logging: debug lines only with NODE_DEBUG=splatcast (node's debuglog), warnings and errors always (stderr).
import { debuglog, format } from 'node:util';

const debug = debuglog('splatcast');

export class Logger {
  constructor(private readonly scope: string) {}

  debug(message: string, ...args: unknown[]): void {
    debug(`${this.scope}: ${message}`, ...args);
  }

  warn(message: string, ...args: unknown[]): void {
    process.stderr.write(`splatcast ${this.scope} warning: ${format(message, ...args)}\n`);
  }

  error(message: string, ...args: unknown[]): void {
    process.stderr.write(`splatcast ${this.scope} error: ${format(message, ...args)}\n`);
  }
}
