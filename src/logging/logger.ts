import pino, { type Logger } from 'pino';

/** One structured JSON logger per process: fixed message + attributes object. */
export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level, base: { service: name } });
}

export type { Logger };
