import type { LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** NestJS log levels from LOG_LEVEL (error | warn | log | debug | verbose); default `log`. */
export function logLevels(level = process.env.LOG_LEVEL || 'log'): LogLevel[] {
  const index = ORDER.indexOf(level as LogLevel);
  return ORDER.slice(0, index < 0 ? ORDER.indexOf('log') + 1 : index + 1);
}
