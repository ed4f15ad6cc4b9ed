import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logging/logger';

let installed = false;

/** Route the SDK's own logs (worker, workflow `log`, activity logs) through our one JSON logger. Once per process. */
export function installRuntimeLogger(log: Logger): void {
  if (installed) return;
  installed = true;
  const emit = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const attrs = meta ?? {};
    switch (level) {
      case 'TRACE':
        return log.trace(attrs, message);
      case 'DEBUG':
        return log.debug(attrs, message);
      case 'INFO':
        return log.info(attrs, message);
      case 'WARN':
        return log.warn(attrs, message);
      default:
        return log.error(attrs, message);
    }
  };
  Runtime.install({
    logger: {
      log: emit,
      trace: (m, a) => emit('TRACE', m, a),
      debug: (m, a) => emit('DEBUG', m, a),
      info: (m, a) => emit('INFO', m, a),
      warn: (m, a) => emit('WARN', m, a),
      error: (m, a) => emit('ERROR', m, a),
    },
  });
}
