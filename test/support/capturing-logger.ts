import type { LoggerService } from '@nestjs/common';

/** One line a Nest logger received. */
export interface LogLine {
  readonly level: 'log' | 'warn' | 'error' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
  readonly context: string | undefined;
}

/** A Nest logger that keeps every line, so that a test can read what a user would see in the console. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];
  log(message: unknown, context?: string): void {
    this.lines.push({ level: 'log', message: String(message), context });
  }
  warn(message: unknown, context?: string): void {
    this.lines.push({ level: 'warn', message: String(message), context });
  }
  error(message: unknown, _trace?: string, context?: string): void {
    this.lines.push({ level: 'error', message: String(message), context });
  }
  debug(message: unknown, context?: string): void {
    this.lines.push({ level: 'debug', message: String(message), context });
  }
  verbose(message: unknown, context?: string): void {
    this.lines.push({ level: 'verbose', message: String(message), context });
  }

  /** Lines of the cache's own logger that contain `text`. */
  cache(text: string): LogLine[] {
    return this.lines.filter((line) => line.context === 'LayeredCache' && line.message.includes(text));
  }
}
