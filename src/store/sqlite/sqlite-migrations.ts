/**
 * SQLite schema history. Times are ISO-8601 UTC text with milliseconds (`Date#toISOString`), which
 * sorts lexically in time order; JSON is stored as text. Never edit an applied migration: append one.
 */
import type { Migration } from '../migration.js';

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'submissions, events and API keys',
    sql: `
CREATE TABLE submissions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  status TEXT NOT NULL,
  act_type TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT NOT NULL,
  request_id TEXT NOT NULL,
  input TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX submissions_tenant_idempotency_key
  ON submissions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX submissions_tenant_id ON submissions (tenant_id, id DESC);
CREATE INDEX submissions_tenant_status_id ON submissions (tenant_id, status, id DESC);

CREATE TABLE submission_events (
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  seq INTEGER NOT NULL CHECK (seq > 0),
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (submission_id, seq)
) STRICT, WITHOUT ROWID;

-- The event log is the audit trail: history is only ever appended to.
CREATE TRIGGER submission_events_no_update BEFORE UPDATE ON submission_events
BEGIN
  SELECT RAISE(ABORT, 'submission_events is append-only');
END;
CREATE TRIGGER submission_events_no_delete BEFORE DELETE ON submission_events
BEGIN
  SELECT RAISE(ABORT, 'submission_events is append-only');
END;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  role TEXT NOT NULL,
  label TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE INDEX api_keys_created_at ON api_keys (created_at, id);
`,
  },
  {
    version: 2,
    name: 'built documents',
    sql: `
CREATE TABLE documents (
  submission_id TEXT PRIMARY KEY REFERENCES submissions (id),
  type TEXT NOT NULL,
  volet TEXT NOT NULL,
  document_id TEXT NOT NULL UNIQUE,
  set_id TEXT NOT NULL,
  version_number INTEGER NOT NULL CHECK (version_number > 0),
  xml BLOB NOT NULL,
  pdf BLOB,
  built_at TEXT NOT NULL
) STRICT;
-- The build step looks for received submissions of every tenant, oldest first.
CREATE INDEX submissions_status_id ON submissions (status, id);
`,
  },
  {
    version: 3,
    name: 'deliveries',
    sql: `
-- One row a destination of a submission (the DMP, each MSSanté recipient), replaced as it moves on;
-- its history is in submission_events.
CREATE TABLE deliveries (
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  destination TEXT NOT NULL,
  status TEXT NOT NULL,
  reference TEXT,
  detail TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (submission_id, destination)
) STRICT, WITHOUT ROWID;
-- Acknowledgements name the message they acknowledge.
CREATE INDEX deliveries_reference ON deliveries (reference) WHERE reference IS NOT NULL;
`,
  },
  {
    version: 4,
    name: 'outbox jobs, pauses, audit chain',
    sql: `
-- The outbox: each step of a submission's pipeline is a row written in the same transaction as the
-- change that calls for it. Rows are kept once done or dead (the submission's history of work).
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  run_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  lease_owner TEXT,
  lease_until TEXT,
  last_error TEXT
) STRICT;
-- Workers claim the ready jobs whose time has come, oldest first.
CREATE INDEX jobs_ready ON jobs (run_at, id) WHERE state = 'ready';
CREATE INDEX jobs_submission_id ON jobs (submission_id, id);

-- An operator's pause of a kind of job, for every worker of every process.
CREATE TABLE job_pauses (
  kind TEXT PRIMARY KEY,
  paused_at TEXT NOT NULL,
  paused_by TEXT NOT NULL,
  reason TEXT
) STRICT;

-- Events written from now on are hash-chained (audit-chain.ts); older ones keep '' (legacy).
ALTER TABLE submission_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';

-- Intake may be asked for the submission that a request created.
CREATE INDEX submissions_tenant_request_id ON submissions (tenant_id, request_id);
-- The build step no longer scans statuses: its jobs say what to build.
DROP INDEX submissions_status_id;

-- Submissions still waiting for the build step get the job that the pipeline now works from.
INSERT INTO jobs (submission_id, kind, state, attempts, run_at, created_at, updated_at)
SELECT id, 'build', 'ready', 0, created_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM submissions WHERE status = 'received' ORDER BY id;
`,
  },
];
