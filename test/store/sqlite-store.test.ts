import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js';
import { CREATE_MIGRATIONS_TABLE } from '../../src/store/sqlite/sqlite-sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract } from './store-contract.js';

async function temporaryDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'passerelle-sqlite-'));
}

describe('SqliteStore', function () {
  describeStoreContract('SQLite', async () => {
    const directory = await temporaryDirectory();
    const path = join(directory, 'store.db');
    const store = new SqliteStore({ path });
    return {
      store,
      // Names from migration 1 (sqlite-migrations.ts).
      dropAppendOnlyGuard: 'DROP TRIGGER submission_events_no_update; DROP TRIGGER submission_events_no_delete;',
      execRaw: (sql) =>
        new Promise((resolve) => {
          const db = new Database(path);
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
          resolve();
        }),
      async cleanup({ testFailed }) {
        await store.close();
        if (testFailed) console.log(`      kept SQLite database ${path} of the failed test for inspection`);
        else await rm(directory, { recursive: true, force: true });
      },
    };
  });

  describe('on a file', function () {
    let directory: string;

    beforeEach(async function () {
      directory = await temporaryDirectory();
    });

    afterEach(async function () {
      await rm(directory, { recursive: true, force: true });
    });

    it('runs with WAL, full synchronous commits, foreign keys and a busy timeout', async function () {
      const store = new SqliteStore({ path: join(directory, 'store.db') });
      await store.migrate();

      expect(await store.pragmas()).to.deep.equal({ journalMode: 'wal', synchronous: 2, foreignKeys: true, busyTimeoutMs: 5000 });
      await store.close();
    });

    it('creates the missing directories of its path', async function () {
      const store = new SqliteStore({ path: join(directory, 'a', 'b', 'store.db') });
      await store.migrate();
      await store.ping();
      await store.close();
    });

    it('sees the data of another store on the same file', async function () {
      const path = join(directory, 'store.db');
      const writer = new SqliteStore({ path });
      const reader = new SqliteStore({ path });
      await Promise.all([writer.migrate(), reader.migrate()]);
      const key = { id: 'k_1', tenantId: 't', role: 'admin', label: 'ops', secretHash: Buffer.alloc(32), createdAt: new Date(), revokedAt: null } as const;

      await writer.createApiKey(key);

      expect(await reader.findApiKey('k_1')).to.deep.equal(key);
      await Promise.all([writer.close(), reader.close()]);
    });

    it('gives the received submissions their build job when upgrading to outbox jobs (migration 4), keeping the older events as legacy', async function () {
      const path = join(directory, 'store.db');
      const db = new Database(path);
      db.exec(CREATE_MIGRATIONS_TABLE);
      for (const migration of SQLITE_MIGRATIONS.filter(({ version }) => version < 4)) {
        db.exec(migration.sql);
        db.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00.000Z')").run(migration.version, migration.name);
      }
      db.exec(`
        INSERT INTO submissions (id, tenant_id, status, act_type, idempotency_key, request_hash, request_id, input, created_at, updated_at) VALUES
          ('sub_01', 't', 'received', 'tlc', NULL, 'h', 'r1', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
          ('sub_02', 't', 'delivered', 'tlc', NULL, 'h', 'r2', '{}', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:05.000Z');
        INSERT INTO submission_events VALUES ('sub_01', 1, 'received', '2026-01-01T00:00:00.000Z', 'apikey:k', '{}');
      `);
      db.close();

      const store = new SqliteStore({ path });
      await store.migrate();

      expect((await store.listJobs('t', 'sub_01'))?.map((job) => [job.kind, job.state, job.attempts, job.runAt.toISOString()])).to.deep.equal([['build', 'ready', 0, '2026-01-01T00:00:00.000Z']]);
      expect(await store.listJobs('t', 'sub_02')).to.deep.equal([]);
      expect((await store.listEvents('t', 'sub_01'))?.map((event) => event.hash)).to.deep.equal(['']);
      await store.close();
    });
  });

  it('works in memory', async function () {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.ping();
    expect(await store.listApiKeys()).to.deep.equal([]);
    await store.close();
  });

  it('refuses an empty path', function () {
    expect(() => new SqliteStore({ path: '' })).to.throw(RangeError);
  });
});
