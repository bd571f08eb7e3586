import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
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
