/** Messages between SqliteStore (gateway thread) and sqlite-worker.ts (the thread owning the file). */
import type { Store } from '../store.js';
import type { SqliteDatabase } from './sqlite-database.js';

type Operations = Omit<Store, 'kind'> & Pick<SqliteDatabase, 'pragmas'>;
export type Operation = keyof Operations;

export type WorkerRequest = {
  [K in Operation]: { readonly id: number; readonly op: K; readonly args: Parameters<Operations[K]> };
}[Operation];

export type WorkerReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: WireError };

/** An error as it crosses the thread boundary (a SqliteError would arrive as a plain object). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** RangeErrors stay RangeErrors (callers map `invalid cursor` to a 400); others become Errors. */
export function fromWireError(wire: WireError): Error {
  const error = wire.name === 'RangeError' ? new RangeError(wire.message) : new Error(wire.message);
  if (wire.name !== 'RangeError') error.name = wire.name;
  if (wire.code !== undefined) Object.assign(error, { code: wire.code });
  return error;
}
