/**
 * The decisions of applyChange and of the job queries that do not depend on the backend: which
 * status a change leads to, what a job's outcome writes, which limits a query accepts. Both
 * backends call these inside their transaction, so they cannot drift apart.
 */
import { TERMINAL_STATUSES, canTransition, deriveSubmissionStatus, type DeliveryStatus, type SubmissionStatus } from '../domain/submission.js';
import type { Json, SubmissionChange } from './store.js';

/**
 * The status after the change's statusPath (each step must be allowed from the one before: a bad
 * step throws, which rolls the transaction back) and, when asked, the status derived from all the
 * submission's deliveries (applied only when it differs and the transition is allowed).
 */
export function nextStatus(current: SubmissionStatus, change: SubmissionChange, deliveryStatuses: readonly DeliveryStatus[] | undefined): SubmissionStatus {
  let status = current;
  for (const step of change.statusPath ?? []) {
    if (!canTransition(status, step)) throw new Error(`submission ${change.submissionId} cannot go from ${status} to ${step}`);
    status = step;
  }
  if (deliveryStatuses !== undefined) {
    const derived = deriveSubmissionStatus(deliveryStatuses.map((deliveryStatus) => ({ status: deliveryStatus })));
    if (derived !== status && canTransition(status, derived)) status = derived;
  }
  return status;
}

/** The onTerminal jobs are due when the change moved the submission into delivered or failed. */
export function enteredTerminal(before: SubmissionStatus, after: SubmissionStatus): boolean {
  return after !== before && TERMINAL_STATUSES.includes(after);
}

/** What a job's outcome writes: its new state, its new runAt (retry only), its last error (unless kept). */
export interface JobRelease {
  readonly state: 'ready' | 'done' | 'dead';
  readonly runAt: Date | null;
  readonly keepError: boolean;
  readonly lastError: Json;
}

export function jobRelease(outcome: NonNullable<SubmissionChange['lease']>['outcome']): JobRelease {
  switch (outcome.state) {
    case 'done':
      // The last failure stays on record: a job that succeeded on its third attempt says why the first two failed.
      return { state: 'done', runAt: null, keepError: true, lastError: null };
    case 'retry':
      return { state: 'ready', runAt: outcome.runAt, keepError: false, lastError: outcome.lastError };
    case 'dead':
      return { state: 'dead', runAt: null, keepError: false, lastError: outcome.lastError };
  }
}

/** JSON null is stored as SQL NULL: a job without an error has no error column. */
export function jsonOrNull(value: Json): string | null {
  return value === null ? null : JSON.stringify(value);
}

/** A replay filter's destination `mss` names every MSSanté destination: those with this prefix (`mss:<address>`, `mss:<role>`). */
export const ANY_MSS_DESTINATION = 'mss';
export const MSS_DESTINATION_PREFIX = 'mss:';

export const MAX_REPLAY_LIMIT = 1000;

export function assertReplayLimit(limit: number): void {
  assertLimit(limit, MAX_REPLAY_LIMIT);
}

/** Events in one page of listAuditEvents. */
export const MAX_AUDIT_PAGE_LIMIT = 10_000;

export function assertAuditPageLimit(limit: number): void {
  assertLimit(limit, MAX_AUDIT_PAGE_LIMIT);
}

/** Jobs in one claim. */
export const MAX_CLAIM_LIMIT = 1000;

export function assertClaim(query: { readonly limit: number; readonly leaseMs: number }): void {
  assertLimit(query.limit, MAX_CLAIM_LIMIT);
  if (!Number.isInteger(query.leaseMs) || query.leaseMs < 1) throw new RangeError(`invalid lease ${query.leaseMs} ms: expected a positive integer`);
}

function assertLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`invalid limit ${limit}: expected an integer from 1 to ${max}`);
}
