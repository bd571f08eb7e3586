/**
 * The worker thread that owns the SQLite connection. Requests arrive as messages from SqliteStore;
 * submissions that arrive together are committed together (group commit: one fsync for the batch),
 * and any other request first commits the submissions queued before it, so every caller sees its
 * own writes in the order it made them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NewSubmission } from '../store.js';
import { SqliteDatabase } from './sqlite-database.js';
import { toWireError, type WorkerReply, type WorkerRequest } from './sqlite-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread');
const database = new SqliteDatabase({ path: (workerData as { path: string }).path });

let queued: { readonly id: number; readonly submission: NewSubmission }[] = [];

function reply(message: WorkerReply): void {
  port?.postMessage(message);
}

function commitQueued(): void {
  const batch = queued;
  queued = [];
  if (batch.length === 0) return;
  let results;
  try {
    results = database.createSubmissions(batch.map((item) => item.submission));
  } catch (error) {
    for (const item of batch) reply({ id: item.id, ok: false, error: toWireError(error) });
    return;
  }
  results.forEach((result, index) => {
    const id = batch[index]?.id ?? -1;
    reply(result.ok ? { id, ok: true, value: result.value } : { id, ok: false, error: toWireError(result.error) });
  });
}

port.on('message', (request: WorkerRequest) => {
  if (request.op === 'createSubmission') {
    // Messages already waiting are delivered before setImmediate callbacks run: they join this batch.
    if (queued.length === 0) setImmediate(commitQueued);
    queued.push({ id: request.id, submission: request.args[0] });
    return;
  }
  commitQueued();
  void (async () => {
    try {
      const value: unknown = await (database[request.op] as (...args: readonly unknown[]) => unknown)(...request.args);
      reply({ id: request.id, ok: true, value });
    } catch (error) {
      reply({ id: request.id, ok: false, error: toWireError(error) });
    }
    if (request.op === 'close') port.close();
  })();
});
