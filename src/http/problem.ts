/**
 * The one HTTP error handler: every error leaves as application/problem+json (RFC 9457) with a
 * catalogue `type`, the request id as `instance`, and every violation in `errors[]`.
 * Unknown errors are logged (without request data) and answered with a bare 500.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { ERROR_CATALOGUE, PasserelleError, problemType, type ErrorCode, type Violation } from '../domain/errors.js';
import type { Logger } from '../support/logger.js';
import { routeOf } from './request-context.js';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: ErrorCode;
  readonly errors?: readonly Violation[];
}

export function sendProblem(res: Response, requestId: string, code: ErrorCode, detail: string, errors: readonly Violation[] = []): void {
  const definition = ERROR_CATALOGUE[code];
  const body: ProblemBody = {
    type: problemType(code),
    title: definition.title,
    status: definition.status,
    detail,
    instance: requestId,
    code,
    ...(errors.length > 0 ? { errors } : {}),
  };
  if (code === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer realm="passerelle"');
  res.status(definition.status).type(PROBLEM_MEDIA_TYPE).send(JSON.stringify(body));
}

/** Errors of body-parser's raw reader carry a `type`; map them to the catalogue instead of guessing from messages. */
function fromBodyParser(error: unknown): { code: ErrorCode; detail: string } | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.too.large': {
      const limit = (error as { limit?: number }).limit;
      return { code: 'payload-too-large', detail: `the request body exceeds the limit of ${String(limit)} bytes` };
    }
    case 'encoding.unsupported':
      return { code: 'unsupported-media-type', detail: 'unsupported Content-Encoding: send the body uncompressed, or gzip/deflate' };
    case 'request.aborted':
    case 'request.size.invalid':
      return { code: 'bad-request', detail: 'the request body was incomplete' };
    default: {
      // An undecodable gzip/deflate/br body arrives as an untyped 4xx from body-parser.
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number' && status >= 400 && status < 500) return { code: 'bad-request', detail: `the request body could not be read: ${(error as Error).message.slice(0, 120)}` };
      return undefined;
    }
  }
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const requestId = res.locals.requestId as string;
    if (error instanceof PasserelleError) {
      sendProblem(res, requestId, error.code, error.message, error.violations);
      return;
    }
    const parsed = fromBodyParser(error);
    if (parsed !== undefined) {
      sendProblem(res, requestId, parsed.code, parsed.detail);
      return;
    }
    logger.error({ requestId, method: req.method, route: routeOf(req), err: { name: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack } }, 'unhandled error');
    sendProblem(res, requestId, 'internal', 'an internal error occurred; quote the instance id to support');
  };
}
