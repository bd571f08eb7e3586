/**
 * The express application: request context, public routes, authentication, API routes, then the
 * one problem+json error handler. Built from its dependencies so tests can assemble it freely.
 */
import express, { type Express } from 'express';
import type { ClientCertificateBinding } from '../config/config.js';
import { PasserelleError } from '../domain/errors.js';
import type { ActReportIntake } from '../intake/accept-act-report.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/logger.js';
import { authenticate } from './auth.js';
import type { HttpMetrics } from './metrics.js';
import { problemHandler } from './problem.js';
import { requestContext } from './request-context.js';
import { actReportRoutes } from './routes/act-reports.js';
import { healthRoutes } from './routes/health.js';
import { openApiRoutes } from './routes/openapi.js';
import { submissionRoutes } from './routes/submissions.js';

export interface AppDependencies {
  readonly store: Store;
  readonly intake: ActReportIntake;
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  readonly maxBodyBytes: number;
  readonly clientCertificates: readonly ClientCertificateBinding[];
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, deps.metrics));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(healthRoutes(deps.store, deps.metrics));
  app.use(openApiRoutes());
  app.use('/v1', authenticate(deps.store, deps.clientCertificates));
  app.use(actReportRoutes(deps.intake, deps.metrics, deps.maxBodyBytes));
  app.use(submissionRoutes(deps.store));
  app.all(['/v1/act-reports', '/v1/submissions', '/v1/submissions/:id', '/v1/submissions/:id/events'], (req, res, next) => {
    res.setHeader('Allow', req.path === '/v1/act-reports' ? 'POST' : 'GET');
    next(new PasserelleError('method-not-allowed', `${req.method} is not allowed on ${req.path.slice(0, 100)}`));
  });
  app.use((req, _res, next) => {
    next(new PasserelleError('not-found', `no route ${req.method} ${req.path.slice(0, 100)}`));
  });
  app.use(problemHandler(deps.logger));
  return app;
}
