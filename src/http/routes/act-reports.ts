/** POST /v1/act-reports: accept a report, answer 202 only once it is committed. */
import express, { Router } from 'express';
import { PasserelleError } from '../../domain/errors.js';
import type { Principal } from '../../auth/api-keys.js';
import { IDEMPOTENCY_KEY_PATTERN, type ActReportIntake } from '../../intake/accept-act-report.js';
import type { HttpMetrics } from '../metrics.js';
import { requireRole } from '../auth.js';
import { jsonBody, type ReceivedBody } from '../json-body.js';
import { submissionView } from './views.js';

export function actReportRoutes(intake: ActReportIntake, metrics: HttpMetrics, maxBodyBytes: number): Router {
  const router = Router();
  const requireJson: express.RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new PasserelleError('unsupported-media-type', `send the act report as application/json (got ${req.get('content-type') ?? 'no Content-Type'})`));
      return;
    }
    next();
  };
  router.post(
    '/v1/act-reports',
    requireRole('submitter', 'admin'),
    requireJson,
    ...jsonBody(maxBodyBytes),
    async (req, res) => {
      const principal = res.locals.principal as Principal;
      const requestId = res.locals.requestId as string;
      const idempotencyKey = req.get('idempotency-key') ?? null;
      if (idempotencyKey !== null && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
        throw new PasserelleError('bad-request', 'Idempotency-Key must be 1 to 255 printable ASCII characters', {
          violations: [{ pointer: '/headers/idempotency-key', rule: 'IDEMPOTENCY_KEY_FORMAT', message: 'must be 1 to 255 printable ASCII characters', hint: 'A UUID is a good key.' }],
        });
      }
      try {
        const received = res.locals.body as ReceivedBody;
        const result = await intake.accept({ principal, requestId, idempotencyKey, body: req.body as unknown, bodyBytes: received.bytes, bodySha256: received.sha256 });
        if (result.created) metrics.accepted.inc({ act_type: result.submission.actType });
        else res.setHeader('Idempotent-Replayed', 'true');
        res.status(202).location(`/v1/submissions/${result.submission.id}`).json(submissionView(result.submission));
      } catch (error) {
        if (error instanceof PasserelleError && error.code === 'validation-failed') {
          for (const v of error.violations) metrics.rejected.inc({ rule: v.rule });
        }
        throw error;
      }
    },
  );
  return router;
}
