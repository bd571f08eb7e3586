/**
 * The one storage contract of the gateway. Two implementations (SQLite, PostgreSQL) satisfy it and
 * are held to it by the same contract tests (test/store/store-contract.ts). All SQL lives in the
 * implementation's own `*-sql.ts` module; nothing outside src/store sees SQL.
 */
import type { DeliveryStatus, Role, SubmissionEventType, SubmissionStatus } from '../domain/submission.js';

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
}

export type CreateSubmissionResult =
  | { readonly created: true; readonly submission: SubmissionRecord }
  /** The tenant already used this Idempotency-Key: the existing submission, untouched. */
  | { readonly created: false; readonly submission: SubmissionRecord };

export interface ListSubmissionsQuery {
  readonly tenantId: string;
  readonly status?: SubmissionStatus;
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
   * Inserts the submission and its events atomically. When the tenant already has a submission
   * with the same idempotency key, nothing is written and that submission is returned.
   */
  createSubmission(submission: NewSubmission): Promise<CreateSubmissionResult>;
  getSubmission(tenantId: string, id: string): Promise<SubmissionRecord | undefined>;
  findSubmissionByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<SubmissionRecord | undefined>;
  listSubmissions(query: ListSubmissionsQuery): Promise<SubmissionPage>;
  /** Undefined when the submission does not exist for this tenant. */
  listEvents(tenantId: string, submissionId: string): Promise<readonly SubmissionEvent[] | undefined>;

  /** Submissions of every tenant waiting for their document (status received), oldest first. */
  listSubmissionsToBuild(limit: number): Promise<readonly SubmissionRecord[]>;
  /**
   * Atomically: the submission goes from received to built, its document is stored and the event
   * appended. False, and nothing written, when it is no longer received (another worker built it).
   */
  recordDocument(document: DocumentRecord, event: NewEvent): Promise<boolean>;
  /** Atomically: received to failed, with the event saying why. False when no longer received. */
  recordBuildFailure(submissionId: string, event: NewEvent): Promise<boolean>;
  /** Undefined when the submission is not the tenant's or has no document yet. */
  getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined>;

  /**
   * Atomically: the destination's record is written (created or replaced) and the event appended.
   * False, and nothing written, when the submission does not exist.
   */
  recordDelivery(delivery: DeliveryRecord, event: NewEvent): Promise<boolean>;
  /** Undefined when the submission is not the tenant's. */
  listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined>;
  /** The destinations a partner reference names (an acknowledgement's Original-Message-ID), any tenant. */
  findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<readonly ApiKeyRecord[]>;
  /** False when no such active key exists. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;
}
