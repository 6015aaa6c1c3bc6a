import { pino, type Logger } from 'pino';

/** JSON logs on stdout; constant messages, facts in fields. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'tandem' }, timestamp: pino.stdTimeFunctions.isoTime });
}
