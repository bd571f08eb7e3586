/**
 * The small JSON bodies of operator requests (replay, pause): optional (no body is `{}`), JSON
 * when present, and checked field by field so that every problem is listed at once.
 */
import type { RequestHandler } from 'express';
import { PasserelleError, type Violation } from '../domain/errors.js';
import { jsonBody } from './json-body.js';

/** Far more than any operator request needs. */
const MAX_OPERATOR_BODY_BYTES = 64 * 1024;

export function optionalJsonBody(): RequestHandler {
  const [read, parse] = jsonBody(MAX_OPERATOR_BODY_BYTES) as [RequestHandler, RequestHandler];
  return (req, res, next) => {
    // req.is answers null when the request has no body at all; an empty one is no body too.
    const type = req.is('application/json');
    if (type === null || req.get('content-length') === '0') {
      req.body = {};
      next();
    } else if (type === false) {
      next(new PasserelleError('unsupported-media-type', `send the body as application/json (got ${req.get('content-type') ?? 'no Content-Type'})`));
    } else {
      read(req, res, (error?: unknown) => {
        if (error === undefined) parse(req, res, next);
        else next(error);
      });
    }
  };
}

/** Reads fields of a parsed body, collecting a violation for each bad or unknown one. */
export class BodyFields {
  readonly problems: Violation[] = [];
  readonly #body: Record<string, unknown>;

  constructor(body: unknown, allowed: readonly string[]) {
    this.#body = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    for (const name of Object.keys(this.#body)) {
      if (!allowed.includes(name)) this.problems.push({ pointer: `/${name}`, rule: 'BODY_UNKNOWN_FIELD', message: `unknown field "${name}"`, hint: `Accepted: ${allowed.join(', ')}.` });
    }
  }

  boolean(name: string): boolean | undefined {
    const v = this.#body[name];
    if (v === undefined || typeof v === 'boolean') return v;
    this.problems.push({ pointer: `/${name}`, rule: 'BODY_TYPE', message: 'must be true or false' });
    return undefined;
  }

  string(name: string, pattern: RegExp, message: string, hint?: string): string | undefined {
    const v = this.#body[name];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && pattern.test(v)) return v;
    this.problems.push({ pointer: `/${name}`, rule: 'BODY_FORMAT', message, ...(hint === undefined ? {} : { hint }) });
    return undefined;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const v = this.#body[name];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    this.problems.push({ pointer: `/${name}`, rule: 'BODY_RANGE', message: `must be an integer from ${min} to ${max}` });
    return undefined;
  }

  /** An RFC 3339 date-time. */
  dateTime(name: string): Date | undefined {
    const text = this.string(name, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 date-time', 'e.g. 2026-11-20T00:00:00Z');
    if (text === undefined) return undefined;
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
    this.problems.push({ pointer: `/${name}`, rule: 'BODY_FORMAT', message: 'is not a real instant' });
    return undefined;
  }

  /** A non-empty array of distinct strings, each matching the pattern. */
  strings(name: string, pattern: RegExp, message: string): string[] | undefined {
    const v = this.#body[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) {
      this.problems.push({ pointer: `/${name}`, rule: 'BODY_TYPE', message: 'must be a non-empty array of strings' });
      return undefined;
    }
    const before = this.problems.length;
    v.forEach((item: unknown, i) => {
      if (typeof item !== 'string' || !pattern.test(item)) this.problems.push({ pointer: `/${name}/${i}`, rule: 'BODY_FORMAT', message });
      else if (v.indexOf(item) !== i) this.problems.push({ pointer: `/${name}/${i}`, rule: 'BODY_DUPLICATE', message: `${item} is given twice` });
    });
    return this.problems.length === before ? (v as string[]) : undefined;
  }

  has(name: string): boolean {
    return this.#body[name] !== undefined;
  }
}
