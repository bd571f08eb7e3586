/**
 * The SQLite connection and all its statements. better-sqlite3 is synchronous, so each method does
 * its work at once and hands back an already-settled promise; SQLite serialises writers, which is
 * what makes the idempotency check race-free here. It runs inside the store's worker thread
 * (sqlite-worker.ts), never on the gateway's event loop.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { SubmissionStatus } from '../../domain/submission.js';
import { assertPageLimit, decodeCursor, toPage } from '../pagination.js';
import type {
  ApiKeyRecord,
  CreateSubmissionResult,
  DeliveryRecord,
  DocumentRecord,
  Json,
  NewEvent,
  ListSubmissionsQuery,
  NewSubmission,
  Store,
  SubmissionEvent,
  SubmissionPage,
  SubmissionRecord,
} from '../store.js';
import { rowMappers } from '../stored-values.js';
import type * as rows from '../stored-values.js';
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

// SQLite keeps times as ISO-8601 text and JSON as text.
const { toSummary, toRecord, toEvent, toApiKey, toDocument, toDelivery } = rowMappers<string, string>({ time: (value) => new Date(value), json: (value) => JSON.parse(value) as Json });

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
    insertEvent: db.prepare<[string, number, string, string, string, string]>(sql.INSERT_EVENT),
    selectSubmission: db.prepare<[string, string], RecordRow>(sql.SELECT_SUBMISSION),
    selectByIdempotencyKey: db.prepare<[string, string], RecordRow>(sql.SELECT_SUBMISSION_BY_IDEMPOTENCY_KEY),
    selectEvents: db.prepare<[string, string], EventRow>(sql.SELECT_EVENTS),
    selectToBuild: db.prepare<[number], RecordRow>(sql.SELECT_SUBMISSIONS_TO_BUILD),
    transition: db.prepare<[string, string, string, string]>(sql.TRANSITION_SUBMISSION),
    appendEvent: db.prepare<[string, string, string, string, string, string]>(sql.APPEND_EVENT),
    insertDocument: db.prepare<DocumentParams>(sql.INSERT_DOCUMENT),
    selectDocument: db.prepare<[string, string], DocumentRow>(sql.SELECT_DOCUMENT),
    submissionExists: db.prepare<[string], { found: number }>(sql.SUBMISSION_EXISTS),
    tenantSubmissionExists: db.prepare<[string, string], { found: number }>(sql.TENANT_SUBMISSION_EXISTS),
    upsertDelivery: db.prepare<DeliveryParams>(sql.UPSERT_DELIVERY),
    selectDeliveries: db.prepare<[string], DeliveryRow>(sql.SELECT_DELIVERIES),
    selectDeliveriesByReference: db.prepare<[string], DeliveryRow>(sql.SELECT_DELIVERIES_BY_REFERENCE),
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
  readonly #createSubmission: Database.Transaction<(submission: NewSubmission) => CreateSubmissionResult>;

  constructor(options: SqliteDatabaseOptions) {
    if (options.path === '') throw new RangeError('the SQLite database path is empty');
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(options.path);
    this.#db.exec(sql.CONNECTION_PRAGMAS);
    this.#createSubmission = this.#db.transaction((submission) => this.#insertSubmission(submission));
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

  listSubmissionsToBuild(limit: number): Promise<readonly SubmissionRecord[]> {
    return settle(() => this.#sql.selectToBuild.all(limit).map(toRecord));
  }

  recordDocument(document: DocumentRecord, event: NewEvent): Promise<boolean> {
    return settle(() =>
      this.#db
        .transaction(() => {
          if (!this.#transition(document.submissionId, 'received', 'built', event)) return false;
          this.#sql.insertDocument.run({ ...document, xml: Buffer.from(document.xml), pdf: document.pdf === null ? null : Buffer.from(document.pdf), builtAt: document.builtAt.toISOString() });
          return true;
        })
        .immediate(),
    );
  }

  recordBuildFailure(submissionId: string, event: NewEvent): Promise<boolean> {
    return settle(() => this.#db.transaction(() => this.#transition(submissionId, 'received', 'failed', event)).immediate());
  }

  getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined> {
    return settle(() => {
      const row = this.#sql.selectDocument.get(tenantId, submissionId);
      return row === undefined ? undefined : toDocument(row);
    });
  }

  recordDelivery(delivery: DeliveryRecord, event: NewEvent): Promise<boolean> {
    return settle(() =>
      this.#db
        .transaction(() => {
          if (this.#sql.submissionExists.get(delivery.submissionId) === undefined) return false;
          this.#sql.upsertDelivery.run({ ...delivery, detail: JSON.stringify(delivery.detail), updatedAt: delivery.updatedAt.toISOString() });
          this.#sql.appendEvent.run(delivery.submissionId, event.type, event.at.toISOString(), event.actor, JSON.stringify(event.data), delivery.submissionId);
          return true;
        })
        .immediate(),
    );
  }

  listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined> {
    return settle(() => (this.#sql.tenantSubmissionExists.get(tenantId, submissionId) === undefined ? undefined : this.#sql.selectDeliveries.all(submissionId).map(toDelivery)));
  }

  findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]> {
    return settle(() => this.#sql.selectDeliveriesByReference.all(reference).map(toDelivery));
  }

  /** Inside a transaction: moves the submission and appends the event, or does nothing and says so. */
  #transition(submissionId: string, from: SubmissionStatus, to: SubmissionStatus, event: NewEvent): boolean {
    if (this.#sql.transition.run(to, event.at.toISOString(), submissionId, from).changes !== 1) return false;
    this.#sql.appendEvent.run(submissionId, event.type, event.at.toISOString(), event.actor, JSON.stringify(event.data), submissionId);
    return true;
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
      submission.events.forEach((event, index) => {
        this.#sql.insertEvent.run(
          submission.id,
          index + 1,
          event.type,
          event.at.toISOString(),
          event.actor,
          JSON.stringify(event.data),
        );
      });
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
