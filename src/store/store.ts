/**
 * The one storage contract of the gateway. Two implementations (SQLite, PostgreSQL) satisfy it and
 * are held to it by the same contract tests (test/store/store-contract.ts). All SQL lives in the
 * implementation's own `*-sql.ts` module; nothing outside src/store sees SQL.
 */
import type { DeliveryStatus, JobKind, Role, SubmissionEventType, SubmissionStatus } from '../domain/submission.js';

/** A JSON value as stored: inputs and event data are plain JSON, never class instances. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface NewSubmission {
  /** URL-safe, time-sortable id chosen by the caller (see domain/ids.ts). */
  readonly id: string;
  readonly tenantId: string;
  /** Client-chosen Idempotency-Key, unique per tenant; null when the client sent none. */
  readonly idempotencyKey: string | null;
  /** SHA-256 (hex) of the canonical request body, compared when an Idempotency-Key is reused. */
  readonly requestHash: string;
  /** Request id of the HTTP call that created it (also the trace id). */
  readonly requestId: string;
  readonly actType: string;
  /** The act report exactly as accepted (health data: never logged). */
  readonly input: Json;
  readonly createdAt: Date;
  /** Events written in the same transaction as the submission, in order (e.g. received, validated). */
  readonly events: readonly NewEvent[];
}

export interface NewEvent {
  readonly type: SubmissionEventType;
  readonly at: Date;
  /** Who caused it: `apikey:<keyId>`, `worker`, `cli:<user>`. */
  readonly actor: string;
  /** Free-form, non-health details (rule counts, error codes, ids). */
  readonly data: Json;
}

export interface SubmissionSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly status: SubmissionStatus;
  readonly actType: string;
  readonly idempotencyKey: string | null;
  readonly requestId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SubmissionRecord extends SubmissionSummary {
  readonly requestHash: string;
  readonly input: Json;
}

export interface SubmissionEvent {
  /** 1, 2, 3… within the submission. */
  readonly seq: number;
  readonly submissionId: string;
  readonly type: SubmissionEventType;
  readonly at: Date;
  readonly actor: string;
  readonly data: Json;
  /**
   * SHA-256 (hex) of the previous event's hash and this event (audit-chain.ts): the log is
   * hash-chained per submission, so an edited or removed event breaks every later link.
   */
  readonly hash: string;
}

export type CreateSubmissionResult =
  | { readonly created: true; readonly submission: SubmissionRecord }
  /** The tenant already used this Idempotency-Key: the existing submission, untouched. */
  | { readonly created: false; readonly submission: SubmissionRecord };

export interface ListSubmissionsQuery {
  readonly tenantId: string;
  readonly status?: SubmissionStatus;
  /** Only the submission created by this request (the X-Request-Id, also the trace id). */
  readonly requestId?: string;
  /** Only submissions created at or after this instant. */
  readonly since?: Date;
  /** Opaque cursor returned by the previous page. */
  readonly cursor?: string;
  /** 1..200 */
  readonly limit: number;
}

export interface SubmissionPage {
  readonly items: readonly SubmissionSummary[];
  /** Present when more items follow; pass it back as `cursor`. */
  readonly nextCursor?: string;
}

/** The CDA document built for a submission, with its human-readable copy. */
export interface DocumentRecord {
  readonly submissionId: string;
  /** Document type (tlm-cr…) and volet (TLM-CR_2022.01…). */
  readonly type: string;
  readonly volet: string;
  /** The document's id as an XDS uniqueId: `root`, or `root^extension`. Unique in the store. */
  readonly documentId: string;
  readonly setId: string;
  readonly versionNumber: number;
  /** The CDA as built (health data: never logged). */
  readonly xml: Buffer;
  readonly pdf: Buffer | null;
  readonly builtAt: Date;
}

/** One destination of a submission's document, and where it stands. */
export interface DeliveryRecord {
  readonly submissionId: string;
  /** `dmp`, or `mss:<address>`. */
  readonly destination: string;
  readonly status: DeliveryStatus;
  /** What the partner knows it by: the MSSanté Message-ID, the DMP uniqueId. */
  readonly reference: string | null;
  /** Codes, reply codes, the acknowledgement: never health data. */
  readonly detail: Json;
  readonly updatedAt: Date;
}

/**
 * One unit of work of the pipeline (the outbox): build the document, deliver it to the DMP, send
 * it by MSSanté, notify the tenant's webhook. Jobs live in the same store as the submissions and
 * are written in the same transactions, so a submission is never without the job that moves it on.
 */
export interface NewJob {
  readonly kind: JobKind;
  /** Not claimed before this instant. */
  readonly runAt: Date;
}

export type JobState = 'ready' | 'done' | 'dead';

export interface JobRecord {
  /** Assigned by the store. */
  readonly id: number;
  readonly submissionId: string;
  readonly tenantId: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** Claims so far, this one included: a claim counts as an attempt even if its worker dies. */
  readonly attempts: number;
  readonly runAt: Date;
  readonly createdAt: Date;
  /** Codes and messages of the last failure: never health data. */
  readonly lastError: Json;
}

/** A job claimed by a worker, with its submission (one round trip). */
export interface ClaimedJob extends JobRecord {
  readonly submission: SubmissionRecord;
  /** The worker that holds it, until `leaseUntil`; after that another worker may claim it again. */
  readonly leaseOwner: string;
  readonly leaseUntil: Date;
}

export interface ClaimQuery {
  readonly owner: string;
  readonly now: Date;
  readonly leaseMs: number;
  readonly limit: number;
  /** Only these kinds (a worker leaves out the kinds whose circuit breaker is open). Paused kinds are never claimed. */
  readonly kinds: readonly JobKind[];
}

/**
 * Everything one pipeline step changes, written in one transaction, or nothing at all.
 *  - `lease`: the job this step ran; when the lease is no longer the owner's (it expired and another
 *    worker claimed the job), nothing is written and applyChange returns false.
 *  - `expectStatus`: the submission must be in one of these statuses, or nothing is written (false).
 *  - `statusPath`: statuses applied in order, each step checked with canTransition (a bad step throws).
 *  - `deriveStatus`: after the deliveries are written, the status becomes deriveSubmissionStatus of
 *    all the submission's deliveries, when it differs and the transition is allowed.
 *  - `onTerminal`: jobs enqueued when this change moved the submission into delivered or failed.
 */
export interface SubmissionChange {
  readonly submissionId: string;
  readonly at: Date;
  readonly lease?: {
    readonly jobId: number;
    readonly owner: string;
    /** done: finished; retry: back to ready at runAt (attempts kept); dead: the dead letter. */
    readonly outcome: { readonly state: 'done' } | { readonly state: 'retry'; readonly runAt: Date; readonly lastError: Json } | { readonly state: 'dead'; readonly lastError: Json };
  };
  readonly expectStatus?: readonly SubmissionStatus[];
  /** Inserted, or replacing the submission's document (a rebuild). */
  readonly document?: DocumentRecord;
  /** Created or replaced. */
  readonly deliveries?: readonly DeliveryRecord[];
  /** Appended in order, each chained to the one before. */
  readonly events: readonly NewEvent[];
  readonly statusPath?: readonly SubmissionStatus[];
  readonly deriveStatus?: boolean;
  /** New jobs of this submission (a replay resets nothing: it enqueues fresh jobs with attempts 0). */
  readonly enqueue?: readonly NewJob[];
  readonly onTerminal?: readonly NewJob[];
}

/** Bulk replay's filter: every field narrows; all within one tenant. */
export interface ReplayFilter {
  readonly tenantId: string;
  readonly status?: SubmissionStatus;
  /** `dmp`, `mss` (any recipient) or one destination (`mss:<address>`): only submissions with a failed delivery there. */
  readonly destination?: string;
  /** Only submissions with a failed delivery whose detail.error.code is this (an XDS code, an SMTP reply). */
  readonly errorCode?: string;
  readonly since?: Date;
  readonly until?: Date;
  /** 1..1000 */
  readonly limit: number;
}

/** An operator's pause of a job kind: no worker of any process claims it until resumed. */
export interface PauseRecord {
  readonly kind: JobKind;
  readonly pausedAt: Date;
  readonly pausedBy: string;
  readonly reason: string | null;
}

export interface ApiKeyRecord {
  /** Public part of the key, shown in listings and logs (e.g. `k_01J…`). */
  readonly id: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly label: string;
  /** SHA-256 of the secret part; the secret itself is never stored. */
  readonly secretHash: Buffer;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending versioned migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Inserts the submission, its events and its first job (`build`, runnable at createdAt)
   * atomically: the outbox. When the tenant already has a submission with the same idempotency
   * key, nothing is written and that submission is returned.
   */
  createSubmission(submission: NewSubmission): Promise<CreateSubmissionResult>;
  getSubmission(tenantId: string, id: string): Promise<SubmissionRecord | undefined>;
  findSubmissionByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<SubmissionRecord | undefined>;
  listSubmissions(query: ListSubmissionsQuery): Promise<SubmissionPage>;
  /** Undefined when the submission does not exist for this tenant. */
  listEvents(tenantId: string, submissionId: string): Promise<readonly SubmissionEvent[] | undefined>;

  /** Undefined when the submission is not the tenant's or has no document yet. */
  getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined>;

  /** Undefined when the submission is not the tenant's. */
  listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined>;
  /** The destinations a partner reference names (an acknowledgement's Original-Message-ID), any tenant. */
  findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]>;

  /**
   * Claims up to `limit` ready jobs whose runAt has come and whose lease is free or expired, of
   * the given kinds and not paused, oldest runAt first; each claim increments attempts and sets the
   * lease. On PostgreSQL, FOR UPDATE SKIP LOCKED: two processes never claim the same job at once.
   */
  claimJobs(query: ClaimQuery): Promise<readonly ClaimedJob[]>;
  /**
   * Extends the leases `owner` still holds on these jobs until `until` (the worker's heartbeat for
   * the jobs in flight), so a lease can be short — a dead process's jobs are taken over soon —
   * while a slow call to a partner keeps its job. Returns how many were extended.
   */
  renewLeases(owner: string, jobIds: readonly number[], until: Date, now: Date): Promise<number>;
  /** Applies the change atomically; false when nothing was written (lease lost, status not expected). */
  applyChange(change: SubmissionChange): Promise<boolean>;
  /** The submission's jobs, oldest first; undefined when the submission is not the tenant's. */
  listJobs(tenantId: string, submissionId: string): Promise<readonly JobRecord[] | undefined>;
  /** Ids of the tenant's submissions matching the filter, oldest first. */
  findSubmissionsToReplay(filter: ReplayFilter): Promise<readonly string[]>;
  /** Jobs per kind and state, and how many ready ones are overdue: for /metrics and operators. */
  countJobs(now: Date): Promise<readonly { readonly kind: JobKind; readonly state: JobState; readonly count: number; readonly overdue: number }[]>;

  /** Idempotent: pausing a paused kind keeps the first pause. */
  pauseJobs(pause: PauseRecord): Promise<void>;
  /** False when the kind was not paused. */
  resumeJobs(kind: JobKind): Promise<boolean>;
  listPauses(): Promise<readonly PauseRecord[]>;

  /**
   * Every event of every submission (all tenants), in (submissionId, seq) order, a page at a time
   * after the given position: for `passerelle audit verify` and `audit export`.
   */
  listAuditEvents(after: { readonly submissionId: string; readonly seq: number } | undefined, limit: number): Promise<readonly SubmissionEvent[]>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<readonly ApiKeyRecord[]>;
  /** False when no such active key exists. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;
}
