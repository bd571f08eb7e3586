/** Every SQL statement the SQLite store runs (the schema itself is in sqlite-migrations.ts). */

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

export const INSERT_EVENT = `
INSERT INTO submission_events (submission_id, seq, type, at, actor, data)
VALUES (?, ?, ?, ?, ?, ?)`;

export const SELECT_SUBMISSION = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = ? AND id = ?`;

export const SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY = `
SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = ? AND idempotency_key = ?`;

export interface PageFilters {
  readonly status: boolean;
  readonly since: boolean;
  readonly cursor: boolean;
}

/**
 * One statement per combination of filters rather than `(@x IS NULL OR …)`, so that SQLite, which
 * plans at prepare time, can pick the (tenant_id, status, id) index when filtering on status.
 * Parameters: @tenantId, @status, @since, @beforeId, @limit.
 */
export function selectSubmissionPage(filters: PageFilters): string {
  return [
    `SELECT ${SUMMARY_COLUMNS} FROM submissions WHERE tenant_id = @tenantId`,
    filters.status ? 'AND status = @status' : '',
    filters.since ? 'AND created_at >= @since' : '',
    filters.cursor ? 'AND id < @beforeId' : '',
    'ORDER BY id DESC LIMIT @limit',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** One row with a NULL seq when the submission has no events; no row when it is not the tenant's. */
export const SELECT_EVENTS = `
SELECT s.id AS submission_id, e.seq, e.type, e.at, e.actor, e.data
FROM submissions s LEFT JOIN submission_events e ON e.submission_id = s.id
WHERE s.tenant_id = ? AND s.id = ?
ORDER BY e.seq`;

export const SELECT_SUBMISSIONS_TO_BUILD = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE status = 'received' ORDER BY id LIMIT ?`;

/** Changes one row when the submission is still in the expected status. Params: to, now, id, from. */
export const TRANSITION_SUBMISSION = 'UPDATE submissions SET status = ?, updated_at = ? WHERE id = ? AND status = ?';

/** Appends an event after the submission's last one. Params: id, type, at, actor, data, id. */
export const APPEND_EVENT = `
INSERT INTO submission_events (submission_id, seq, type, at, actor, data)
SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM submission_events WHERE submission_id = ?`;

const DOCUMENT_COLUMNS = 'submission_id, type, volet, document_id, set_id, version_number, xml, pdf, built_at';

export const INSERT_DOCUMENT = `
INSERT INTO documents (${DOCUMENT_COLUMNS})
VALUES (@submissionId, @type, @volet, @documentId, @setId, @versionNumber, @xml, @pdf, @builtAt)`;

export const SELECT_DOCUMENT = `
SELECT ${DOCUMENT_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}
FROM documents d JOIN submissions s ON s.id = d.submission_id
WHERE s.tenant_id = ? AND d.submission_id = ?`;

const DELIVERY_COLUMNS = 'submission_id, destination, status, reference, detail, updated_at';

export const SUBMISSION_EXISTS = 'SELECT 1 AS found FROM submissions WHERE id = ?';
export const TENANT_SUBMISSION_EXISTS = 'SELECT 1 AS found FROM submissions WHERE tenant_id = ? AND id = ?';

/** A destination's record, created or replaced. */
export const UPSERT_DELIVERY = `
INSERT INTO deliveries (${DELIVERY_COLUMNS})
VALUES (@submissionId, @destination, @status, @reference, @detail, @updatedAt)
ON CONFLICT (submission_id, destination) DO UPDATE SET
  status = excluded.status, reference = excluded.reference, detail = excluded.detail, updated_at = excluded.updated_at`;

export const SELECT_DELIVERIES = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE submission_id = ? ORDER BY destination`;

export const SELECT_DELIVERIES_BY_REFERENCE = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE reference = ? ORDER BY submission_id, destination`;

const API_KEY_COLUMNS = 'id, tenant_id, role, label, secret_hash, created_at, revoked_at';

export const INSERT_API_KEY = `
INSERT INTO api_keys (${API_KEY_COLUMNS})
VALUES (@id, @tenantId, @role, @label, @secretHash, @createdAt, @revokedAt)`;

export const SELECT_API_KEY = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`;

export const SELECT_API_KEYS = `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`;

export const REVOKE_API_KEY = 'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL';
