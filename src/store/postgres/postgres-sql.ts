/** Every SQL statement the PostgreSQL store runs (the schema itself is in postgres-migrations.ts). */

/** A schema name that needs no escaping anywhere (search_path option, identifiers, messages). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Double quotes also keep reserved words (e.g. `user`) usable as schema names. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Startup option for pg: every pooled connection resolves unqualified names in this schema only. */
export function searchPathOption(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`invalid PostgreSQL schema name "${schema}"`);
  return `-c search_path=${schema}`;
}

export function createSchema(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`;
}

export const PING = 'SELECT 1';

/** $1: a constant owned by this application, $2: the schema name; released at commit. */
export const LOCK_MIGRATIONS = 'SELECT pg_advisory_xact_lock($1, hashtext($2))';

export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL
)`;

export const SELECT_APPLIED_VERSIONS = 'SELECT version FROM schema_migrations';

export const INSERT_MIGRATION = 'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())';

const SUMMARY_COLUMNS = 'id, tenant_id, status, act_type, idempotency_key, request_id, created_at, updated_at';
const RECORD_COLUMNS = `${SUMMARY_COLUMNS}, request_hash, input`;

/**
 * One statement, hence one atomic transaction and one round trip: the submission and its events
 * (seq numbered by ORDINALITY), or nothing at all and no row returned when the tenant already used
 * the idempotency key. A concurrent insert of the same key waits for the other transaction and
 * then does nothing. Only that index is a tolerated conflict: a duplicate id still fails.
 * $1 id, $2 tenant, $3 status, $4 act type, $5 idempotency key, $6 request hash, $7 request id,
 * $8 input (JSON text), $9 created at; events as parallel arrays: $10 types, $11 times,
 * $12 actors, $13 data (JSON texts).
 */
export const INSERT_SUBMISSION = `
WITH inserted AS (
  INSERT INTO submissions
    (id, tenant_id, status, act_type, idempotency_key, request_hash, request_id, input, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9)
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${SUMMARY_COLUMNS}
), events AS (
  INSERT INTO submission_events (submission_id, seq, type, at, actor, data)
  SELECT inserted.id, e.seq, e.type, e.at, e.actor, e.data
  FROM inserted,
    unnest($10::text[], $11::timestamptz[], $12::text[], $13::jsonb[]) WITH ORDINALITY AS e (type, at, actor, data, seq)
)
-- Not the input: the caller holds it, and sending it back would double the traffic.
SELECT ${SUMMARY_COLUMNS} FROM inserted`;

export const SELECT_SUBMISSION = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = $1 AND id = $2`;

export const SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY = `
SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = $1 AND idempotency_key = $2`;

export interface PageQuery {
  readonly tenantId: string;
  readonly status?: string;
  readonly sinceIso?: string;
  readonly beforeId?: string;
  /** Rows to fetch (the page size plus one). */
  readonly limit: number;
}

export interface ParameterizedQuery {
  readonly text: string;
  readonly values: unknown[];
}

/** Placeholders are numbered as filters are added, so text and values cannot drift apart. */
export function selectSubmissionPage(query: PageQuery): ParameterizedQuery {
  const values: unknown[] = [query.tenantId];
  const conditions = ['tenant_id = $1'];
  const add = (condition: string, value: unknown): void => {
    values.push(value);
    conditions.push(condition.replace('?', `$${values.length}`));
  };
  if (query.status !== undefined) add('status = ?', query.status);
  if (query.sinceIso !== undefined) add('created_at >= ?', query.sinceIso);
  if (query.beforeId !== undefined) add('id < ?', query.beforeId);
  values.push(query.limit);
  return {
    text: `SELECT ${SUMMARY_COLUMNS} FROM submissions WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  };
}

/** One row with a NULL seq when the submission has no events; no row when it is not the tenant's. */
export const SELECT_EVENTS = `
SELECT s.id AS submission_id, e.seq, e.type, e.at, e.actor, e.data
FROM submissions s LEFT JOIN submission_events e ON e.submission_id = s.id
WHERE s.tenant_id = $1 AND s.id = $2
ORDER BY e.seq`;

export const SELECT_SUBMISSIONS_TO_BUILD = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE status = 'received' ORDER BY id LIMIT $1`;

/**
 * Moves the submission when it is still in the expected status; the row lock it takes orders
 * the events appended in the same transaction. $1 to, $2 now, $3 id, $4 from.
 */
export const TRANSITION_SUBMISSION = 'UPDATE submissions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4';

/** Appends an event after the submission's last one. $1 id, $2 type, $3 at, $4 actor, $5 data (JSON text). */
export const APPEND_EVENT = `
INSERT INTO submission_events (submission_id, seq, type, at, actor, data)
SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5::jsonb FROM submission_events WHERE submission_id = $1`;

const DELIVERY_COLUMNS = 'submission_id, destination, status, reference, detail, updated_at';

/** Locks the submission's row: its events are appended one writer at a time. */
export const LOCK_SUBMISSION = 'SELECT 1 FROM submissions WHERE id = $1 FOR UPDATE';
export const TENANT_SUBMISSION_EXISTS = 'SELECT 1 FROM submissions WHERE tenant_id = $1 AND id = $2';

/** $1 submission, $2 destination, $3 status, $4 reference, $5 detail (JSON text), $6 updated at. */
export const UPSERT_DELIVERY = `
INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
ON CONFLICT (submission_id, destination) DO UPDATE SET
  status = excluded.status, reference = excluded.reference, detail = excluded.detail, updated_at = excluded.updated_at`;

export const SELECT_DELIVERIES = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE submission_id = $1 ORDER BY destination`;

export const SELECT_DELIVERIES_BY_REFERENCE = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE reference = $1 ORDER BY submission_id, destination`;

const DOCUMENT_COLUMNS = 'submission_id, type, volet, document_id, set_id, version_number, xml, pdf, built_at';

export const INSERT_DOCUMENT = `INSERT INTO documents (${DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

export const SELECT_DOCUMENT = `
SELECT ${DOCUMENT_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}
FROM documents d JOIN submissions s ON s.id = d.submission_id
WHERE s.tenant_id = $1 AND d.submission_id = $2`;

const API_KEY_COLUMNS = 'id, tenant_id, role, label, secret_hash, created_at, revoked_at';

export const INSERT_API_KEY = `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`;

export const SELECT_API_KEY = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`;

export const SELECT_API_KEYS = `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`;

export const REVOKE_API_KEY = 'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL';
