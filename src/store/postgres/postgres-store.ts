/**
 * Store on PostgreSQL, shared by several gateway processes. Every write is a single statement or
 * an explicit transaction, and correctness under concurrency rests on the database: constraints
 * (unique idempotency key), row locks (a submission's changes take turns on its row, so the checks
 * applyChange makes in JavaScript and its event chain see the latest state), SKIP LOCKED claims
 * and an advisory lock (migrations).
 */
import pg from 'pg';
import type { JobKind } from '../../domain/submission.js';
import { chainEvents } from '../audit-chain.js';
import { assertPageLimit, decodeCursor, toPage } from '../pagination.js';
import type {
  ApiKeyRecord,
  ClaimQuery,
  ClaimedJob,
  CreateSubmissionResult,
  DeliveryRecord,
  DocumentRecord,
  JobRecord,
  JobState,
  Json,
  ListSubmissionsQuery,
  NewEvent,
  NewJob,
  NewSubmission,
  PauseRecord,
  ReplayFilter,
  Store,
  SubmissionChange,
  SubmissionEvent,
  SubmissionPage,
  SubmissionRecord,
} from '../store.js';
import { rowMappers, toDeliveryStatus, toJobKind, toJobState, toSubmissionStatus } from '../stored-values.js';
import type * as rows from '../stored-values.js';
import { assertAuditPageLimit, assertClaim, assertReplayLimit, enteredTerminal, jobRelease, jsonOrNull, nextStatus } from '../submission-change.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import * as sql from './postgres-sql.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** Schema holding the tables (created by migrate()); the server's default search_path if absent. */
  readonly schema?: string;
  /** Connections per process; pg's default (10) if absent. */
  readonly poolMax?: number;
}

/** First key of the migration advisory lock: "PASS" in ASCII, to stay clear of other applications' locks. */
const MIGRATION_LOCK_CLASS = 0x50415353;

/** So that requests and /readyz fail instead of hanging when the server cannot be reached. */
const CONNECTION_TIMEOUT_MS = 10_000;

type SummaryRow = rows.SummaryRow<Date>;
type RecordRow = rows.RecordRow<Date, Json>;
type EventRow = rows.EventRow<Date, Json>;
type ApiKeyRow = rows.ApiKeyRow<Date>;
type DocumentRow = rows.DocumentRow<Date>;
type DeliveryRow = rows.DeliveryRow<Date, Json>;
type JobRow = rows.JobRow<Date, Json>;
type PauseRow = rows.PauseRow<Date>;

// pg parses TIMESTAMPTZ into Date and JSONB into values already.
const { toSummary, toRecord, toEvent, toApiKey, toDocument, toDelivery, toJob, toClaimedJob, toPause } = rowMappers<Date, Json>({ time: (value) => value, json: (value) => value });

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #schema: string | undefined;
  #ending: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.#schema = options.schema;
    this.#pool = new pg.Pool({
      connectionString: options.url,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      ...(options.poolMax !== undefined && { max: options.poolMax }),
      ...(options.schema !== undefined && { options: sql.searchPathOption(options.schema) }),
    });
    // The pool emits errors of idle connections (server restart, killed backend) and already
    // discards them; the next query opens a fresh connection and ping() reports a real outage.
    // Without a listener, Node would turn this event into a process crash.
    this.#pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    await this.#transaction(async (client) => {
      // Serialises processes that start together: the later ones find the work done.
      await client.query(sql.LOCK_MIGRATIONS, [MIGRATION_LOCK_CLASS, this.#schema ?? '']);
      if (this.#schema !== undefined) await client.query(sql.createSchema(this.#schema));
      await client.query(sql.CREATE_MIGRATIONS_TABLE);
      const applied = await client.query<{ version: number }>(sql.SELECT_APPLIED_VERSIONS);
      const versions = new Set(applied.rows.map((row) => row.version));
      for (const migration of POSTGRES_MIGRATIONS) {
        if (versions.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query(sql.INSERT_MIGRATION, [migration.version, migration.name]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.#pool.query(sql.PING);
  }

  close(): Promise<void> {
    // pg rejects a second end(); closing twice is harmless for the caller.
    this.#ending ??= this.#pool.end();
    return this.#ending;
  }

  async createSubmission(submission: NewSubmission): Promise<CreateSubmissionResult> {
    const events = chainEvents(submission.id, undefined, submission.events);
    const inserted = await this.#pool.query<SummaryRow>(sql.INSERT_SUBMISSION, [
      submission.id,
      submission.tenantId,
      'received',
      submission.actType,
      submission.idempotencyKey,
      submission.requestHash,
      submission.requestId,
      JSON.stringify(submission.input),
      submission.createdAt.toISOString(),
      events.map((event) => event.type),
      events.map((event) => event.at.toISOString()),
      events.map((event) => event.actor),
      events.map((event) => event.dataJson),
      events.map((event) => event.hash),
    ]);
    const row = inserted.rows[0];
    if (row !== undefined) return { created: true, submission: { ...toSummary(row), requestHash: submission.requestHash, input: submission.input } };
    // The conflicting row is committed (ON CONFLICT waited for it) and rows are never deleted,
    // so this new statement, with its new snapshot, sees it.
    const existing =
      submission.idempotencyKey === null
        ? undefined
        : await this.findSubmissionByIdempotencyKey(submission.tenantId, submission.idempotencyKey);
    if (existing === undefined) throw new Error('idempotency conflict without an existing submission');
    return { created: false, submission: existing };
  }

  async getSubmission(tenantId: string, id: string): Promise<SubmissionRecord | undefined> {
    const result = await this.#pool.query<RecordRow>(sql.SELECT_SUBMISSION, [tenantId, id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  async findSubmissionByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<SubmissionRecord | undefined> {
    const result = await this.#pool.query<RecordRow>(sql.SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY, [tenantId, idempotencyKey]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  async listSubmissions(query: ListSubmissionsQuery): Promise<SubmissionPage> {
    assertPageLimit(query.limit);
    const page = sql.selectSubmissionPage({
      tenantId: query.tenantId,
      limit: query.limit + 1,
      ...(query.status !== undefined && { status: query.status }),
      ...(query.requestId !== undefined && { requestId: query.requestId }),
      ...(query.since !== undefined && { sinceIso: query.since.toISOString() }),
      ...(query.cursor !== undefined && { beforeId: decodeCursor(query.cursor) }),
    });
    const result = await this.#pool.query<SummaryRow>(page.text, page.values);
    return toPage(result.rows.map(toSummary), query.limit);
  }

  async listEvents(tenantId: string, submissionId: string): Promise<readonly SubmissionEvent[] | undefined> {
    const result = await this.#pool.query<EventRow>(sql.SELECT_EVENTS, [tenantId, submissionId]);
    if (result.rows.length === 0) return undefined;
    return result.rows.flatMap((row) => (row.seq === null ? [] : [toEvent(row)]));
  }

  async getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined> {
    const result = await this.#pool.query<DocumentRow>(sql.SELECT_DOCUMENT, [tenantId, submissionId]);
    const row = result.rows[0];
    return row === undefined ? undefined : toDocument(row);
  }

  async listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined> {
    if ((await this.#pool.query(sql.TENANT_SUBMISSION_EXISTS, [tenantId, submissionId])).rowCount !== 1) return undefined;
    return (await this.#pool.query<DeliveryRow>(sql.SELECT_DELIVERIES, [submissionId])).rows.map(toDelivery);
  }

  async findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]> {
    return (await this.#pool.query<DeliveryRow>(sql.SELECT_DELIVERIES_BY_REFERENCE, [reference])).rows.map(toDelivery);
  }

  async renewLeases(owner: string, jobIds: readonly number[], until: Date, now: Date): Promise<number> {
    if (jobIds.length === 0) return 0;
    return (await this.#pool.query(sql.RENEW_LEASES, [until.toISOString(), now.toISOString(), owner, jobIds])).rowCount ?? 0;
  }

  async claimJobs(query: ClaimQuery): Promise<readonly ClaimedJob[]> {
    assertClaim(query);
    if (query.kinds.length === 0) return [];
    const claimed = await this.#pool.query<JobRow>(sql.CLAIM_JOBS, [query.now.toISOString(), query.kinds, query.limit, query.owner, new Date(query.now.getTime() + query.leaseMs).toISOString()]);
    if (claimed.rows.length === 0) return [];
    // A second statement, outside the claim: the leases are taken, and a submission's row is never deleted.
    const submissionIds = [...new Set(claimed.rows.map((job) => job.submission_id))];
    const found = await this.#pool.query<RecordRow>(sql.SELECT_SUBMISSIONS_BY_IDS, [submissionIds]);
    const submissions = new Map(found.rows.map((row) => [row.id, toRecord(row)]));
    return claimed.rows
      .sort((a, b) => a.run_at.getTime() - b.run_at.getTime() || Number(a.id) - Number(b.id))
      .map((job) => {
        const submission = submissions.get(job.submission_id);
        if (submission === undefined) throw new Error(`job ${String(job.id)} has no submission`);
        return toClaimedJob(job, submission);
      });
  }

  applyChange(change: SubmissionChange): Promise<boolean> {
    return this.#transaction(async (client) => {
      // First, so that concurrent changes of one submission (and its event chain) take turns.
      const locked = await client.query<{ status: string }>(sql.LOCK_SUBMISSION, [change.submissionId]);
      const found = locked.rows[0];
      if (found === undefined) return false;
      const before = toSubmissionStatus(found.status);
      if (change.expectStatus !== undefined && !change.expectStatus.includes(before)) return false;
      const now = change.at.toISOString();
      if (change.lease !== undefined) {
        const release = jobRelease(change.lease.outcome);
        const released = await client.query(sql.RELEASE_JOB, [
          change.lease.jobId,
          change.lease.owner,
          release.state,
          release.runAt === null ? null : release.runAt.toISOString(),
          release.keepError,
          jsonOrNull(release.lastError),
          now,
        ]);
        // The first write: when it changes nothing, nothing at all has been written.
        if (released.rowCount !== 1) return false;
      }
      const document = change.document;
      if (document !== undefined) {
        await client.query(sql.UPSERT_DOCUMENT, [document.submissionId, document.type, document.volet, document.documentId, document.setId, document.versionNumber, document.xml, document.pdf, document.builtAt.toISOString()]);
      }
      for (const delivery of change.deliveries ?? []) {
        await client.query(sql.UPSERT_DELIVERY, [delivery.submissionId, delivery.destination, delivery.status, delivery.reference, JSON.stringify(delivery.detail), delivery.updatedAt.toISOString()]);
      }
      await appendEvents(client, change.submissionId, change.events);
      const deliveryStatuses =
        change.deriveStatus === true ? (await client.query<{ status: string }>(sql.SELECT_DELIVERY_STATUSES, [change.submissionId])).rows.map((row) => toDeliveryStatus(row.status)) : undefined;
      const after = nextStatus(before, change, deliveryStatuses);
      await client.query(sql.UPDATE_SUBMISSION, [after, now, change.submissionId]);
      await insertJobs(client, change.submissionId, change.enqueue ?? [], change.at);
      if (enteredTerminal(before, after)) await insertJobs(client, change.submissionId, change.onTerminal ?? [], change.at);
      return true;
    });
  }

  async listJobs(tenantId: string, submissionId: string): Promise<readonly JobRecord[] | undefined> {
    if ((await this.#pool.query(sql.TENANT_SUBMISSION_EXISTS, [tenantId, submissionId])).rowCount !== 1) return undefined;
    return (await this.#pool.query<JobRow>(sql.SELECT_JOBS, [submissionId])).rows.map((row) => toJob(row, tenantId));
  }

  async findSubmissionsToReplay(filter: ReplayFilter): Promise<readonly string[]> {
    assertReplayLimit(filter.limit);
    const query = sql.selectSubmissionsToReplay({
      tenantId: filter.tenantId,
      limit: filter.limit,
      ...(filter.status !== undefined && { status: filter.status }),
      ...(filter.since !== undefined && { sinceIso: filter.since.toISOString() }),
      ...(filter.until !== undefined && { untilIso: filter.until.toISOString() }),
      ...(filter.destination !== undefined && { destination: filter.destination }),
      ...(filter.errorCode !== undefined && { errorCode: filter.errorCode }),
    });
    return (await this.#pool.query<{ id: string }>(query.text, query.values)).rows.map((row) => row.id);
  }

  async countJobs(now: Date): Promise<readonly { readonly kind: JobKind; readonly state: JobState; readonly count: number; readonly overdue: number }[]> {
    const result = await this.#pool.query<{ kind: string; state: string; count: number; overdue: number }>(sql.COUNT_JOBS, [now.toISOString()]);
    return result.rows.map((row) => ({ kind: toJobKind(row.kind), state: toJobState(row.state), count: row.count, overdue: row.overdue }));
  }

  async pauseJobs(pause: PauseRecord): Promise<void> {
    await this.#pool.query(sql.INSERT_PAUSE, [pause.kind, pause.pausedAt.toISOString(), pause.pausedBy, pause.reason]);
  }

  async resumeJobs(kind: JobKind): Promise<boolean> {
    return (await this.#pool.query(sql.DELETE_PAUSE, [kind])).rowCount === 1;
  }

  async listPauses(): Promise<readonly PauseRecord[]> {
    return (await this.#pool.query<PauseRow>(sql.SELECT_PAUSES)).rows.map(toPause);
  }

  async listAuditEvents(after: { readonly submissionId: string; readonly seq: number } | undefined, limit: number): Promise<readonly SubmissionEvent[]> {
    assertAuditPageLimit(limit);
    const result =
      after === undefined
        ? await this.#pool.query<EventRow>(sql.SELECT_AUDIT_EVENTS_FIRST, [limit])
        : await this.#pool.query<EventRow>(sql.SELECT_AUDIT_EVENTS_AFTER, [after.submissionId, after.seq, limit]);
    return result.rows.map(toEvent);
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    await this.#pool.query(sql.INSERT_API_KEY, [
      key.id,
      key.tenantId,
      key.role,
      key.label,
      key.secretHash,
      key.createdAt.toISOString(),
      key.revokedAt === null ? null : key.revokedAt.toISOString(),
    ]);
  }

  async findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const result = await this.#pool.query<ApiKeyRow>(sql.SELECT_API_KEY, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toApiKey(row);
  }

  async listApiKeys(): Promise<readonly ApiKeyRecord[]> {
    const result = await this.#pool.query<ApiKeyRow>(sql.SELECT_API_KEYS);
    return result.rows.map(toApiKey);
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const result = await this.#pool.query(sql.REVOKE_API_KEY, [at.toISOString(), id]);
    return result.rowCount === 1;
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is unusable: destroy it rather than pool it.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** Inside a transaction that locked the submission's row: appends the events after its last one, chained to it. */
async function appendEvents(client: pg.PoolClient, submissionId: string, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const last = (await client.query<{ seq: number; hash: string }>(sql.SELECT_LAST_EVENT, [submissionId])).rows[0];
  const chained = chainEvents(submissionId, last, events);
  await client.query(sql.INSERT_EVENTS, [
    submissionId,
    chained.map((event) => event.seq),
    chained.map((event) => event.type),
    chained.map((event) => event.at.toISOString()),
    chained.map((event) => event.actor),
    chained.map((event) => event.dataJson),
    chained.map((event) => event.hash),
  ]);
}

async function insertJobs(client: pg.PoolClient, submissionId: string, jobs: readonly NewJob[], at: Date): Promise<void> {
  if (jobs.length === 0) return;
  await client.query(sql.INSERT_JOBS, [submissionId, jobs.map((job) => job.kind), jobs.map((job) => job.runAt.toISOString()), at.toISOString()]);
}
