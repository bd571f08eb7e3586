/**
 * Replay (support staff): new attempts for a failed submission, from the HTTP API and the CLI.
 *
 * Without a rebuild the stored signed document is sent again (same uniqueId: the DMP job checks an
 * "already registered" answer with ITI-18 and counts it as success), to the failed destinations
 * only; with one, the submission goes back to `received` and its build job makes a new document
 * and new deliveries. Either way it is one applyChange guarded by `expectStatus: ['failed']`, so a
 * replay racing another (or the worker) writes nothing: idempotent by construction.
 */
import { badRequest } from '../domain/errors.js';
import { jobKindOfDestination, type SubmissionStatus } from '../domain/submission.js';
import type { DeliveryRecord, Json, NewJob, ReplayFilter, Store } from '../store/store.js';
import { objectOf } from '../store/stored-values.js';
import { withoutFailure } from './steps/step.js';

export type ReplayRefusal = 'not-found' | 'in-progress' | 'nothing-to-replay' | 'no-document';

export type ReplayResult =
  | { readonly replayed: true; readonly destinations: readonly string[]; readonly rebuild: boolean }
  | { readonly replayed: false; readonly reason: ReplayRefusal };

export interface ReplayRequest {
  readonly tenantId: string;
  readonly submissionId: string;
  /** Who asked, recorded on the `replayed` event: `apikey:<id>`, `cli:<user>`. */
  readonly actor: string;
  readonly at: Date;
  /** Build and sign a new document instead of sending the stored one again. */
  readonly rebuild?: boolean;
  /** Only these failed destinations (without a rebuild); all the failed ones when absent. */
  readonly destinations?: readonly string[];
}

/** What each refusal means, for the people who asked (HTTP detail, CLI output). */
export const REPLAY_REFUSALS: Readonly<Record<ReplayRefusal, string>> = {
  'not-found': 'no such submission for this tenant',
  'in-progress': 'the submission is still in the pipeline (or being replayed): only a failed submission can be replayed',
  'nothing-to-replay': 'no destination of this submission failed',
  'no-document': 'the submission has no stored document to send again: ask for a rebuild',
};

const IN_PROGRESS: readonly SubmissionStatus[] = ['received', 'built', 'signed', 'sending', 'retrying'];

/** What a replay will do: rebuild, or send again to these failed deliveries. */
type ReplayPlan = { readonly rebuild: true } | { readonly rebuild: false; readonly deliveries: readonly DeliveryRecord[] };
type Refused = Extract<ReplayResult, { replayed: false }>;

/**
 * The replay to make, or why there is none. Read-only: the dry run of bulk replay stops here.
 * `select` narrows the failed deliveries to replay (bulk filters); undefined: all.
 */
async function planReplay(store: Store, request: ReplayRequest, select?: (delivery: DeliveryRecord) => boolean): Promise<ReplayPlan | Refused> {
  const { tenantId, submissionId } = request;
  if (request.rebuild === true && request.destinations !== undefined) throw badRequest('a rebuild replays every destination: give either rebuild or destinations');
  const submission = await store.getSubmission(tenantId, submissionId);
  if (submission === undefined) return { replayed: false, reason: 'not-found' };
  if (IN_PROGRESS.includes(submission.status)) return { replayed: false, reason: 'in-progress' };
  if (submission.status !== 'failed') return { replayed: false, reason: 'nothing-to-replay' };
  if (request.rebuild === true) return { rebuild: true };
  if ((await store.getDocument(tenantId, submissionId)) === undefined) return { replayed: false, reason: 'no-document' };
  const deliveries = await failedDeliveries(store, request, select);
  return deliveries.length === 0 ? { replayed: false, reason: 'nothing-to-replay' } : { rebuild: false, deliveries };
}

function isRefused(plan: ReplayPlan | Refused): plan is Refused {
  return 'replayed' in plan;
}

function resultOf(plan: ReplayPlan): Extract<ReplayResult, { replayed: true }> {
  return { replayed: true, destinations: plan.rebuild ? [] : plan.deliveries.map((d) => d.destination), rebuild: plan.rebuild };
}

async function failedDeliveries(store: Store, request: ReplayRequest, select?: (delivery: DeliveryRecord) => boolean): Promise<readonly DeliveryRecord[]> {
  const deliveries = (await store.listDeliveries(request.tenantId, request.submissionId)) ?? [];
  const failed = deliveries.filter((d) => d.status === 'failed' && (select === undefined || select(d)));
  if (request.destinations === undefined) return failed;
  const problems = request.destinations.flatMap((destination, i) => {
    if (failed.some((d) => d.destination === destination)) return [];
    const found = deliveries.find((d) => d.destination === destination);
    return [{ pointer: `/destinations/${String(i)}`, rule: 'REPLAY_DESTINATION', message: found === undefined ? `${destination} is not a destination of this submission` : `${destination} did not fail (it is ${found.status})`, hint: 'Name failed destinations only (see the submission\'s deliveries), or leave destinations out.' }];
  });
  if (problems.length > 0) throw badRequest(`${String(problems.length)} destination(s) cannot be replayed`, problems);
  return failed.filter((d) => request.destinations?.includes(d.destination));
}

/** The delivery again `pending`, its attempts kept (for the record) and its last error dropped. */
function pendingAgain(delivery: DeliveryRecord, at: Date): DeliveryRecord {
  return { ...delivery, status: 'pending', detail: withoutFailure(delivery.detail), updatedAt: at };
}

async function applyReplay(store: Store, request: ReplayRequest, plan: ReplayPlan): Promise<ReplayResult> {
  const { submissionId, actor, at } = request;
  const result = resultOf(plan);
  const events = [{ type: 'replayed' as const, at, actor, data: { destinations: [...result.destinations], rebuild: result.rebuild } }];
  const applied = plan.rebuild
    ? await store.applyChange({ submissionId, at, expectStatus: ['failed'], statusPath: ['received'], events, enqueue: [{ kind: 'build', runAt: at }] })
    : await store.applyChange({
      submissionId,
      at,
      expectStatus: ['failed'],
      statusPath: ['sending'],
      deliveries: plan.deliveries.map((d) => pendingAgain(d, at)),
      events,
      enqueue: [...new Set(result.destinations.map(jobKindOfDestination))].map((kind): NewJob => ({ kind, runAt: at })),
    });
  // Not written: the status moved between the plan and the change (another replay won the race).
  return applied ? result : { replayed: false, reason: 'in-progress' };
}

/** Replays one submission of the tenant, or says why not. */
export async function replaySubmission(store: Store, request: ReplayRequest): Promise<ReplayResult> {
  const plan = await planReplay(store, request);
  return isRefused(plan) ? plan : applyReplay(store, request, plan);
}

export interface BulkReplayOptions {
  readonly actor: string;
  readonly at: Date;
  readonly rebuild?: boolean;
  /** Only say what would be replayed; write nothing. */
  readonly dryRun?: boolean;
}

export interface BulkReplayResult {
  readonly matched: number;
  /** Replayed, or with dryRun those that would be. */
  readonly replayed: readonly string[];
  readonly skipped: readonly { readonly submissionId: string; readonly reason: ReplayRefusal }[];
}

/**
 * Replays every submission the filter matches, oldest first. The filter's destination and error
 * code also choose which failed deliveries are replayed: "replay the DMP failures" leaves the
 * failed MSSanté recipients of the same submissions alone. The status defaults to `failed`, the
 * only one that can be replayed.
 */
export async function replayMatching(store: Store, filter: ReplayFilter, options: BulkReplayOptions): Promise<BulkReplayResult> {
  const ids = await store.findSubmissionsToReplay({ status: 'failed', ...filter });
  const select = (d: DeliveryRecord): boolean => matchesDestination(d.destination, filter.destination) && (filter.errorCode === undefined || errorCodeOf(d.detail) === filter.errorCode);
  const replayed: string[] = [];
  const skipped: { submissionId: string; reason: ReplayRefusal }[] = [];
  for (const submissionId of ids) {
    const request: ReplayRequest = { tenantId: filter.tenantId, submissionId, actor: options.actor, at: options.at, rebuild: options.rebuild ?? false };
    const plan = await planReplay(store, request, select);
    const result = isRefused(plan) ? plan : options.dryRun === true ? resultOf(plan) : await applyReplay(store, request, plan);
    if (result.replayed) replayed.push(submissionId);
    else skipped.push({ submissionId, reason: result.reason });
  }
  return { matched: ids.length, replayed, skipped };
}

/** `dmp`, `mss` (any recipient) or one destination, as in ReplayFilter. */
function matchesDestination(destination: string, wanted: string | undefined): boolean {
  if (wanted === undefined || wanted === destination) return true;
  return wanted === 'mss' && destination.startsWith('mss:');
}

/** detail.error.code: the partner's code (XDS, SMTP) or a catalogue code. */
function errorCodeOf(detail: Json): string | undefined {
  const code = objectOf(objectOf(detail).error).code;
  return typeof code === 'string' ? code : undefined;
}
