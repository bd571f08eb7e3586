/**
 * Replay (support staff and admins): POST /v1/submissions/{id}/replay for one failed submission,
 * POST /v1/submissions/replay for every one a filter matches. Each replay is a `replayed` event
 * naming the key that asked.
 */
import { Router } from 'express';
import type { Principal } from '../../auth/api-keys.js';
import { badRequest, notFound, PasserelleError } from '../../domain/errors.js';
import { isSubmissionStatus, SUBMISSION_STATUSES } from '../../domain/submission.js';
import { REPLAY_REFUSALS, replayMatching, replaySubmission, type ReplayRefusal } from '../../pipeline/replay.js';
import type { ReplayFilter, Store } from '../../store/store.js';
import { requireRole } from '../auth.js';
import { BodyFields, optionalJsonBody } from '../small-body.js';
import { idParam } from './submissions.js';

/** `dmp`, or `mss:` and a recipient (address or role). */
const DESTINATION = /^(dmp|mss:\S{1,320})$/;
/** The bulk filter also takes `mss`: any recipient. */
const DESTINATION_FILTER = /^(dmp|mss|mss:\S{1,320})$/;
/** Partner codes are short printable text: `XDSRegistryBusy`, `550 5.1.1`. */
const ERROR_CODE = /^[\x20-\x7e]{1,100}$/;
const DEFAULT_BULK_LIMIT = 100;
const MAX_BULK_LIMIT = 1000;

export function replayRoutes(store: Store): Router {
  const router = Router();
  const operate = requireRole('support', 'admin');

  router.post('/v1/submissions/replay', operate, optionalJsonBody(), async (req, res) => {
    const principal = res.locals.principal as Principal;
    const { filter, rebuild, dryRun } = parseBulkBody(req.body, principal.tenantId);
    const result = await replayMatching(store, filter, { actor: principal.actor, at: new Date(), rebuild, dryRun });
    res.json({ ...result, dryRun });
  });

  router.post('/v1/submissions/:id/replay', operate, optionalJsonBody(), async (req, res) => {
    const principal = res.locals.principal as Principal;
    const fields = new BodyFields(req.body, ['rebuild', 'destinations']);
    const rebuild = fields.boolean('rebuild') ?? false;
    const destinations = fields.strings('destinations', DESTINATION, 'must be "dmp" or "mss:<recipient>", as in the submission\'s deliveries');
    if (rebuild && fields.has('destinations')) fields.problems.push({ pointer: '/destinations', rule: 'REPLAY_REBUILD_DESTINATIONS', message: 'a rebuild replays every destination', hint: 'Leave destinations out, or rebuild false.' });
    if (fields.problems.length > 0) throw badRequest(`the replay request has ${fields.problems.length} problem(s)`, fields.problems);
    const id = idParam(req.params);
    if (id === undefined) throw notFound(REPLAY_REFUSALS['not-found']);
    const result = await replaySubmission(store, { tenantId: principal.tenantId, submissionId: id, actor: principal.actor, at: new Date(), rebuild, ...(destinations === undefined ? {} : { destinations }) });
    if (!result.replayed) throw refusal(result.reason);
    res.status(202).location(`/v1/submissions/${id}/timeline`).json({ submissionId: id, destinations: result.destinations, rebuild: result.rebuild });
  });

  return router;
}

/** 404 for a submission that is not the tenant's; 409 with the reason as a rule for the others. */
function refusal(reason: ReplayRefusal): PasserelleError {
  if (reason === 'not-found') return notFound(REPLAY_REFUSALS[reason]);
  return new PasserelleError('replay-refused', `${reason}: ${REPLAY_REFUSALS[reason]}`, {
    violations: [{ pointer: '', rule: `REPLAY_${reason.toUpperCase().replace(/-/g, '_')}`, message: REPLAY_REFUSALS[reason] }],
  });
}

function parseBulkBody(body: unknown, tenantId: string): { filter: ReplayFilter; rebuild: boolean; dryRun: boolean } {
  const fields = new BodyFields(body, ['status', 'destination', 'errorCode', 'since', 'until', 'limit', 'rebuild', 'dryRun']);
  const status = fields.string('status', /^[a-z]+$/, `must be one of: ${SUBMISSION_STATUSES.join(', ')}`);
  if (status !== undefined && !isSubmissionStatus(status)) fields.problems.push({ pointer: '/status', rule: 'BODY_FORMAT', message: `must be one of: ${SUBMISSION_STATUSES.join(', ')}` });
  const destination = fields.string('destination', DESTINATION_FILTER, 'must be "dmp", "mss" (any recipient) or "mss:<recipient>"');
  const errorCode = fields.string('errorCode', ERROR_CODE, 'must be 1 to 100 printable ASCII characters', 'The partner\'s code (XDSRegistryBusy, 550 5.1.1) or a catalogue code, as in a delivery\'s error.code.');
  const since = fields.dateTime('since');
  const until = fields.dateTime('until');
  if (since !== undefined && until !== undefined && since > until) fields.problems.push({ pointer: '/until', rule: 'BODY_RANGE', message: 'must not be before since' });
  const limit = fields.integer('limit', 1, MAX_BULK_LIMIT) ?? DEFAULT_BULK_LIMIT;
  const rebuild = fields.boolean('rebuild') ?? false;
  const dryRun = fields.boolean('dryRun') ?? false;
  if (fields.problems.length > 0) throw badRequest(`the replay request has ${fields.problems.length} problem(s)`, fields.problems);
  const filter: ReplayFilter = {
    tenantId,
    limit,
    ...(status !== undefined && isSubmissionStatus(status) ? { status } : {}),
    ...(destination === undefined ? {} : { destination }),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
  return { filter, rebuild, dryRun };
}
