import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type prettyFactory from 'pino-pretty';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Logs on stdout; constant messages, facts in fields. `json`: one object a line, for collectors.
 * `text`: pino-pretty's lines for a person at a terminal (coloured only on a TTY), written
 * synchronously so nothing is lost when the process exits.
 */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const options = { level, base: { component: 'tandem' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return pino(options);
  // Loaded only when asked for: the default JSON logger starts without it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof prettyFactory;
  return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY === true && !process.env['NO_COLOR'], translateTime: 'SYS:standard', ignore: 'pid,hostname' }));
}
