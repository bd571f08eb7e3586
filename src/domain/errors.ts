/**
 * The one catalogue of errors of the gateway, shared by the HTTP API (problem+json, RFC 9457),
 * the worker and the CLI. Each entry has a stable code; its problem `type` URI, HTTP status and
 * CLI exit code are derived here and nowhere else.
 */

export interface ErrorDefinition {
  readonly title: string;
  readonly status: number;
  /** Exit code of the `passerelle` command when this error ends it. */
  readonly exitCode: number;
  /** Whether trying the same thing again later may succeed (transport classification). */
  readonly retryable: boolean;
}

export const ERROR_CATALOGUE = {
  'validation-failed': { title: 'The act report breaks one or more rules', status: 422, exitCode: 1, retryable: false },
  'malformed-json': { title: 'The request body is not well-formed JSON', status: 400, exitCode: 2, retryable: false },
  'bad-request': { title: 'The request is not valid', status: 400, exitCode: 2, retryable: false },
  'unsupported-media-type': { title: 'The request body has an unsupported media type', status: 415, exitCode: 2, retryable: false },
  'payload-too-large': { title: 'The request body is too large', status: 413, exitCode: 2, retryable: false },
  unauthenticated: { title: 'Authentication is required', status: 401, exitCode: 4, retryable: false },
  forbidden: { title: 'This API key may not do that', status: 403, exitCode: 4, retryable: false },
  'not-found': { title: 'No such resource', status: 404, exitCode: 4, retryable: false },
  'method-not-allowed': { title: 'Method not allowed on this resource', status: 405, exitCode: 2, retryable: false },
  'idempotency-conflict': { title: 'This Idempotency-Key was already used with another request body', status: 409, exitCode: 1, retryable: false },
  'replay-refused': { title: 'This submission cannot be replayed now', status: 409, exitCode: 1, retryable: false },
  'document-not-buildable': { title: 'The act report lacks what this document type needs', status: 422, exitCode: 1, retryable: false },
  'document-invalid': { title: 'The built document fails CI-SIS validation', status: 422, exitCode: 1, retryable: false },
  'signature-invalid': { title: 'The signature does not verify', status: 422, exitCode: 1, retryable: false },
  'partner-unavailable': { title: 'The partner service (DMP, MSSanté) cannot be reached or is busy; trying again later may succeed', status: 503, exitCode: 6, retryable: true },
  'partner-rejected': { title: 'The partner service (DMP, MSSanté) refused the request; sending it again unchanged will fail again', status: 502, exitCode: 6, retryable: false },
  'store-unavailable': { title: 'The store cannot be reached', status: 503, exitCode: 5, retryable: true },
  'config-invalid': { title: 'The configuration is not valid', status: 500, exitCode: 3, retryable: false },
  usage: { title: 'The command line is not valid', status: 400, exitCode: 2, retryable: false },
  internal: { title: 'Internal error', status: 500, exitCode: 70, retryable: false },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const PROBLEM_TYPE_PREFIX = 'urn:passerelle:problem:';

export function problemType(code: ErrorCode): string {
  return PROBLEM_TYPE_PREFIX + code;
}

/** One broken rule, located by a JSON Pointer (RFC 6901) into the input. */
export interface Violation {
  readonly pointer: string;
  /** Stable rule code, e.g. `NIR_KEY`, `SCHEMA_REQUIRED`. */
  readonly rule: string;
  readonly message: string;
  readonly hint?: string;
}

/** The gateway's one error type: a catalogue code, a human detail and, for rule checks, every violation. */
export class PasserelleError extends Error {
  readonly code: ErrorCode;
  readonly violations: readonly Violation[];

  constructor(code: ErrorCode, detail: string, options: { violations?: readonly Violation[]; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PasserelleError';
    this.code = code;
    this.violations = options.violations ?? [];
  }

  get definition(): ErrorDefinition {
    return ERROR_CATALOGUE[this.code];
  }
}

export const badRequest = (detail: string, violations?: readonly Violation[]): PasserelleError =>
  new PasserelleError('bad-request', detail, violations === undefined ? {} : { violations });
export const notFound = (detail: string): PasserelleError => new PasserelleError('not-found', detail);
export const forbidden = (detail: string): PasserelleError => new PasserelleError('forbidden', detail);
