/**
 * What a pipeline step is: it runs one claimed job and says what to write, all of it in one
 * SubmissionChange that the worker applies under the job's lease. Steps never write to the store
 * themselves, so that a step's effects and the job's new state are committed together or not at all.
 */
import type { JobKind } from '../../domain/submission.js';
import type { ClaimedJob, DeliveryRecord, DocumentRecord, Json, Store, SubmissionChange } from '../../store/store.js';
import { objectOf } from '../../store/stored-values.js';
import type { Failure } from '../failure.js';

export type JobOutcome = NonNullable<SubmissionChange['lease']>['outcome'];
export type FailureOutcome = Exclude<JobOutcome, { state: 'done' }>;

export interface StepContext {
  readonly now: Date;
  /** The job's fate after this failure: a later attempt when it may help and is allowed, else the dead letter. */
  failed(failure: Failure): FailureOutcome;
}

export interface StepResult {
  readonly outcome: JobOutcome;
  readonly change: Omit<SubmissionChange, 'submissionId' | 'at' | 'lease'>;
  /** What the attempt says of the partner's health, for its circuit breaker. */
  readonly health: 'ok' | 'failing' | 'neutral';
}

export interface Step {
  readonly kind: JobKind;
  run(job: ClaimedJob, context: StepContext): Promise<StepResult>;
}

/** The delivery detail of a failed attempt: when the next one is, and why this one failed. */
export function failureDetail(previous: Json | undefined, attempts: number, outcome: FailureOutcome): Json {
  return { ...withoutFailure(previous), attempts, error: outcome.lastError, ...(outcome.state === 'retry' ? { nextAttemptAt: outcome.runAt.toISOString() } : {}) };
}

/** A delivery's detail without its last failure (the error, the next attempt): it went through, or starts over. */
export function withoutFailure(detail: Json | undefined): { [key: string]: Json } {
  return Object.fromEntries(Object.entries(objectOf(detail)).filter(([key]) => key !== 'nextAttemptAt' && key !== 'error'));
}

/** A submission's document and deliveries, as a delivery step starts from them. */
export async function documentAndDeliveries(store: Store, job: ClaimedJob): Promise<{ document: DocumentRecord | undefined; deliveries: readonly DeliveryRecord[] }> {
  const { tenantId, id } = job.submission;
  const [document, deliveries] = await Promise.all([store.getDocument(tenantId, id), store.listDeliveries(tenantId, id)]);
  return { document, deliveries: deliveries ?? [] };
}

/** The event of a failed attempt of one destination. */
export function failureEvent(destination: string, attempt: number, outcome: FailureOutcome, actor: string, at: Date): SubmissionChange['events'][number] {
  return outcome.state === 'retry'
    ? { type: 'retrying', at, actor, data: { destination, attempt, nextAttemptAt: outcome.runAt.toISOString(), error: outcome.lastError } }
    : { type: 'delivery-failed', at, actor, data: { destination, attempt, error: outcome.lastError, deadLetter: true } };
}
