/**
 * A failed attempt as the pipeline records it: a code, a bounded message, and whether trying again
 * may help. Transport failures were classified once, where they were caught (TransportError); the
 * catalogue says it for the gateway's own errors; anything else is a bug or an outage of the
 * gateway itself (its store), which a later attempt may get past.
 */
import { PasserelleError } from '../domain/errors.js';
import type { Json } from '../store/store.js';
import { TransportError } from '../transports/soap/transport-error.js';

export interface Failure {
  /** The partner's code when it gave one (an XDS errorCode, an SMTP reply), else a catalogue code. */
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** Partner texts are kept for support staff, bounded: they hold codes and locations, not health data. */
const MAX_MESSAGE = 500;

export function bounded(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}

export function failureOf(error: unknown): Failure {
  if (error instanceof TransportError) return { code: error.code, message: bounded(`${error.kind}: ${error.message}`), retryable: error.retryable };
  if (error instanceof PasserelleError) return { code: error.code, message: bounded(error.message), retryable: error.definition.retryable };
  return { code: 'internal', message: 'unexpected error in the gateway (see its log)', retryable: true };
}

export function errorJson(failure: Failure): Json {
  return { code: failure.code, message: failure.message };
}
