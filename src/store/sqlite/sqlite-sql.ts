/** Every SQL statement the SQLite store runs (the schema itself is in sqlite-migrations.ts). */
import { MSS_DESTINATION_PREFIX } from '../submission-change.js';

/**
 * busy_timeout comes first: switching to WAL needs a lock another process may briefly hold.
 * synchronous=FULL makes each commit durable on power loss, not only on a process crash.
 */
export const CONNECTION_PRAGMAS = `
PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
`;

export const READ_JOURNAL_MODE = 'PRAGMA journal_mode';
export const READ_SYNCHRONOUS = 'PRAGMA synchronous';
export const READ_FOREIGN_KEYS = 'PRAGMA foreign_keys';
export const READ_BUSY_TIMEOUT = 'PRAGMA busy_timeout';

export const PING = 'SELECT 1';

export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

export const SELECT_APPLIED_VERSIONS = 'SELECT version FROM schema_migrations';

export const INSERT_MIGRATION = `
INSERT INTO schema_migrations (version, name, applied_at)
VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

const SUMMARY_COLUMNS = 'id, tenant_id, status, act_type, idempotency_key, request_id, created_at, updated_at';
const RECORD_COLUMNS = `${SUMMARY_COLUMNS}, request_hash, input`;

/** Returns no row when the tenant already used the idempotency key. */
export const INSERT_SUBMISSION = `
INSERT INTO submissions
  (id, tenant_id, status, act_type, idempotency_key, request_hash, request_id, input, created_at, updated_at)
VALUES
  (@id, @tenantId, @status, @actType, @idempotencyKey, @requestHash, @requestId, @input, @createdAt, @createdAt)
ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING ${SUMMARY_COLUMNS}`;

/** Params: submission id, seq, type, at, actor, data (JSON text), hash (audit-chain.ts). */
export const INSERT_EVENT = `
INSERT INTO submission_events (submission_id, seq, type, at, actor, data, hash)
VALUES (?, ?, ?, ?, ?, ?, ?)`;

/** What the next appended event chains to; no row when the submission has no events. */
export const SELECT_LAST_EVENT = 'SELECT seq, hash FROM submission_events WHERE submission_id = ? ORDER BY seq DESC LIMIT 1';

export const SELECT_SUBMISSION = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = ? AND id = ?`;

export const SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY = `
SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = ? AND idempotency_key = ?`;

export interface PageFilters {
  readonly status: boolean;
  readonly requestId: boolean;
  readonly since: boolean;
  readonly cursor: boolean;
}

/**
 * One statement per combination of filters rather than `(@x IS NULL OR …)`, so that SQLite, which
 * plans at prepare time, can pick the (tenant_id, status, id) index when filtering on status.
 * Parameters: @tenantId, @status, @requestId, @since, @beforeId, @limit.
 */
export function selectSubmissionPage(filters: PageFilters): string {
  return [
    `SELECT ${SUMMARY_COLUMNS} FROM submissions WHERE tenant_id = @tenantId`,
    filters.status ? 'AND status = @status' : '',
    filters.requestId ? 'AND request_id = @requestId' : '',
    filters.since ? 'AND created_at >= @since' : '',
    filters.cursor ? 'AND id < @beforeId' : '',
    'ORDER BY id DESC LIMIT @limit',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** One row with a NULL seq when the submission has no events; no row when it is not the tenant's. */
export const SELECT_EVENTS = `
SELECT s.id AS submission_id, e.seq, e.type, e.at, e.actor, e.data, e.hash
FROM submissions s LEFT JOIN submission_events e ON e.submission_id = s.id
WHERE s.tenant_id = ? AND s.id = ?
ORDER BY e.seq`;

const EVENT_COLUMNS = 'submission_id, seq, type, at, actor, data, hash';

/** Every tenant's events in (submission_id, seq) order, from the start. Params: limit. */
export const SELECT_AUDIT_EVENTS_FIRST = `SELECT ${EVENT_COLUMNS} FROM submission_events ORDER BY submission_id, seq LIMIT ?`;

/** The page after a position (keyset on the primary key). Params: submission id, seq, limit. */
export const SELECT_AUDIT_EVENTS_AFTER = `
SELECT ${EVENT_COLUMNS} FROM submission_events WHERE (submission_id, seq) > (?, ?) ORDER BY submission_id, seq LIMIT ?`;

/** Params: id. */
export const SELECT_SUBMISSION_STATUS = 'SELECT status FROM submissions WHERE id = ?';

/** Params: status, updated at, id. */
export const UPDATE_SUBMISSION = 'UPDATE submissions SET status = ?, updated_at = ? WHERE id = ?';

const DOCUMENT_COLUMNS = 'submission_id, type, volet, document_id, set_id, version_number, xml, pdf, built_at';

/** A rebuild replaces the submission's document. */
export const UPSERT_DOCUMENT = `
INSERT INTO documents (${DOCUMENT_COLUMNS})
VALUES (@submissionId, @type, @volet, @documentId, @setId, @versionNumber, @xml, @pdf, @builtAt)
ON CONFLICT (submission_id) DO UPDATE SET
  type = excluded.type, volet = excluded.volet, document_id = excluded.document_id, set_id = excluded.set_id,
  version_number = excluded.version_number, xml = excluded.xml, pdf = excluded.pdf, built_at = excluded.built_at`;

export const SELECT_DOCUMENT = `
SELECT ${DOCUMENT_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}
FROM documents d JOIN submissions s ON s.id = d.submission_id
WHERE s.tenant_id = ? AND d.submission_id = ?`;

const DELIVERY_COLUMNS = 'submission_id, destination, status, reference, detail, updated_at';

export const TENANT_SUBMISSION_EXISTS = 'SELECT 1 AS found FROM submissions WHERE tenant_id = ? AND id = ?';

/** A destination's record, created or replaced. */
export const UPSERT_DELIVERY = `
INSERT INTO deliveries (${DELIVERY_COLUMNS})
VALUES (@submissionId, @destination, @status, @reference, @detail, @updatedAt)
ON CONFLICT (submission_id, destination) DO UPDATE SET
  status = excluded.status, reference = excluded.reference, detail = excluded.detail, updated_at = excluded.updated_at`;

export const SELECT_DELIVERIES = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE submission_id = ? ORDER BY destination`;

/** What deriveSubmissionStatus needs. Params: submission id. */
export const SELECT_DELIVERY_STATUSES = 'SELECT status FROM deliveries WHERE submission_id = ?';

export const SELECT_DELIVERIES_BY_REFERENCE = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE reference = ? ORDER BY submission_id, destination`;

const JOB_COLUMNS = 'id, submission_id, kind, state, attempts, run_at, created_at, lease_owner, lease_until, last_error';

/** Params: submission id, kind, run at, created at (also the first updated at). */
export const INSERT_JOB = `
INSERT INTO jobs (submission_id, kind, state, attempts, run_at, created_at, updated_at)
VALUES (?, ?, 'ready', 0, ?, ?, ?)`;

/**
 * Takes the lease of the ready jobs whose time has come, whose lease is free or expired, of the
 * kinds asked for (@kinds: a JSON array) and not paused. Run in an IMMEDIATE transaction: SQLite
 * has one writer at a time, so two claims never overlap. RETURNING's order is unspecified: the
 * caller sorts. Params: @now, @kinds, @limit, @owner, @leaseUntil.
 */
export const CLAIM_JOBS = `
UPDATE jobs SET attempts = attempts + 1, lease_owner = @owner, lease_until = @leaseUntil, updated_at = @now
WHERE id IN (
  SELECT id FROM jobs
  WHERE state = 'ready' AND run_at <= @now AND (lease_until IS NULL OR lease_until < @now)
    AND kind IN (SELECT value FROM json_each(@kinds))
    AND kind NOT IN (SELECT kind FROM job_pauses)
  ORDER BY run_at, id
  LIMIT @limit
)
RETURNING ${JOB_COLUMNS}`;

/** Params: ids (a JSON array). */
export const SELECT_SUBMISSIONS_BY_IDS = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE id IN (SELECT value FROM json_each(?))`;

/**
 * Ends the lease of a job, when it is still the owner's (another worker may have claimed it after
 * the lease expired: then no row changes). @runAt null keeps run_at; @keepError 1 keeps last_error.
 * Params: @state, @runAt, @keepError, @lastError, @now, @id, @owner.
 */
export const RELEASE_JOB = `
UPDATE jobs SET
  state = @state,
  run_at = COALESCE(@runAt, run_at),
  last_error = CASE WHEN @keepError = 1 THEN last_error ELSE @lastError END,
  lease_owner = NULL, lease_until = NULL, updated_at = @now
WHERE id = @id AND lease_owner = @owner AND state = 'ready'`;

/** Extends the owner's unexpired leases. Params: @until, @now, @owner, @ids (a JSON array). */
export const RENEW_LEASES = `
UPDATE jobs SET lease_until = @until, updated_at = @now
WHERE lease_owner = @owner AND state = 'ready' AND lease_until >= @now AND id IN (SELECT value FROM json_each(@ids))`;

/** Params: submission id. */
export const SELECT_JOBS = `SELECT ${JOB_COLUMNS} FROM jobs WHERE submission_id = ? ORDER BY id`;

/**
 * Overdue: ready, due, and no worker holds it (waiting for a free worker, or its kind is paused).
 * Params: @now.
 */
export const COUNT_JOBS = `
SELECT kind, state, count(*) AS count,
  sum(CASE WHEN state = 'ready' AND run_at <= @now AND (lease_until IS NULL OR lease_until < @now) THEN 1 ELSE 0 END) AS overdue
FROM jobs GROUP BY kind, state ORDER BY kind, state`;

export interface ReplayFilters {
  readonly status: boolean;
  readonly since: boolean;
  readonly until: boolean;
  /** How the destination of a failed delivery is matched; absent: any destination. */
  readonly destination?: 'exact' | 'mss';
  readonly errorCode: boolean;
}

/**
 * Ids of a tenant's submissions to replay, oldest first; one statement per combination of filters
 * (see selectSubmissionPage). Destination and error code narrow to the same failed delivery.
 * Params: @tenantId, @status, @since, @until (both inclusive), @destination, @errorCode, @limit.
 */
export function selectSubmissionsToReplay(filters: ReplayFilters): string {
  const delivery = [
    filters.destination === 'exact' ? 'AND d.destination = @destination' : '',
    filters.destination === 'mss' ? `AND substr(d.destination, 1, ${MSS_DESTINATION_PREFIX.length}) = '${MSS_DESTINATION_PREFIX}'` : '',
    filters.errorCode ? "AND json_extract(d.detail, '$.error.code') = @errorCode" : '',
  ].filter((line) => line !== '');
  return [
    'SELECT s.id FROM submissions s WHERE s.tenant_id = @tenantId',
    filters.status ? 'AND s.status = @status' : '',
    filters.since ? 'AND s.created_at >= @since' : '',
    filters.until ? 'AND s.created_at <= @until' : '',
    delivery.length > 0 ? `AND EXISTS (SELECT 1 FROM deliveries d WHERE d.submission_id = s.id AND d.status = 'failed' ${delivery.join(' ')})` : '',
    'ORDER BY s.created_at, s.id LIMIT @limit',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

const PAUSE_COLUMNS = 'kind, paused_at, paused_by, reason';

/** A kind already paused keeps its first pause. */
export const INSERT_PAUSE = `
INSERT INTO job_pauses (${PAUSE_COLUMNS}) VALUES (@kind, @pausedAt, @pausedBy, @reason)
ON CONFLICT (kind) DO NOTHING`;

export const DELETE_PAUSE = 'DELETE FROM job_pauses WHERE kind = ?';

export const SELECT_PAUSES = `SELECT ${PAUSE_COLUMNS} FROM job_pauses ORDER BY kind`;

const API_KEY_COLUMNS = 'id, tenant_id, role, label, secret_hash, created_at, revoked_at';

export const INSERT_API_KEY = `
INSERT INTO api_keys (${API_KEY_COLUMNS})
VALUES (@id, @tenantId, @role, @label, @secretHash, @createdAt, @revokedAt)`;

export const SELECT_API_KEY = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`;

export const SELECT_API_KEYS = `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`;

export const REVOKE_API_KEY = 'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL';
