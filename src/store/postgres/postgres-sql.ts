/** Every SQL statement the PostgreSQL store runs (the schema itself is in postgres-migrations.ts). */
import { ANY_MSS_DESTINATION, MSS_DESTINATION_PREFIX } from '../submission-change.js';

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
 * One statement, hence one atomic transaction and one round trip: the submission, its events
 * (seq numbered by ORDINALITY) and its first job (build, due at once: the outbox), or nothing at
 * all and no row returned when the tenant already used the idempotency key. A concurrent insert of
 * the same key waits for the other transaction and then does nothing. Only that index is a
 * tolerated conflict: a duplicate id still fails.
 * $1 id, $2 tenant, $3 status, $4 act type, $5 idempotency key, $6 request hash, $7 request id,
 * $8 input (JSON text), $9 created at; events as parallel arrays: $10 types, $11 times,
 * $12 actors, $13 data (JSON texts), $14 hashes (computed by the caller: audit-chain.ts, seq 1, 2…).
 */
export const INSERT_SUBMISSION = `
WITH inserted AS (
  INSERT INTO submissions
    (id, tenant_id, status, act_type, idempotency_key, request_hash, request_id, input, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9)
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${SUMMARY_COLUMNS}
), events AS (
  INSERT INTO submission_events (submission_id, seq, type, at, actor, data, hash)
  SELECT inserted.id, e.seq, e.type, e.at, e.actor, e.data, e.hash
  FROM inserted,
    unnest($10::text[], $11::timestamptz[], $12::text[], $13::jsonb[], $14::text[]) WITH ORDINALITY AS e (type, at, actor, data, hash, seq)
), job AS (
  INSERT INTO jobs (submission_id, kind, state, attempts, run_at, created_at, updated_at)
  SELECT inserted.id, 'build', 'ready', 0, inserted.created_at, inserted.created_at, inserted.created_at FROM inserted
)
-- Not the input: the caller holds it, and sending it back would double the traffic.
SELECT ${SUMMARY_COLUMNS} FROM inserted`;

export const SELECT_SUBMISSION = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = $1 AND id = $2`;

export const SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY = `
SELECT ${RECORD_COLUMNS} FROM submissions WHERE tenant_id = $1 AND idempotency_key = $2`;

export interface PageQuery {
  readonly tenantId: string;
  readonly status?: string;
  readonly requestId?: string;
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
  if (query.requestId !== undefined) add('request_id = ?', query.requestId);
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
SELECT s.id AS submission_id, e.seq, e.type, e.at, e.actor, e.data, e.hash
FROM submissions s LEFT JOIN submission_events e ON e.submission_id = s.id
WHERE s.tenant_id = $1 AND s.id = $2
ORDER BY e.seq`;

const EVENT_COLUMNS = 'submission_id, seq, type, at, actor, data, hash';

/** Every tenant's events in (submission_id, seq) order, from the start. $1 limit. */
export const SELECT_AUDIT_EVENTS_FIRST = `SELECT ${EVENT_COLUMNS} FROM submission_events ORDER BY submission_id, seq LIMIT $1`;

/** The page after a position (keyset on the primary key). $1 submission id, $2 seq, $3 limit. */
export const SELECT_AUDIT_EVENTS_AFTER = `
SELECT ${EVENT_COLUMNS} FROM submission_events WHERE (submission_id, seq) > ($1, $2) ORDER BY submission_id, seq LIMIT $3`;

/**
 * Locks the submission's row for the transaction and reads its status: the changes of one
 * submission (its status, its events' seq and hash chain) are made one writer at a time. $1 id.
 */
export const LOCK_SUBMISSION = 'SELECT status FROM submissions WHERE id = $1 FOR UPDATE';

/** $1 status, $2 updated at, $3 id. */
export const UPDATE_SUBMISSION = 'UPDATE submissions SET status = $1, updated_at = $2 WHERE id = $3';

/** What the next appended event chains to; no row when the submission has no events. $1 id. */
export const SELECT_LAST_EVENT = 'SELECT seq, hash FROM submission_events WHERE submission_id = $1 ORDER BY seq DESC LIMIT 1';

/** $1 submission id; parallel arrays: $2 seqs, $3 types, $4 times, $5 actors, $6 data (JSON texts), $7 hashes. */
export const INSERT_EVENTS = `
INSERT INTO submission_events (submission_id, seq, type, at, actor, data, hash)
SELECT $1, e.seq, e.type, e.at, e.actor, e.data, e.hash
FROM unnest($2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::jsonb[], $7::text[]) AS e (seq, type, at, actor, data, hash)`;

const DELIVERY_COLUMNS = 'submission_id, destination, status, reference, detail, updated_at';
export const TENANT_SUBMISSION_EXISTS = 'SELECT 1 FROM submissions WHERE tenant_id = $1 AND id = $2';

/** $1 submission, $2 destination, $3 status, $4 reference, $5 detail (JSON text), $6 updated at. */
export const UPSERT_DELIVERY = `
INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
ON CONFLICT (submission_id, destination) DO UPDATE SET
  status = excluded.status, reference = excluded.reference, detail = excluded.detail, updated_at = excluded.updated_at`;

export const SELECT_DELIVERIES = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE submission_id = $1 ORDER BY destination`;

/** What deriveSubmissionStatus needs. $1 submission id. */
export const SELECT_DELIVERY_STATUSES = 'SELECT status FROM deliveries WHERE submission_id = $1';

export const SELECT_DELIVERIES_BY_REFERENCE = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE reference = $1 ORDER BY submission_id, destination`;

const DOCUMENT_COLUMNS = 'submission_id, type, volet, document_id, set_id, version_number, xml, pdf, built_at';

/** A rebuild replaces the submission's document. */
export const UPSERT_DOCUMENT = `
INSERT INTO documents (${DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (submission_id) DO UPDATE SET
  type = excluded.type, volet = excluded.volet, document_id = excluded.document_id, set_id = excluded.set_id,
  version_number = excluded.version_number, xml = excluded.xml, pdf = excluded.pdf, built_at = excluded.built_at`;

export const SELECT_DOCUMENT = `
SELECT ${DOCUMENT_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}
FROM documents d JOIN submissions s ON s.id = d.submission_id
WHERE s.tenant_id = $1 AND d.submission_id = $2`;

const JOB_COLUMNS = 'id, submission_id, kind, state, attempts, run_at, created_at, lease_owner, lease_until, last_error';

/** $1 submission id; parallel arrays: $2 kinds, $3 run at times; $4 now (created and updated at). */
export const INSERT_JOBS = `
INSERT INTO jobs (submission_id, kind, state, attempts, run_at, created_at, updated_at)
SELECT $1, j.kind, 'ready', 0, j.run_at, $4, $4 FROM unnest($2::text[], $3::timestamptz[]) WITH ORDINALITY AS j (kind, run_at, n)
ORDER BY j.n`;

/**
 * Takes the lease of the ready jobs whose time has come, whose lease is free or expired, of the
 * kinds asked for and not paused, oldest first. SKIP LOCKED: a job another process is claiming
 * right now is passed over instead of waited for, and once that claim commits its new lease
 * excludes it (READ COMMITTED re-checks the WHERE on the row's latest version), so no job is
 * claimed twice. $1 now, $2 kinds, $3 limit, $4 owner, $5 lease until.
 */
export const CLAIM_JOBS = `
WITH candidates AS (
  SELECT id FROM jobs
  WHERE state = 'ready' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    AND kind = ANY($2::text[])
    AND kind NOT IN (SELECT kind FROM job_pauses)
  ORDER BY run_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET attempts = jobs.attempts + 1, lease_owner = $4, lease_until = $5, updated_at = $1
FROM candidates WHERE jobs.id = candidates.id
RETURNING ${JOB_COLUMNS.split(', ').map((c) => `jobs.${c}`).join(', ')}`;

/** $1 ids. */
export const SELECT_SUBMISSIONS_BY_IDS = `SELECT ${RECORD_COLUMNS} FROM submissions WHERE id = ANY($1::text[])`;

/**
 * Ends the lease of a job, when it is still the owner's (another worker may have claimed it after
 * the lease expired: then no row changes). $4 null keeps run_at; $5 true keeps last_error.
 * $1 id, $2 owner, $3 state, $4 run at, $5 keep error, $6 last error (JSON text or null), $7 now.
 */
export const RELEASE_JOB = `
UPDATE jobs SET
  state = $3,
  run_at = COALESCE($4, run_at),
  last_error = CASE WHEN $5::boolean THEN last_error ELSE $6::jsonb END,
  lease_owner = NULL, lease_until = NULL, updated_at = $7
WHERE id = $1 AND lease_owner = $2 AND state = 'ready'`;

/** Extends the owner's unexpired leases. $1 until, $2 now, $3 owner, $4 ids. */
export const RENEW_LEASES = `
UPDATE jobs SET lease_until = $1, updated_at = $2
WHERE lease_owner = $3 AND state = 'ready' AND lease_until >= $2 AND id = ANY($4::bigint[])`;

/** $1 submission id. */
export const SELECT_JOBS = `SELECT ${JOB_COLUMNS} FROM jobs WHERE submission_id = $1 ORDER BY id`;

/** Overdue: ready, due, and no worker holds it (waiting for a free worker, or its kind is paused). $1 now. */
export const COUNT_JOBS = `
SELECT kind, state, count(*)::int AS count,
  (count(*) FILTER (WHERE state = 'ready' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)))::int AS overdue
FROM jobs GROUP BY kind, state ORDER BY kind, state`;

export interface ReplayQuery {
  readonly tenantId: string;
  readonly status?: string;
  readonly sinceIso?: string;
  readonly untilIso?: string;
  /** `dmp`, `mss` (any recipient) or one exact destination. */
  readonly destination?: string;
  readonly errorCode?: string;
  readonly limit: number;
}

/**
 * Ids of a tenant's submissions to replay, oldest first (since and until inclusive). Destination
 * and error code narrow to the same failed delivery.
 */
export function selectSubmissionsToReplay(query: ReplayQuery): ParameterizedQuery {
  const values: unknown[] = [query.tenantId];
  const add = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const conditions = ['s.tenant_id = $1'];
  if (query.status !== undefined) conditions.push(`s.status = ${add(query.status)}`);
  if (query.sinceIso !== undefined) conditions.push(`s.created_at >= ${add(query.sinceIso)}`);
  if (query.untilIso !== undefined) conditions.push(`s.created_at <= ${add(query.untilIso)}`);
  const delivery: string[] = [];
  if (query.destination === ANY_MSS_DESTINATION) delivery.push(`starts_with(d.destination, ${add(MSS_DESTINATION_PREFIX)})`);
  else if (query.destination !== undefined) delivery.push(`d.destination = ${add(query.destination)}`);
  if (query.errorCode !== undefined) delivery.push(`d.detail #>> '{error,code}' = ${add(query.errorCode)}`);
  if (delivery.length > 0) {
    conditions.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.submission_id = s.id AND d.status = 'failed' AND ${delivery.join(' AND ')})`);
  }
  const limit = add(query.limit);
  return { text: `SELECT s.id FROM submissions s WHERE ${conditions.join(' AND ')} ORDER BY s.created_at, s.id LIMIT ${limit}`, values };
}

const PAUSE_COLUMNS = 'kind, paused_at, paused_by, reason';

/** A kind already paused keeps its first pause. $1 kind, $2 paused at, $3 by, $4 reason. */
export const INSERT_PAUSE = `INSERT INTO job_pauses (${PAUSE_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT (kind) DO NOTHING`;

export const DELETE_PAUSE = 'DELETE FROM job_pauses WHERE kind = $1';

export const SELECT_PAUSES = `SELECT ${PAUSE_COLUMNS} FROM job_pauses ORDER BY kind`;

const API_KEY_COLUMNS = 'id, tenant_id, role, label, secret_hash, created_at, revoked_at';

export const INSERT_API_KEY = `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`;

export const SELECT_API_KEY = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`;

export const SELECT_API_KEYS = `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`;

export const REVOKE_API_KEY = 'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL';
