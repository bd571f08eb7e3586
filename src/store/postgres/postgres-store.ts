/**
 * Store on PostgreSQL, shared by several gateway processes. Every write is a single statement or
 * an explicit transaction, and correctness under concurrency rests on constraints (unique
 * idempotency key) and an advisory lock (migrations), never on checks made in JavaScript.
 */
import pg from 'pg';
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

// pg parses TIMESTAMPTZ into Date and JSONB into values already.
const { toSummary, toRecord, toEvent, toApiKey, toDocument, toDelivery } = rowMappers<Date, Json>({ time: (value) => value, json: (value) => value });

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
    const events = submission.events;
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
      events.map((event) => JSON.stringify(event.data)),
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

  async listSubmissionsToBuild(limit: number): Promise<readonly SubmissionRecord[]> {
    const result = await this.#pool.query<RecordRow>(sql.SELECT_SUBMISSIONS_TO_BUILD, [limit]);
    return result.rows.map(toRecord);
  }

  recordDocument(document: DocumentRecord, event: NewEvent): Promise<boolean> {
    return this.#transaction(async (client) => {
      if (!(await transition(client, document.submissionId, 'received', 'built', event))) return false;
      await client.query(sql.INSERT_DOCUMENT, [document.submissionId, document.type, document.volet, document.documentId, document.setId, document.versionNumber, document.xml, document.pdf, document.builtAt.toISOString()]);
      return true;
    });
  }

  recordBuildFailure(submissionId: string, event: NewEvent): Promise<boolean> {
    return this.#transaction((client) => transition(client, submissionId, 'received', 'failed', event));
  }

  async getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined> {
    const result = await this.#pool.query<DocumentRow>(sql.SELECT_DOCUMENT, [tenantId, submissionId]);
    const row = result.rows[0];
    return row === undefined ? undefined : toDocument(row);
  }

  recordDelivery(delivery: DeliveryRecord, event: NewEvent): Promise<boolean> {
    return this.#transaction(async (client) => {
      if ((await client.query(sql.LOCK_SUBMISSION, [delivery.submissionId])).rowCount !== 1) return false;
      await client.query(sql.UPSERT_DELIVERY, [delivery.submissionId, delivery.destination, delivery.status, delivery.reference, JSON.stringify(delivery.detail), delivery.updatedAt.toISOString()]);
      await client.query(sql.APPEND_EVENT, [delivery.submissionId, event.type, event.at.toISOString(), event.actor, JSON.stringify(event.data)]);
      return true;
    });
  }

  async listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined> {
    if ((await this.#pool.query(sql.TENANT_SUBMISSION_EXISTS, [tenantId, submissionId])).rowCount !== 1) return undefined;
    return (await this.#pool.query<DeliveryRow>(sql.SELECT_DELIVERIES, [submissionId])).rows.map(toDelivery);
  }

  async findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]> {
    return (await this.#pool.query<DeliveryRow>(sql.SELECT_DELIVERIES_BY_REFERENCE, [reference])).rows.map(toDelivery);
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

/** Inside a transaction: moves the submission and appends the event, or does nothing and says so. */
async function transition(client: pg.PoolClient, submissionId: string, from: SubmissionStatus, to: SubmissionStatus, event: NewEvent): Promise<boolean> {
  const moved = await client.query(sql.TRANSITION_SUBMISSION, [to, event.at.toISOString(), submissionId, from]);
  if (moved.rowCount !== 1) return false;
  await client.query(sql.APPEND_EVENT, [submissionId, event.type, event.at.toISOString(), event.actor, JSON.stringify(event.data)]);
  return true;
}
