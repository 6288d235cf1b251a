import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout (or LOG_FILE), written asynchronously so logging
 * never blocks a request. Credentials are redacted wherever they appear in a logged object.
 */
export function createLogger(options: { level?: string; destination?: string | number } = {}): Logger {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false, minLength: 4096 });
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['authorization', 'headers.authorization', 'headers["x-api-key"]', 'headers.cookie', '*.authorization', 'token', 'secret', '*.token', '*.secret', 'err.config'],
        censor: '[redacted]',
      },
    },
    destination,
  );
  const flush = () => {
    try {
      destination.flushSync();
    } catch {
      // nothing left to flush, or the stream is closed
    }
  };
  // Lines are batched for speed; a quiet gateway still shows its lines within half a second.
  setInterval(() => destination.flush(), 500).unref();
  process.once('beforeExit', flush);
  process.once('exit', flush);
  return logger;
}
