/**
 * Store on a single SQLite file (development, small single-node installs). The connection lives in
 * a worker thread (sqlite-worker.ts): a commit with synchronous=FULL waits for the disk, and that
 * wait must not stall the gateway's event loop. Concurrent submissions share one commit.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../support/start-worker.js';
import type { JobKind } from '../../domain/submission.js';
import type {
  ApiKeyRecord,
  ClaimQuery,
  ClaimedJob,
  CreateSubmissionResult,
  DeliveryRecord,
  DocumentRecord,
  JobRecord,
  JobState,
  ListSubmissionsQuery,
  NewSubmission,
  PauseRecord,
  ReplayFilter,
  Store,
  SubmissionChange,
  SubmissionEvent,
  SubmissionPage,
  SubmissionRecord,
} from '../store.js';
import type { SqliteDatabaseOptions, SqlitePragmas } from './sqlite-database.js';
import { fromWireError, type Operation, type WorkerReply, type WorkerRequest } from './sqlite-protocol.js';

export type SqliteStoreOptions = SqliteDatabaseOptions;
export type { SqlitePragmas };

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  #nextId = 1;
  /** Set once the worker is gone: every later call fails with it. */
  #stopped: Error | undefined;
  readonly #exited: Promise<void>;

  constructor(options: SqliteStoreOptions) {
    if (options.path === '') throw new RangeError('the SQLite database path is empty');
    this.#worker = startWorker(import.meta.url, 'sqlite-worker', { path: options.path });
    this.#worker.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.ok) pending?.resolve(reply.value);
      else pending?.reject(fromWireError(reply.error));
    });
    this.#worker.on('error', (error) => {
      this.#stop(new Error(`the SQLite worker failed: ${error.message}`, { cause: error }));
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#stop(new Error(`the SQLite worker stopped (exit code ${code})`));
        resolve();
      });
    });
  }

  #stop(error: Error): void {
    this.#stopped ??= error;
    for (const pending of this.#pending.values()) pending.reject(this.#stopped);
    this.#pending.clear();
  }

  #call<T>(op: Operation, ...args: readonly unknown[]): Promise<T> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const request = { id, op, args } as WorkerRequest;
      this.#worker.postMessage(request);
    });
  }

  migrate(): Promise<void> {
    return this.#call('migrate');
  }

  ping(): Promise<void> {
    return this.#call('ping');
  }

  async close(): Promise<void> {
    if (this.#stopped === undefined) await this.#call('close');
    await this.#exited;
  }

  pragmas(): Promise<SqlitePragmas> {
    return this.#call('pragmas');
  }

  createSubmission(submission: NewSubmission): Promise<CreateSubmissionResult> {
    return this.#call('createSubmission', submission);
  }

  getSubmission(tenantId: string, id: string): Promise<SubmissionRecord | undefined> {
    return this.#call('getSubmission', tenantId, id);
  }

  findSubmissionByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<SubmissionRecord | undefined> {
    return this.#call('findSubmissionByIdempotencyKey', tenantId, idempotencyKey);
  }

  listSubmissions(query: ListSubmissionsQuery): Promise<SubmissionPage> {
    return this.#call('listSubmissions', query);
  }

  listEvents(tenantId: string, submissionId: string): Promise<readonly SubmissionEvent[] | undefined> {
    return this.#call('listEvents', tenantId, submissionId);
  }

  async getDocument(tenantId: string, submissionId: string): Promise<DocumentRecord | undefined> {
    const document = await this.#call<DocumentRecord | undefined>('getDocument', tenantId, submissionId);
    return document === undefined ? undefined : { ...document, xml: asBuffer(document.xml), pdf: document.pdf === null ? null : asBuffer(document.pdf) };
  }

  listDeliveries(tenantId: string, submissionId: string): Promise<readonly DeliveryRecord[] | undefined> {
    return this.#call('listDeliveries', tenantId, submissionId);
  }

  findDeliveriesByReference(reference: string): Promise<readonly DeliveryRecord[]> {
    return this.#call('findDeliveriesByReference', reference);
  }

  claimJobs(query: ClaimQuery): Promise<readonly ClaimedJob[]> {
    return this.#call('claimJobs', query);
  }

  renewLeases(owner: string, jobIds: readonly number[], until: Date, now: Date): Promise<number> {
    return this.#call('renewLeases', owner, jobIds, until, now);
  }

  applyChange(change: SubmissionChange): Promise<boolean> {
    return this.#call('applyChange', change);
  }

  listJobs(tenantId: string, submissionId: string): Promise<readonly JobRecord[] | undefined> {
    return this.#call('listJobs', tenantId, submissionId);
  }

  findSubmissionsToReplay(filter: ReplayFilter): Promise<readonly string[]> {
    return this.#call('findSubmissionsToReplay', filter);
  }

  countJobs(now: Date): Promise<readonly { readonly kind: JobKind; readonly state: JobState; readonly count: number; readonly overdue: number }[]> {
    return this.#call('countJobs', now);
  }

  pauseJobs(pause: PauseRecord): Promise<void> {
    return this.#call('pauseJobs', pause);
  }

  resumeJobs(kind: JobKind): Promise<boolean> {
    return this.#call('resumeJobs', kind);
  }

  listPauses(): Promise<readonly PauseRecord[]> {
    return this.#call('listPauses');
  }

  listAuditEvents(after: { readonly submissionId: string; readonly seq: number } | undefined, limit: number): Promise<readonly SubmissionEvent[]> {
    return this.#call('listAuditEvents', after, limit);
  }

  createApiKey(key: ApiKeyRecord): Promise<void> {
    return this.#call('createApiKey', key);
  }

  async findApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const key = await this.#call<ApiKeyRecord | undefined>('findApiKey', id);
    return key === undefined ? undefined : withBufferHash(key);
  }

  async listApiKeys(): Promise<readonly ApiKeyRecord[]> {
    return (await this.#call<ApiKeyRecord[]>('listApiKeys')).map(withBufferHash);
  }

  revokeApiKey(id: string, at: Date): Promise<boolean> {
    return this.#call('revokeApiKey', id, at);
  }
}

/** A Buffer crosses a thread boundary as a plain Uint8Array; give it back its Buffer type. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function withBufferHash(key: ApiKeyRecord): ApiKeyRecord {
  return { ...key, secretHash: asBuffer(key.secretHash) };
}
