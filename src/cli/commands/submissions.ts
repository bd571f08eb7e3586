/**
 * `passerelle submissions list|show|replay`: support staff's view of a tenant's submissions and
 * their replay, straight against the store (the same rules as the HTTP API: src/pipeline/replay.ts).
 */
import { parseArgs } from 'node:util';
import { isId } from '../../domain/ids.js';
import { notFound, PasserelleError } from '../../domain/errors.js';
import { isSubmissionStatus, SUBMISSION_STATUSES, type SubmissionStatus } from '../../domain/submission.js';
import { deliveryView, timelineLine, timelineView } from '../../http/timeline.js';
import { submissionView } from '../../http/routes/views.js';
import { REPLAY_REFUSALS, replayMatching, replaySubmission } from '../../pipeline/replay.js';
import type { ReplayFilter, Store } from '../../store/store.js';
import type { CliIo } from '../io.js';
import { cliActor, instantOption, integerOption, STORE_OPTIONS, usageIfAny, withStore } from '../store-command.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 200;
const DEFAULT_REPLAY_LIMIT = 100;
const MAX_REPLAY_LIMIT = 1000;

const OPTIONS = {
  ...STORE_OPTIONS,
  tenant: { type: 'string' },
  status: { type: 'string' },
  'request-id': { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  rebuild: { type: 'boolean' },
  destination: { type: 'string' },
  'error-code': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export async function runSubmissions(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  if (action !== 'list' && action !== 'show' && action !== 'replay') throw new PasserelleError('usage', 'submissions needs an action: list, show or replay');
  const problems: string[] = [];
  if (values.tenant === undefined) problems.push('--tenant is required');
  const status = statusOption(values.status, problems);
  if (action === 'show' && positionals.length !== 1) problems.push('submissions show takes one submission id');
  if (action === 'replay' && positionals.length > 1) problems.push('submissions replay takes at most one submission id');
  if (action === 'list') {
    const limit = integerOption('limit', values.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, problems);
    usageIfAny(problems);
    return withStore(io, values, (store) => list(store, io, values, status, limit));
  }
  const tenantId = values.tenant ?? '';
  if (action === 'show') {
    usageIfAny(problems);
    return withStore(io, values, (store) => show(store, io, tenantId, positionals[0] ?? '', values.json === true));
  }
  const id = positionals[0];
  if (id !== undefined) {
    const filters = (['status', 'destination', 'error-code', 'since', 'until', 'limit', 'dry-run'] as const).filter((name) => values[name] !== undefined);
    if (filters.length > 0) problems.push(`replaying one submission takes no filter (${filters.map((f) => `--${f}`).join(', ')}); leave out the id to replay by filter`);
    usageIfAny(problems);
    return withStore(io, values, (store) => replayOne(store, io, tenantId, id, values.rebuild === true));
  }
  const since = instantOption('since', values.since, problems);
  const until = instantOption('until', values.until, problems);
  if (since !== undefined && until !== undefined && since > until) problems.push('--until must not be before --since');
  const filter: ReplayFilter = {
    tenantId,
    limit: integerOption('limit', values.limit, DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT, problems),
    ...(status === undefined ? {} : { status }),
    ...(values.destination === undefined ? {} : { destination: values.destination }),
    ...(values['error-code'] === undefined ? {} : { errorCode: values['error-code'] }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
  usageIfAny(problems);
  return withStore(io, values, (store) => replayBulk(store, io, filter, values.rebuild === true, values['dry-run'] === true));
}

function statusOption(text: string | undefined, problems: string[]): SubmissionStatus | undefined {
  if (text === undefined) return undefined;
  if (isSubmissionStatus(text)) return text;
  problems.push(`--status must be one of: ${SUBMISSION_STATUSES.join(', ')}`);
  return undefined;
}

async function list(store: Store, io: CliIo, values: Values, status: SubmissionStatus | undefined, limit: number): Promise<number> {
  const page = await store.listSubmissions({ tenantId: values.tenant ?? '', limit, ...(status === undefined ? {} : { status }), ...(values['request-id'] === undefined ? {} : { requestId: values['request-id'] }) });
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ items: page.items.map(submissionView), ...(page.nextCursor === undefined ? {} : { more: true }) }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`${['ID', 'STATUS', 'ACT TYPE', 'REQUEST ID', 'CREATED', 'UPDATED'].join('\t')}\n`);
  for (const s of page.items) io.stdout(`${[s.id, s.status, s.actType, s.requestId, s.createdAt.toISOString(), s.updatedAt.toISOString()].join('\t')}\n`);
  if (page.nextCursor !== undefined) io.stderr(`(more than ${String(limit)}: narrow with --status or --request-id, or raise --limit)\n`);
  return 0;
}

async function show(store: Store, io: CliIo, tenantId: string, id: string, json: boolean): Promise<number> {
  const submission = isId(id, 'sub') ? await store.getSubmission(tenantId, id) : undefined;
  if (submission === undefined) throw notFound(`no submission ${id} for tenant ${tenantId}`);
  const [events, deliveries, pauses] = await Promise.all([store.listEvents(tenantId, id), store.listDeliveries(tenantId, id), store.listPauses()]);
  const timeline = timelineView(submission, events ?? [], deliveries ?? []);
  const views = (deliveries ?? []).map((d) => deliveryView(d, pauses));
  if (json) {
    io.stdout(`${JSON.stringify({ ...submissionView(submission), deliveries: views, timeline }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`${submission.id}  ${submission.status}  ${submission.actType}  request ${submission.requestId}  created ${submission.createdAt.toISOString()}\n`);
  io.stdout('\nDeliveries:\n');
  if (views.length === 0) io.stdout('  (none)\n');
  for (const d of views) {
    const error = d.error === null ? '' : `  ${d.error.code}: ${d.error.message}`;
    const held = d.heldBy === undefined ? '' : `  held: paused ${d.heldBy.pause.pausedAt}${d.heldBy.pause.reason === null ? '' : ` (${d.heldBy.pause.reason})`}`;
    io.stdout(`  ${d.destination}  ${d.status}  attempts ${String(d.attempts)}${d.reference === null ? '' : `  ref ${d.reference}`}${d.nextAttemptAt === null ? '' : `  next ${d.nextAttemptAt}`}${error}${held}\n`);
  }
  io.stdout('\nTimeline:\n');
  for (const entry of timeline.entries) io.stdout(`  ${timelineLine(entry)}\n`);
  return 0;
}

async function replayOne(store: Store, io: CliIo, tenantId: string, id: string, rebuild: boolean): Promise<number> {
  const result = isId(id, 'sub') ? await replaySubmission(store, { tenantId, submissionId: id, actor: cliActor(), at: new Date(), rebuild }) : { replayed: false as const, reason: 'not-found' as const };
  if (!result.replayed) {
    if (result.reason === 'not-found') throw notFound(`no submission ${id} for tenant ${tenantId}`);
    throw new PasserelleError('replay-refused', `${id} was not replayed: ${result.reason}: ${REPLAY_REFUSALS[result.reason]}`);
  }
  io.stdout(result.rebuild ? `Replaying ${id}: rebuilding its document\n` : `Replaying ${id} to ${result.destinations.join(', ')}\n`);
  return 0;
}

async function replayBulk(store: Store, io: CliIo, filter: ReplayFilter, rebuild: boolean, dryRun: boolean): Promise<number> {
  const result = await replayMatching(store, filter, { actor: cliActor(), at: new Date(), rebuild, dryRun });
  for (const id of result.replayed) io.stdout(`${dryRun ? 'would replay' : 'replayed'}\t${id}\n`);
  for (const s of result.skipped) io.stdout(`skipped\t${s.submissionId}\t${s.reason}\n`);
  io.stderr(`${String(result.matched)} matched, ${String(result.replayed.length)} ${dryRun ? 'would be replayed (dry run: nothing written)' : 'replayed'}, ${String(result.skipped.length)} skipped\n`);
  return 0;
}
