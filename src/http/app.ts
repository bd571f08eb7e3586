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
import { pipelineRoutes } from './routes/pipeline.js';
import { replayRoutes } from './routes/replay.js';
import { submissionRoutes } from './routes/submissions.js';

/**
 * The methods of each API path, checked before the routes; the first path that matches decides
 * (`/v1/submissions/replay` before `/v1/submissions/:id`, which would match it too).
 */
const ALLOWED_METHODS: readonly (readonly [path: string, methods: readonly string[]])[] = [
  ['/v1/act-reports', ['POST']],
  ['/v1/submissions', ['GET']],
  ['/v1/submissions/replay', ['POST']],
  ['/v1/submissions/:id', ['GET']],
  ['/v1/submissions/:id/events', ['GET']],
  ['/v1/submissions/:id/timeline', ['GET']],
  ['/v1/submissions/:id/receipts', ['GET']],
  ['/v1/submissions/:id/document', ['GET']],
  ['/v1/submissions/:id/document.pdf', ['GET']],
  ['/v1/submissions/:id/replay', ['POST']],
  ['/v1/pipeline', ['GET']],
  ['/v1/pipeline/pauses/:kind', ['PUT', 'DELETE']],
];

export interface AppDependencies {
  readonly store: Store;
  readonly intake: ActReportIntake;
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  readonly maxBodyBytes: number;
  readonly clientCertificates: readonly ClientCertificateBinding[];
  readonly operatorTenants: readonly string[];
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
  for (const [path, methods] of ALLOWED_METHODS) {
    // HEAD is answered by the GET route.
    const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
    app.all(path, (req, res, next) => {
      if (res.locals.methodChecked === true || allowed.includes(req.method)) {
        res.locals.methodChecked = true;
        next();
        return;
      }
      res.setHeader('Allow', methods.join(', '));
      next(new PasserelleError('method-not-allowed', `${req.method} is not allowed on ${req.path.slice(0, 100)}`));
    });
  }
  app.use(actReportRoutes(deps.intake, deps.metrics, deps.maxBodyBytes));
  app.use(replayRoutes(deps.store));
  app.use(submissionRoutes(deps.store));
  app.use(pipelineRoutes(deps.store, deps.operatorTenants));
  app.use((req, _res, next) => {
    next(new PasserelleError('not-found', `no route ${req.method} ${req.path.slice(0, 100)}`));
  });
  app.use(problemHandler(deps.logger));
  return app;
}
