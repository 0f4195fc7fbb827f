import { ConsoleLogger, type LoggerService, type LogLevel } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import { logLevels } from './logging.js';
import { currentRequestId } from './request-context.js';

const PINO_LEVEL: Record<LogLevel, string> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * NestJS's logger as JSON lines on stdout (pino): `level`, `time`, `service`, `context` (the
 * Logger's name), `request_id` when the line is logged on behalf of a request, and `msg`.
 * Every `new Logger(...)` in the code writes through it once the app is created with it.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  // Through process.stdout (not a raw file descriptor), so that whatever captures the process's
  // output (a test, a wrapper) sees every line.
  constructor(service: string, level = process.env.LOG_LEVEL || 'log', destination: pino.DestinationStream = process.stdout) {
    const levels = logLevels(level);
    this.pino = pino(
      {
        level: PINO_LEVEL[levels.at(-1) ?? 'log'],
        base: { service },
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => {
          const requestId = currentRequestId();
          return requestId ? { request_id: requestId } : {};
        },
      },
      destination,
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** NestJS passes the Logger's name as the last argument (and a stack before it for errors). */
  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields = { ...(context ? { context } : {}), ...(stack ? { stack } : {}) };
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }
}

/**
 * The logger a Parley process runs with: JSON lines (the default, what log stores read), or
 * NestJS's coloured text with LOG_FORMAT=text (what `npm start` shows a developer), where the
 * request id follows the component's name.
 */
export function serviceLogger(service: string, env: NodeJS.ProcessEnv = process.env): LoggerService {
  if (env.LOG_FORMAT !== 'text') return new JsonLogger(service, env.LOG_LEVEL || 'log');
  return new RequestAwareConsoleLogger(service, { logLevels: logLevels(env.LOG_LEVEL || 'log') });
}

class RequestAwareConsoleLogger extends ConsoleLogger {
  protected override formatContext(context: string): string {
    const requestId = currentRequestId();
    return super.formatContext(requestId ? `${context} ${requestId}` : context);
  }
}
