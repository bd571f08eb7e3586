/** Picks the Store implementation from the configured database URL. */
import { fileURLToPath } from 'node:url';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** PostgreSQL only: schema holding the tables. */
  readonly postgresSchema?: string;
  /** PostgreSQL only: connections per process. */
  readonly poolMax?: number;
}

const ACCEPTED_FORMS = 'postgres://…, postgresql://…, sqlite:PATH, file:PATH or a plain file path';

/** The store is not migrated yet: the caller runs migrate() when it is ready to. */
export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return new PostgresStore({
        url,
        ...(options.postgresSchema !== undefined && { schema: options.postgresSchema }),
        ...(options.poolMax !== undefined && { poolMax: options.poolMax }),
      });
    case 'sqlite':
      return new SqliteStore({ path: url.slice('sqlite:'.length) });
    case 'file':
      return new SqliteStore({ path: url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length) });
    case undefined:
      return new SqliteStore({ path: url });
    default:
      // Only the scheme is echoed: the rest of a URL may hold a password.
      throw new Error(`unsupported database URL scheme "${scheme}:": use ${ACCEPTED_FORMS}`);
  }
}
