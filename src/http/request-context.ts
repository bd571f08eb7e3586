/**
 * Request ids and access logs. A caller's `X-Request-Id` is kept when it is a short token (it is
 * the trace id a platform uses to find its request); anything else is replaced by our own id.
 */
import type { Request, RequestHandler } from 'express';
import { newId } from '../support/new-id.js';
import type { Logger } from '../support/logger.js';
import type { HttpMetrics } from './metrics.js';

/** A caller's request id we keep (and accept as a query filter): a short token. */
export const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The route pattern that handled a request (not its URL, which carries ids), or `unmatched`. */
export function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

export function requestContext(logger: Logger, metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : newId('req');
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // The route pattern, not the URL, keeps metric labels bounded.
      const route = routeOf(req);
      metrics.observe(req.method, route, res.statusCode, durationMs / 1000);
      const principal = res.locals.principal as { tenantId?: string; actor?: string } | undefined;
      logger.info({ requestId, method: req.method, route, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10, tenantId: principal?.tenantId, actor: principal?.actor }, 'request');
    });
    next();
  };
}
