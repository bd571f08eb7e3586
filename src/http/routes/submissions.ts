/** Reading submissions and their audit trail, always within the caller's tenant. */
import { Router } from 'express';
import type { Principal } from '../../auth/api-keys.js';
import { badRequest, notFound, type Violation } from '../../domain/errors.js';
import { isId } from '../../domain/ids.js';
import { isSubmissionStatus, SUBMISSION_STATUSES, type SubmissionStatus } from '../../domain/submission.js';
import type { DeliveryRecord, DocumentRecord, Store, SubmissionEvent, SubmissionRecord } from '../../store/store.js';
import { requireRole } from '../auth.js';
import { SAFE_REQUEST_ID } from '../request-context.js';
import { deliveryView, receiptView, timelineView } from '../timeline.js';
import { eventView, submissionView } from './views.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

export function submissionRoutes(store: Store): Router {
  const router = Router();
  const read = requireRole('submitter', 'support', 'admin');

  router.get('/v1/submissions', read, async (req, res) => {
    const principal = res.locals.principal as Principal;
    const query = parseListQuery(req.query);
    const filters = { ...(query.status === undefined ? {} : { status: query.status }), ...(query.requestId === undefined ? {} : { requestId: query.requestId }), ...(query.since === undefined ? {} : { since: query.since }) };
    try {
      const page = await store.listSubmissions({ tenantId: principal.tenantId, limit: query.limit, ...filters, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) });
      const next = page.nextCursor === undefined ? undefined : `/v1/submissions?${new URLSearchParams({ ...(query.status === undefined ? {} : { status: query.status }), ...(query.requestId === undefined ? {} : { requestId: query.requestId }), ...(query.since === undefined ? {} : { since: query.since.toISOString() }), limit: String(query.limit), cursor: page.nextCursor }).toString()}`;
      res.json({ items: page.items.map(submissionView), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor, links: { next } }) });
    } catch (error) {
      if (error instanceof RangeError && error.message.startsWith('invalid cursor')) {
        throw badRequest('the cursor is not one this API returned', [{ pointer: '/query/cursor', rule: 'QUERY_CURSOR', message: 'invalid cursor', hint: 'Pass back the nextCursor of the previous page unchanged.' }]);
      }
      throw error;
    }
  });

  router.get('/v1/submissions/:id', read, async (req, res) => {
    const principal = res.locals.principal as Principal;
    const id = idParam(req.params);
    const submission = id === undefined ? undefined : await store.getSubmission(principal.tenantId, id);
    const deliveries = submission === undefined ? undefined : await store.listDeliveries(principal.tenantId, submission.id);
    if (submission === undefined || deliveries === undefined) throw notFound('no such submission for this tenant');
    const pauses = await store.listPauses();
    res.json({ ...submissionView(submission), deliveries: deliveries.map((d) => deliveryView(d, pauses)) });
  });

  router.get('/v1/submissions/:id/events', read, async (req, res) => {
    const principal = res.locals.principal as Principal;
    const id = idParam(req.params);
    const events = id === undefined ? undefined : await store.listEvents(principal.tenantId, id);
    if (events === undefined || id === undefined) throw notFound('no such submission for this tenant');
    res.json({ submissionId: id, items: events.map(eventView) });
  });

  // Where the document is, per submission and per destination: a platform never has to guess.
  router.get('/v1/submissions/:id/timeline', read, async (req, res) => {
    const { submission, events, deliveries } = await recordOf(store, res.locals.principal as Principal, req.params);
    res.json(timelineView(submission, events, deliveries));
  });

  router.get('/v1/submissions/:id/receipts', read, async (req, res) => {
    const { submission, events, deliveries } = await recordOf(store, res.locals.principal as Principal, req.params);
    res.json({ submissionId: submission.id, items: deliveries.map((d) => receiptView(d, events)) });
  });

  // What was produced, for the submitting platform's own records: the CDA exactly as built, and
  // its human-readable PDF copy. 404 until the document is built.
  router.get('/v1/submissions/:id/document', read, async (req, res) => {
    const document = await documentOf(store, res.locals.principal as Principal, req.params);
    res.type('application/xml').set('Content-Disposition', `attachment; filename="${document.submissionId}.xml"`).send(document.xml);
  });

  router.get('/v1/submissions/:id/document.pdf', read, async (req, res) => {
    const document = await documentOf(store, res.locals.principal as Principal, req.params);
    if (document.pdf === null) throw notFound('this document has no PDF copy');
    res.type('application/pdf').set('Content-Disposition', `attachment; filename="${document.submissionId}.pdf"`).send(document.pdf);
  });

  return router;
}

/** The submission with its events and deliveries, or 404. */
async function recordOf(store: Store, principal: Principal, params: Record<string, unknown>): Promise<{ submission: SubmissionRecord; events: readonly SubmissionEvent[]; deliveries: readonly DeliveryRecord[] }> {
  const id = idParam(params);
  const submission = id === undefined ? undefined : await store.getSubmission(principal.tenantId, id);
  if (submission === undefined) throw notFound('no such submission for this tenant');
  const [events, deliveries] = await Promise.all([store.listEvents(principal.tenantId, submission.id), store.listDeliveries(principal.tenantId, submission.id)]);
  if (events === undefined || deliveries === undefined) throw notFound('no such submission for this tenant');
  return { submission, events, deliveries };
}

async function documentOf(store: Store, principal: Principal, params: Record<string, unknown>): Promise<DocumentRecord> {
  const id = idParam(params);
  const document = id === undefined ? undefined : await store.getDocument(principal.tenantId, id);
  if (document === undefined) throw notFound('no document for this submission: it does not exist for this tenant, or is not built yet (see its status)');
  return document;
}

/** A well-formed submission id, or undefined (answered as 404: the id space is not revealed). */
export function idParam(params: Record<string, unknown>): string | undefined {
  const id = params.id;
  return typeof id === 'string' && isId(id, 'sub') ? id : undefined;
}

interface ListQuery {
  readonly status?: SubmissionStatus;
  readonly requestId?: string;
  readonly since?: Date;
  readonly cursor?: string;
  readonly limit: number;
}

function parseListQuery(query: Record<string, unknown>): ListQuery {
  const problems: Violation[] = [];
  const single = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    problems.push({ pointer: `/query/${name}`, rule: 'QUERY_REPEATED', message: `give "${name}" once` });
    return undefined;
  };
  for (const name of Object.keys(query)) {
    if (!['status', 'requestId', 'since', 'cursor', 'limit'].includes(name)) problems.push({ pointer: `/query/${name}`, rule: 'QUERY_UNKNOWN', message: `unknown query parameter "${name}"`, hint: 'Accepted: status, requestId, since, cursor, limit.' });
  }
  const status = single('status');
  if (status !== undefined && !isSubmissionStatus(status)) problems.push({ pointer: '/query/status', rule: 'QUERY_STATUS', message: `must be one of: ${SUBMISSION_STATUSES.join(', ')}` });
  const requestId = single('requestId');
  if (requestId !== undefined && !SAFE_REQUEST_ID.test(requestId)) problems.push({ pointer: '/query/requestId', rule: 'QUERY_REQUEST_ID', message: 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -', hint: 'The X-Request-Id of the request that created the submission.' });
  const sinceText = single('since');
  const since = sinceText === undefined ? undefined : new Date(sinceText);
  if (since !== undefined && (Number.isNaN(since.getTime()) || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(sinceText ?? ''))) problems.push({ pointer: '/query/since', rule: 'QUERY_SINCE', message: 'must be an RFC 3339 date-time or a date', hint: 'e.g. 2026-11-20T00:00:00Z' });
  const limitText = single('limit');
  const limit = limitText === undefined ? DEFAULT_LIMIT : /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) problems.push({ pointer: '/query/limit', rule: 'QUERY_LIMIT', message: `must be an integer from 1 to ${MAX_LIMIT}` });
  const cursor = single('cursor');
  if (problems.length > 0) throw badRequest(`the query has ${problems.length} problem(s)`, problems);
  return { limit, ...(status === undefined ? {} : { status: status as SubmissionStatus }), ...(requestId === undefined ? {} : { requestId }), ...(since === undefined ? {} : { since }), ...(cursor === undefined ? {} : { cursor }) };
}
