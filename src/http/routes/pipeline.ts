/**
 * The operator's view of the pipeline: jobs per kind and state, and the pauses that stop every
 * gateway process from claiming a kind (a partner under maintenance) until resumed. Jobs and
 * pauses are those of the whole gateway, not of one tenant, so only the admins of an operator
 * tenant (http.operatorTenants) may see or change them: a tenant's admin may not stop the others'
 * deliveries.
 */
import { Router, type RequestHandler } from 'express';
import type { Principal } from '../../auth/api-keys.js';
import { badRequest, forbidden, notFound } from '../../domain/errors.js';
import { isJobKind, JOB_KINDS, type JobKind } from '../../domain/submission.js';
import type { PauseRecord, Store } from '../../store/store.js';
import { requireRole } from '../auth.js';
import { BodyFields, optionalJsonBody } from '../small-body.js';

const REASON = /^[^\p{Cc}]{1,500}$/u;

export function pauseView(p: PauseRecord): Record<string, unknown> {
  return { kind: p.kind, pausedAt: p.pausedAt.toISOString(), pausedBy: p.pausedBy, reason: p.reason };
}

function kindParam(params: Record<string, unknown>): JobKind {
  const kind = params.kind;
  if (typeof kind === 'string' && isJobKind(kind)) return kind;
  throw notFound(`no such job kind: the kinds are ${JOB_KINDS.join(', ')}`);
}

export function pipelineRoutes(store: Store, operatorTenants: readonly string[]): Router {
  const router = Router();
  const admin = requireRole('admin');
  const operator: RequestHandler = (_req, res, next) => {
    const principal = res.locals.principal as Principal;
    if (operatorTenants.includes(principal.tenantId)) next();
    else next(forbidden('the pipeline is every tenant\'s: only the admins of an operator tenant (http.operatorTenants) control it; or use `passerelle pipeline`'));
  };

  router.get('/v1/pipeline', admin, operator, async (_req, res) => {
    const [jobs, pauses] = await Promise.all([store.countJobs(new Date()), store.listPauses()]);
    res.json({ jobs, pauses: pauses.map(pauseView) });
  });

  router.put('/v1/pipeline/pauses/:kind', admin, operator, optionalJsonBody(), async (req, res) => {
    const principal = res.locals.principal as Principal;
    const kind = kindParam(req.params);
    const fields = new BodyFields(req.body, ['reason']);
    const reason = fields.string('reason', REASON, 'must be 1 to 500 characters without control characters');
    if (fields.problems.length > 0) throw badRequest(`the pause request has ${fields.problems.length} problem(s)`, fields.problems);
    await store.pauseJobs({ kind, pausedAt: new Date(), pausedBy: principal.actor, reason: reason ?? null });
    // Pausing a paused kind keeps the first pause: answer with the one in force.
    const pause = (await store.listPauses()).find((p) => p.kind === kind);
    if (pause === undefined) throw new Error('the store did not keep the pause');
    res.json(pauseView(pause));
  });

  router.delete('/v1/pipeline/pauses/:kind', admin, operator, async (req, res) => {
    const kind = kindParam(req.params);
    if (!(await store.resumeJobs(kind))) throw notFound(`${kind} jobs are not paused`);
    res.status(204).end();
  });

  return router;
}
