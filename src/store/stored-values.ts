/**
 * Narrowing of enumerated columns read back from a database. The schema keeps them as plain text
 * (new statuses and event types must not need a table rebuild in SQLite), so a value this build
 * does not know means the database was written by a newer or a broken writer: fail loudly.
 */
import {
  SUBMISSION_EVENT_TYPES,
  isDeliveryStatus,
  isJobKind,
  isRole,
  isSubmissionStatus,
  type DeliveryStatus,
  type JobKind,
  type Role,
  type SubmissionEventType,
  type SubmissionStatus,
} from '../domain/submission.js';
import type {
  ApiKeyRecord,
  ClaimedJob,
  DeliveryRecord,
  DocumentRecord,
  JobRecord,
  JobState,
  Json,
  PauseRecord,
  SubmissionEvent,
  SubmissionRecord,
  SubmissionSummary,
} from './store.js';

/** A JSON value read back as an object (delivery details and event data always are one; anything else reads as empty). */
export function objectOf(value: Json | undefined): { readonly [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

export function toSubmissionStatus(value: string): SubmissionStatus {
  if (!isSubmissionStatus(value)) throw new Error(`unknown submission status "${value}" in the store`);
  return value;
}

export function toEventType(value: string): SubmissionEventType {
  const known: readonly string[] = SUBMISSION_EVENT_TYPES;
  if (!known.includes(value)) throw new Error(`unknown submission event type "${value}" in the store`);
  return value as SubmissionEventType;
}

export function toDeliveryStatus(value: string): DeliveryStatus {
  if (!isDeliveryStatus(value)) throw new Error(`unknown delivery status "${value}" in the store`);
  return value;
}

export function toJobKind(value: string): JobKind {
  if (!isJobKind(value)) throw new Error(`unknown job kind "${value}" in the store`);
  return value;
}

const JOB_STATES: readonly string[] = ['ready', 'done', 'dead'] satisfies JobState[];

export function toJobState(value: string): JobState {
  if (!JOB_STATES.includes(value)) throw new Error(`unknown job state "${value}" in the store`);
  return value as JobState;
}

export function toRole(value: string): Role {
  if (!isRole(value)) throw new Error(`unknown API key role "${value}" in the store`);
  return value;
}

/**
 * Rows as both backends return them, and their mapping to the Store's records. Column names are
 * the same in both; only the arrival form differs: `T` is a time (a Date from pg, ISO-8601 text from
 * SQLite) and `J` a JSON value (parsed by pg, text from SQLite).
 */
export interface SummaryRow<T> {
  id: string;
  tenant_id: string;
  status: string;
  act_type: string;
  idempotency_key: string | null;
  request_id: string;
  created_at: T;
  updated_at: T;
}

export interface RecordRow<T, J> extends SummaryRow<T> {
  request_hash: string;
  input: J;
}

/** Nullable columns: a LEFT JOIN row says "the submission exists but has no events yet". */
export interface EventRow<T, J> {
  submission_id: string;
  seq: number | null;
  type: string | null;
  at: T | null;
  actor: string | null;
  data: J | null;
  hash: string | null;
}

export interface JobRow<T, J> {
  /** pg returns a BIGINT as text. */
  id: number | string;
  submission_id: string;
  kind: string;
  state: string;
  attempts: number;
  run_at: T;
  created_at: T;
  lease_owner: string | null;
  lease_until: T | null;
  last_error: J | null;
}

export interface PauseRow<T> {
  kind: string;
  paused_at: T;
  paused_by: string;
  reason: string | null;
}

export interface ApiKeyRow<T> {
  id: string;
  tenant_id: string;
  role: string;
  label: string;
  secret_hash: Buffer;
  created_at: T;
  revoked_at: T | null;
}

export interface DocumentRow<T> {
  submission_id: string;
  type: string;
  volet: string;
  document_id: string;
  set_id: string;
  version_number: number;
  xml: Buffer;
  pdf: Buffer | null;
  built_at: T;
}

export interface DeliveryRow<T, J> {
  submission_id: string;
  destination: string;
  status: string;
  reference: string | null;
  detail: J;
  updated_at: T;
}

export interface RowMappers<T, J> {
  readonly toSummary: (row: SummaryRow<T>) => SubmissionSummary;
  readonly toRecord: (row: RecordRow<T, J>) => SubmissionRecord;
  readonly toEvent: (row: EventRow<T, J>) => SubmissionEvent;
  readonly toApiKey: (row: ApiKeyRow<T>) => ApiKeyRecord;
  readonly toDocument: (row: DocumentRow<T>) => DocumentRecord;
  readonly toDelivery: (row: DeliveryRow<T, J>) => DeliveryRecord;
  /** The tenant is the submission's: the caller knows it (jobs rows do not repeat it). */
  readonly toJob: (row: JobRow<T, J>, tenantId: string) => JobRecord;
  readonly toClaimedJob: (row: JobRow<T, J>, submission: SubmissionRecord) => ClaimedJob;
  readonly toPause: (row: PauseRow<T>) => PauseRecord;
}

export function rowMappers<T, J>(decode: { readonly time: (value: T) => Date; readonly json: (value: J) => Json }): RowMappers<T, J> {
  const toJob = (row: JobRow<T, J>, tenantId: string): JobRecord => {
    const id = Number(row.id);
    if (!Number.isSafeInteger(id)) throw new Error(`job id ${String(row.id)} out of range`);
    return {
      id,
      submissionId: row.submission_id,
      tenantId,
      kind: toJobKind(row.kind),
      state: toJobState(row.state),
      attempts: row.attempts,
      runAt: decode.time(row.run_at),
      createdAt: decode.time(row.created_at),
      lastError: row.last_error === null ? null : decode.json(row.last_error),
    };
  };
  const toSummary = (row: SummaryRow<T>): SubmissionSummary => ({
    id: row.id,
    tenantId: row.tenant_id,
    status: toSubmissionStatus(row.status),
    actType: row.act_type,
    idempotencyKey: row.idempotency_key,
    requestId: row.request_id,
    createdAt: decode.time(row.created_at),
    updatedAt: decode.time(row.updated_at),
  });
  return {
    toSummary,
    toRecord: (row) => ({ ...toSummary(row), requestHash: row.request_hash, input: decode.json(row.input) }),
    toEvent: (row) => {
      // Every column is NOT NULL in the table; nulls come from a LEFT JOIN without events. (data
      // is not tested: pg returns a JSON null as null.)
      if (row.seq === null || row.type === null || row.at === null || row.actor === null || row.hash === null) {
        throw new Error(`incomplete event row for submission ${row.submission_id}`);
      }
      return { seq: row.seq, submissionId: row.submission_id, type: toEventType(row.type), at: decode.time(row.at), actor: row.actor, data: decode.json(row.data as J), hash: row.hash };
    },
    toApiKey: (row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      role: toRole(row.role),
      label: row.label,
      secretHash: row.secret_hash,
      createdAt: decode.time(row.created_at),
      revokedAt: row.revoked_at === null ? null : decode.time(row.revoked_at),
    }),
    toDocument: (row) => ({
      submissionId: row.submission_id,
      type: row.type,
      volet: row.volet,
      documentId: row.document_id,
      setId: row.set_id,
      versionNumber: row.version_number,
      xml: row.xml,
      pdf: row.pdf,
      builtAt: decode.time(row.built_at),
    }),
    toDelivery: (row) => ({
      submissionId: row.submission_id,
      destination: row.destination,
      status: toDeliveryStatus(row.status),
      reference: row.reference,
      detail: decode.json(row.detail),
      updatedAt: decode.time(row.updated_at),
    }),
    toJob,
    toClaimedJob: (row, submission) => {
      if (row.lease_owner === null || row.lease_until === null) throw new Error(`claimed job ${String(row.id)} has no lease`);
      return { ...toJob(row, submission.tenantId), submission, leaseOwner: row.lease_owner, leaseUntil: decode.time(row.lease_until) };
    },
    toPause: (row) => ({ kind: toJobKind(row.kind), pausedAt: decode.time(row.paused_at), pausedBy: row.paused_by, reason: row.reason }),
  };
}
