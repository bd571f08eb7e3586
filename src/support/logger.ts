/**
 * Structured JSON logs (pino). Health data never reaches a log line: handlers log ids, codes and
 * counts only, and these redaction paths are a second barrier for headers that carry secrets.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'passerelle' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['authorization', 'headers.authorization', 'token', 'secret', 'input', 'body'], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
