/**
 * The SQLite connection and all its statements. better-sqlite3 is synchronous, so each method does
 * its work at once and hands back an already-settled promise; SQLite serialises writers, which is
 * what makes the idempotency check race-free here. It runs inside the store's worker thread
 * (sqlite-worker.ts), never on the gateway's event loop.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DeliveryStatus, JobKind, SubmissionStatus } from '../../domain/submission.js';
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
import { ANY_MSS_DESTINATION, assertAuditPageLimit, assertClaim, assertReplayLimit, enteredTerminal, jobRelease, jsonOrNull, nextStatus } from '../submission-change.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import * as sql from './sqlite-sql.js';

export interface SqliteDatabaseOptions {
  /** File path of the database (its directory is created if missing), or ':memory:'. */
  readonly path: string;
}

/** The connection settings in force, for diagnostics. */
export interface SqlitePragmas {
  readonly journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  readonly synchronous: number;
  readonly foreignKeys: boolean;
  readonly busyTimeoutMs: number;
}

export type BatchResult = { readonly ok: true; readonly value: CreateSubmissionResult } | { readonly ok: false; readonly error: unknown };

type SummaryRow = rows.SummaryRow<string>;
type RecordRow = rows.RecordRow<string, string>;
type EventRow = rows.EventRow<string, string>;
type ApiKeyRow = rows.ApiKeyRow<string>;
type DocumentRow = rows.DocumentRow<string>;
type DeliveryRow = rows.DeliveryRow<string, string>;
type JobRow = rows.JobRow<string, string>;
type PauseRow = rows.PauseRow<string>;

// SQLite keeps times as ISO-8601 text and JSON as text.
const { toSummary, toRecord, toEvent, toApiKey, toDocument, toDelivery, toJob, toClaimedJob, toPause } = rowMappers<string, string>({
  time: (value) => new Date(value),
  json: (value) => JSON.parse(value) as Json,
});

interface SubmissionParams {
  id: string;
  tenantId: string;
  status: SubmissionStatus;
  actType: string;
  idempotencyKey: string | null;
  requestHash: string;
  requestId: string;
  input: string;
  createdAt: string;
}

interface PageParams {
  tenantId: string;
  status?: string;
  requestId?: string;
  since?: string;
  beforeId?: string;
  limit: number;
}

interface DocumentParams {
  submissionId: string;
  type: string;
  volet: string;
  documentId: string;
  setId: string;
  versionNumber: number;
  xml: Buffer;
  pdf: Buffer | null;
  builtAt: string;
}

interface DeliveryParams {
  submissionId: string;
  destination: string;
  status: string;
  reference: string | null;
  detail: string;
  updatedAt: string;
}

interface ClaimParams {
  now: string;
  kinds: string;
  limit: number;
  owner: string;
  leaseUntil: string;
}

interface ReleaseParams {
  id: number;
  owner: string;
  state: JobState;
  runAt: string | null;
  keepError: 0 | 1;
  lastError: string | null;
  now: string;
}

interface ReplayParams {
  tenantId: string;
  status?: string;
  since?: string;
  until?: string;
  destination?: string;
  errorCode?: string;
  limit: number;
}

interface PauseParams {
  kind: string;
  pausedAt: string;
  pausedBy: string;
  reason: string | null;
}

interface ApiKeyParams {
  id: string;
  tenantId: string;
  role: string;
  label: string;
  secretHash: Buffer;
  createdAt: string;
  revokedAt: string | null;
}

/** Statements need the tables to exist, so they are prepared on first use after migrate(). */
function prepareStatements(db: Database.Database) {
  return {
    insertSubmission: db.prepare<SubmissionParams, SummaryRow>(sql.INSERT_SUBMISSION),
    insertEvent: db.prepare<[string, number, string, string, string, string, string]>(sql.INSERT_EVENT),
    selectLastEvent: db.prepare<[string], { seq: number; hash: string }>(sql.SELECT_LAST_EVENT),
    selectSubmission: db.prepare<[string, string], RecordRow>(sql.SELECT_SUBMISSION),
    selectByIdempotencyKey: db.prepare<[string, string], RecordRow>(sql.SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY),
    selectEvents: db.prepare<[string, string], EventRow>(sql.SELECT_EVENTS),
    selectAuditEventsFirst: db.prepare<[number], EventRow>(sql.SELECT_AUDIT_EVENTS_FIRST),
    selectAuditEventsAfter: db.prepare<[string, number, number], EventRow>(sql.SELECT_AUDIT_EVENTS_AFTER),
    selectStatus: db.prepare<[string], { status: string }>(sql.SELECT_SUBMISSION_STATUS),
    updateSubmission: db.prepare<[string, string, string]>(sql.UPDATE_SUBMISSION),
    upsertDocument: db.prepare<DocumentParams>(sql.UPSERT_DOCUMENT),
    selectDocument: db.prepare<[string, string], DocumentRow>(sql.SELECT_DOCUMENT),
    tenantSubmissionExists: db.prepare<[string, string], { found: number }>(sql.TENANT_SUBMISSION_EXISTS),
    upsertDelivery: db.prepare<DeliveryParams>(sql.UPSERT_DELIVERY),
    selectDeliveries: db.prepare<[string], DeliveryRow>(sql.SELECT_DELIVERIES),
    selectDeliveryStatuses: db.prepare<[string], string>(sql.SELECT_DELIVERY_STATUSES).pluck(),
    selectDeliveriesByReference: db.prepare<[string], DeliveryRow>(sql.SELECT_DELIVERIES_BY_REFERENCE),
    insertJob: db.prepare<[string, string, string, string, string]>(sql.INSERT_JOB),
    claimJobs: db.prepare<ClaimParams, JobRow>(sql.CLAIM_JOBS),
    selectSubmissionsByIds: db.prepare<[string], RecordRow>(sql.SELECT_SUBMISSIONS_BY_IDS),
    releaseJob: db.prepare<ReleaseParams>(sql.RELEASE_JOB),
    renewLeases: db.prepare<{ until: string; now: string; owner: string; ids: string }>(sql.RENEW_LEASES),
    selectJobs: db.prepare<[string], JobRow>(sql.SELECT_JOBS),
    countJobs: db.prepare<{ now: string }, { kind: string; state: string; count: number; overdue: number }>(sql.COUNT_JOBS),
    insertPause: db.prepare<PauseParams>(sql.INSERT_PAUSE),
    deletePause: db.prepare<[string]>(sql.DELETE_PAUSE),
    selectPauses: db.prepare<[], PauseRow>(sql.SELECT_PAUSES),
    insertApiKey: db.prepare<ApiKeyParams>(sql.INSERT_API_KEY),
    selectApiKey: db.prepare<[string], ApiKeyRow>(sql.SELECT_API_KEY),
    selectApiKeys: db.prepare<[], ApiKeyRow>(sql.SELECT_API_KEYS),
    revokeApiKey: db.prepare<[string, string]>(sql.REVOKE_API_KEY),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteDatabase implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  #statements: Statements | undefined;
  readonly #pageStatements = new Map<string, Database.Statement<PageParams, SummaryRow>>();
  readonly #replayStatements = new Map<string, Database.Statement<ReplayParams, string>>();
  readonly #createSubmission: Database.Transaction<(submission: NewSubmission) => CreateSubmissionResult>;
  readonly #claimJobs: Database.Transaction<(query: ClaimQuery) => ClaimedJob[]>;
  readonly #applyChange: Database.Transaction<(change: SubmissionChange) => boolean>;

  constructor(options: SqliteDatabaseOptions) {
    if (options.path === '') throw new RangeError('the SQLite database path is empty');
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(options.path);
    this.#db.exec(sql.CONNECTION_PRAGMAS);
    this.#createSubmission = this.#db.transaction((submission) => this.#insertSubmission(submission));
    this.#claimJobs = this.#db.transaction((query) => this.#claim(query));
    this.#applyChange = this.#db.transaction((change) => this.#apply(change));
  }

  migrate(): Promise<void> {
    return settle(() => {
      // IMMEDIATE takes the write lock before reading the applied versions, so two processes
      // opening the same file cannot both apply a migration.
      this.#db
        .transaction(() => {
          this.#db.exec(sql.CREATE_MIGRATIONS_TABLE);
          const applied = new Set(this.#db.prepare<[], number>(sql.SELECT_APPLIED_VERSIONS).pluck().all());
          const record = this.#db.prepare<[number, string]>(sql.INSERT_MIGRATION);
          for (const migration of SQLITE_MIGRATIONS) {
            if (applied.has(migration.version)) continue;
            this.#db.exec(migration.sql);
            record.run(migration.version, migration.name);
          }
        })
        .immediate();
    });
  }

  ping(): Promise<void> {
    return settle(() => {
      this.#db.prepare(sql.PING).get();
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.#db.close();
    });
  }

  pragmas(): SqlitePragmas {
    const read = (statement: string): unknown => this.#db.prepare(statement).pluck().get();
    return {
      journalMode: String(read(sql.READ_JOURNAL_MODE)),
      synchronous: Number(read(sql.READ_SYNCHRONOUS)),
      foreignKeys: read(sql.READ_FOREIGN_KEYS) === 1,
      busyTimeoutMs: Number(read(sql.READ_BUSY_TIMEOUT)),
    };
  }

  createSubmission(submission: NewSubmission): Promise<CreateSubmissionResult> {
    // IMMEDIATE: another process writing the same file makes us wait (busy_timeout) up front
    // instead of failing when a read transaction tries to upgrade to a write.
    return settle(() => this.#createSubmission.immediate(submission));
  }

  /**
   * Group commit: several submissions in one transaction, so one fsync covers them all. Each runs
   * in its own savepoint, so one failing (a duplicate id) does not undo the others; a failed
   * COMMIT fails them all.
   */
  createSubmissions(batch: readonly NewSubmission[]): BatchResult[] {
    const results: BatchResult[] = [];
    this.#db
      .transaction(() => {
        for (const submission of batch) {
          try {
            results.push({ ok: true, value: this.#createSubmission(submission) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      })
      .immediate();
    return results;
  }

  getSubmission(tenantId: string, id: string): Promise<SubmissionRecord | undefined> {
    return settle(() => {
      const row = this.#sql.selectSubmission.get(tenantId, id);
      return row === undefined ? undefined : toRecord(row);
    });
  }

  findSubmissionByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<SubmissionRecord | undefined> {
    return settle(() => {
      const row = this.#sql.selectByIdempotencyKey.get(tenantId, idempotencyKey);
      return row === undefined ? undefined : toRecord(row);
    });
  }

  listSubmissions(query: ListSubmissionsQuery): Promise<SubmissionPage> {
    return settle(() => {
      assertPageLimit(query.limit);
      const params: PageParams = { tenantId: query.tenantId, limit: query.limit + 1 };
      if (query.status !== undefined) params.status = query.status;
      if (query.requestId !== undefined) params.requestId = query.requestId;
      if (query.since !== undefined) params.since = query.since.toISOString();
      if (query.cursor !== undefined) params.beforeId = decodeCursor(query.cursor);
      const rows = this.#pageStatement(params).all(params);
      return toPage(rows.map(toSummary), query.limit);
    });
  }

  listEvents(tenantId: string, submissionId: string): Promise<readonly SubmissionEvent[] | undefined> {
    return settle(() => {
      const rows = this.#sql.selectEvents.all(tenantId, submissionId);
      if (rows.length === 0) return undefined;
      return rows.flatMap((row) => (row.seq === null ? [] : [toEvent(row)]));
    });
  }

  getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined> {
    return settle(() => {
      const row = this.#sql.selectDocument.get(tenantId, submissionId);
      return row === undefined ? undefined : toDocument(row);
    });
  }

  listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined> {
    return settle(() => (this.#sql.tenantSubmissionExists.get(tenantId, submissionId) === undefined ? undefined : this.#sql.selectDeliveries.all(submissionId).map(toDelivery)));
  }

  findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]> {
    return settle(() => this.#sql.selectDeliveriesByReference.all(reference).map(toDelivery));
  }

  claimJobs(query: ClaimQuery): Promise<readonly ClaimedJob[]> {
    return settle(() => this.#claimJobs.immediate(query));
  }

  renewLeases(owner: string, jobIds: readonly number[], until: Date, now: Date): Promise<number> {
    return settle(() => (jobIds.length === 0 ? 0 : this.#sql.renewLeases.run({ until: until.toISOString(), now: now.toISOString(), owner, ids: JSON.stringify(jobIds) }).changes));
  }

  applyChange(change: SubmissionChange): Promise<boolean> {
    return settle(() => this.#applyChange.immediate(change));
  }

  listJobs(tenantId: string, submissionId: string): Promise<readonly JobRecord[] | undefined> {
    return settle(() => (this.#sql.tenantSubmissionExists.get(tenantId, submissionId) === undefined ? undefined : this.#sql.selectJobs.all(submissionId).map((row) => toJob(row, tenantId))));
  }

  findSubmissionsToReplay(filter: ReplayFilter): Promise<readonly string[]> {
    return settle(() => {
      assertReplayLimit(filter.limit);
      const params: ReplayParams = { tenantId: filter.tenantId, limit: filter.limit };
      if (filter.status !== undefined) params.status = filter.status;
      if (filter.since !== undefined) params.since = filter.since.toISOString();
      if (filter.until !== undefined) params.until = filter.until.toISOString();
      if (filter.destination !== undefined && filter.destination !== ANY_MSS_DESTINATION) params.destination = filter.destination;
      if (filter.errorCode !== undefined) params.errorCode = filter.errorCode;
      return this.#replayStatement(filter, params).all(params);
    });
  }

  countJobs(now: Date): Promise<readonly { readonly kind: JobKind; readonly state: JobState; readonly count: number; readonly overdue: number }[]> {
    return settle(() => this.#sql.countJobs.all({ now: now.toISOString() }).map((row) => ({ kind: toJobKind(row.kind), state: toJobState(row.state), count: row.count, overdue: row.overdue })));
  }

  pauseJobs(pause: PauseRecord): Promise<void> {
    return settle(() => {
      this.#sql.insertPause.run({ kind: pause.kind, pausedAt: pause.pausedAt.toISOString(), pausedBy: pause.pausedBy, reason: pause.reason });
    });
  }

  resumeJobs(kind: JobKind): Promise<boolean> {
    return settle(() => this.#sql.deletePause.run(kind).changes === 1);
  }

  listPauses(): Promise<readonly PauseRecord[]> {
    return settle(() => this.#sql.selectPauses.all().map(toPause));
  }

  listAuditEvents(after: { readonly submissionId: string; readonly seq: number } | undefined, limit: number): Promise<readonly SubmissionEvent[]> {
    return settle(() => {
      assertAuditPageLimit(limit);
      const rows = after === undefined ? this.#sql.selectAuditEventsFirst.all(limit) : this.#sql.selectAuditEventsAfter.all(after.submissionId, after.seq, limit);
      return rows.map(toEvent);
    });
  }

  /** Runs inside the #claimJobs IMMEDIATE transaction. */
  #claim(query: ClaimQuery): ClaimedJob[] {
    assertClaim(query);
    if (query.kinds.length === 0) return [];
    const jobs = this.#sql.claimJobs.all({
      now: query.now.toISOString(),
      kinds: JSON.stringify(query.kinds),
      limit: query.limit,
      owner: query.owner,
      leaseUntil: new Date(query.now.getTime() + query.leaseMs).toISOString(),
    });
    if (jobs.length === 0) return [];
    const submissionIds = [...new Set(jobs.map((job) => job.submission_id))];
    const submissions = new Map(this.#sql.selectSubmissionsByIds.all(JSON.stringify(submissionIds)).map((row) => [row.id, toRecord(row)]));
    return jobs
      .sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : Number(a.id) - Number(b.id)))
      .map((job) => {
        const submission = submissions.get(job.submission_id);
        if (submission === undefined) throw new Error(`job ${String(job.id)} has no submission`);
        return toClaimedJob(job, submission);
      });
  }

  /** Runs inside the #applyChange IMMEDIATE transaction: a throw rolls everything back. */
  #apply(change: SubmissionChange): boolean {
    const found = this.#sql.selectStatus.get(change.submissionId);
    if (found === undefined) return false;
    const before = toSubmissionStatus(found.status);
    if (change.expectStatus !== undefined && !change.expectStatus.includes(before)) return false;
    const now = change.at.toISOString();
    if (change.lease !== undefined) {
      const release = jobRelease(change.lease.outcome);
      const released = this.#sql.releaseJob.run({
        id: change.lease.jobId,
        owner: change.lease.owner,
        state: release.state,
        runAt: release.runAt === null ? null : release.runAt.toISOString(),
        keepError: release.keepError ? 1 : 0,
        lastError: jsonOrNull(release.lastError),
        now,
      });
      // The first write: when it changes nothing, nothing at all has been written.
      if (released.changes !== 1) return false;
    }
    if (change.document !== undefined) {
      const document = change.document;
      this.#sql.upsertDocument.run({ ...document, xml: Buffer.from(document.xml), pdf: document.pdf === null ? null : Buffer.from(document.pdf), builtAt: document.builtAt.toISOString() });
    }
    for (const delivery of change.deliveries ?? []) {
      this.#sql.upsertDelivery.run({ ...delivery, detail: JSON.stringify(delivery.detail), updatedAt: delivery.updatedAt.toISOString() });
    }
    this.#appendEvents(change.submissionId, change.events);
    const deliveryStatuses: DeliveryStatus[] | undefined = change.deriveStatus === true ? this.#sql.selectDeliveryStatuses.all(change.submissionId).map(toDeliveryStatus) : undefined;
    const after = nextStatus(before, change, deliveryStatuses);
    this.#sql.updateSubmission.run(after, now, change.submissionId);
    this.#insertJobs(change.submissionId, change.enqueue ?? [], change.at);
    if (enteredTerminal(before, after)) this.#insertJobs(change.submissionId, change.onTerminal ?? [], change.at);
    return true;
  }

  /** Inside a transaction: appends the events after the submission's last one, chained to it. */
  #appendEvents(submissionId: string, events: readonly NewEvent[]): void {
    if (events.length === 0) return;
    for (const event of chainEvents(submissionId, this.#sql.selectLastEvent.get(submissionId), events)) {
      this.#sql.insertEvent.run(submissionId, event.seq, event.type, event.at.toISOString(), event.actor, event.dataJson, event.hash);
    }
  }

  #insertJobs(submissionId: string, jobs: readonly NewJob[], at: Date): void {
    for (const job of jobs) this.#sql.insertJob.run(submissionId, job.kind, job.runAt.toISOString(), at.toISOString(), at.toISOString());
  }

  createApiKey(key: ApiKeyRecord): Promise<void> {
    return settle(() => {
      this.#sql.insertApiKey.run({
        id: key.id,
        tenantId: key.tenantId,
        role: key.role,
        label: key.label,
        secretHash: key.secretHash,
        createdAt: key.createdAt.toISOString(),
        revokedAt: key.revokedAt === null ? null : key.revokedAt.toISOString(),
      });
    });
  }

  findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return settle(() => {
      const row = this.#sql.selectApiKey.get(id);
      return row === undefined ? undefined : toApiKey(row);
    });
  }

  listApiKeys(): Promise<readonly ApiKeyRecord[]> {
    return settle(() => this.#sql.selectApiKeys.all().map(toApiKey));
  }

  revokeApiKey(id: string, at: Date): Promise<boolean> {
    return settle(() => this.#sql.revokeApiKey.run(at.toISOString(), id).changes === 1);
  }

  get #sql(): Statements {
    this.#statements ??= prepareStatements(this.#db);
    return this.#statements;
  }

  #pageStatement(params: PageParams): Database.Statement<PageParams, SummaryRow> {
    const filters = {
      status: params.status !== undefined,
      requestId: params.requestId !== undefined,
      since: params.since !== undefined,
      cursor: params.beforeId !== undefined,
    };
    const key = JSON.stringify(filters);
    let statement = this.#pageStatements.get(key);
    if (statement === undefined) {
      statement = this.#db.prepare<PageParams, SummaryRow>(sql.selectSubmissionPage(filters));
      this.#pageStatements.set(key, statement);
    }
    return statement;
  }

  #replayStatement(filter: ReplayFilter, params: ReplayParams): Database.Statement<ReplayParams, string> {
    const filters: sql.ReplayFilters = {
      status: params.status !== undefined,
      since: params.since !== undefined,
      until: params.until !== undefined,
      ...(filter.destination !== undefined && { destination: filter.destination === ANY_MSS_DESTINATION ? 'mss' : 'exact' }),
      errorCode: params.errorCode !== undefined,
    };
    const key = JSON.stringify(filters);
    let statement = this.#replayStatements.get(key);
    if (statement === undefined) {
      statement = this.#db.prepare<ReplayParams, string>(sql.selectSubmissionsToReplay(filters)).pluck();
      this.#replayStatements.set(key, statement);
    }
    return statement;
  }

  /** Runs inside the #createSubmission transaction: any throw rolls everything back. */
  #insertSubmission(submission: NewSubmission): CreateSubmissionResult {
    const row = this.#sql.insertSubmission.get({
      id: submission.id,
      tenantId: submission.tenantId,
      status: 'received',
      actType: submission.actType,
      idempotencyKey: submission.idempotencyKey,
      requestHash: submission.requestHash,
      requestId: submission.requestId,
      input: JSON.stringify(submission.input),
      createdAt: submission.createdAt.toISOString(),
    });
    if (row !== undefined) {
      this.#appendEvents(submission.id, submission.events);
      // The outbox: the submission is never without the job that moves it on.
      this.#insertJobs(submission.id, [{ kind: 'build', runAt: submission.createdAt }], submission.createdAt);
      // The input is not read back: the caller holds it (it can be hundreds of kilobytes).
      return { created: true, submission: { ...toSummary(row), requestHash: submission.requestHash, input: submission.input } };
    }
    // Only the idempotency-key index is a tolerated conflict, so the key is set here.
    const existing =
      submission.idempotencyKey === null
        ? undefined
        : this.#sql.selectByIdempotencyKey.get(submission.tenantId, submission.idempotencyKey);
    if (existing === undefined) throw new Error('idempotency conflict without an existing submission');
    return { created: false, submission: toRecord(existing) };
  }
}

/** better-sqlite3 works synchronously; this turns its result or its throw into a settled promise. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}
