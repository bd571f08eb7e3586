import { expect } from 'chai';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import pg from 'pg';
import { CREATE_MIGRATIONS_TABLE } from '../../src/store/postgres/postgres-sql.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { ClaimedJob, NewSubmission } from '../../src/store/store.js';
import { newId } from '../../src/support/new-id.js';
import { postgresOrSkip, randomSchemaName, type TestPostgres } from '../support/postgres.js';
import { describeStoreContract } from './store-contract.js';

/** Runs SQL with pg directly, in the schema of the store under test. */
async function execIn(url: string, schema: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('PostgresStore', function () {
  let postgres: TestPostgres | undefined;

  before(async function () {
    postgres = await postgresOrSkip(this);
  });

  after(async function () {
    await postgres?.stop();
  });

  describeStoreContract('PostgreSQL', async () => {
    const server = postgres!;
    const schema = await server.createSchema();
    const store = new PostgresStore({ url: server.url, schema });
    return {
      store,
      // Names from migration 1 (postgres-migrations.ts).
      dropAppendOnlyGuard: 'DROP TRIGGER submission_events_no_update_or_delete ON submission_events',
      async execRaw(sql) {
        await execIn(server.url, schema, sql);
      },
      async cleanup({ testFailed }) {
        await store.close();
        await server.releaseSchema(schema, testFailed);
      },
    };
  });

  describe('with several processes', function () {
    let schema: string;
    let stores: PostgresStore[];

    beforeEach(function () {
      // Not created: migrate() must create it, from both stores at once.
      schema = randomSchemaName();
      stores = [0, 1].map(() => new PostgresStore({ url: postgres!.url, schema }));
    });

    afterEach(async function () {
      await Promise.all(stores.map((store) => store.close()));
      await postgres!.releaseSchema(schema, this.currentTest?.state === 'failed');
    });

    it('migrates a fresh schema once when processes start together', async function () {
      await Promise.all(stores.map((store) => store.migrate()));
      await Promise.all(stores.map((store) => store.migrate()));

      const applied = await execIn(postgres!.url, schema, 'SELECT version FROM schema_migrations ORDER BY version');
      expect(applied.rows).to.deep.equal(POSTGRES_MIGRATIONS.map(({ version }) => ({ version })));
    });

    it('creates exactly one submission per idempotency key under concurrent requests', async function () {
      await Promise.all(stores.map((store) => store.migrate()));
      const keys = Array.from({ length: 20 }, (_, index) => `key-${index}`);
      const createdAt = new Date();

      const results = await Promise.all(
        keys.flatMap((idempotencyKey) =>
          stores.map((store) =>
            store.createSubmission({
              id: newId('sub', createdAt),
              tenantId: 'clinic-lyon',
              idempotencyKey,
              requestHash: 'a'.repeat(64),
              requestId: 'req_1',
              actType: 'teleconsultation',
              input: { idempotencyKey },
              createdAt,
              events: [{ type: 'received', at: createdAt, actor: 'apikey:k_1', data: {} }],
            }),
          ),
        ),
      );

      for (const [index, key] of keys.entries()) {
        const pair = results.slice(index * 2, index * 2 + 2);
        expect(pair.filter((result) => result.created), key).to.have.length(1);
        expect(pair[0]!.submission, key).to.deep.equal(pair[1]!.submission);
      }
      const counts = await execIn(
        postgres!.url,
        schema,
        'SELECT (SELECT count(*)::int FROM submissions) AS submissions, (SELECT count(*)::int FROM submission_events) AS events',
      );
      expect(counts.rows).to.deep.equal([{ submissions: 20, events: 20 }]);
      const jobs = await execIn(postgres!.url, schema, 'SELECT count(*)::int AS jobs FROM jobs');
      expect(jobs.rows).to.deep.equal([{ jobs: 20 }]);
    });

    it('never gives the same job to two processes claiming at once, and gives them all', async function () {
      await Promise.all(stores.map((store) => store.migrate()));
      const createdAt = new Date(Date.now() - 1000);
      const total = 200;
      for (let i = 0; i < total; i++) await stores[0]!.createSubmission(aSubmission(createdAt));
      const LOOPS_PER_STORE = 4;

      /** Claims batches of 10 until a claim comes back empty. */
      const drain = async (store: PostgresStore, owner: string): Promise<ClaimedJob[]> => {
        const claimed: ClaimedJob[] = [];
        for (;;) {
          const batch = await store.claimJobs({ owner, now: new Date(), leaseMs: 600_000, limit: 10, kinds: ['build'] });
          if (batch.length === 0) return claimed;
          claimed.push(...batch);
        }
      };
      const results = await Promise.all(stores.flatMap((store, s) => Array.from({ length: LOOPS_PER_STORE }, (_, l) => drain(store, `process-${s}:${l}`))));

      const ids = results.flat().map((job) => job.id);
      expect(new Set(ids).size, 'claimed twice').to.equal(ids.length);
      expect(ids).to.have.length(total);
      expect(results.flat().every((job) => job.attempts === 1)).to.equal(true);
      // Both processes took part (a claim of one does not block the other).
      expect(results.slice(0, LOOPS_PER_STORE).flat().length).to.be.greaterThan(0);
      expect(results.slice(LOOPS_PER_STORE).flat().length).to.be.greaterThan(0);
    });
  });

  describe('upgrading to outbox jobs (migration 4)', function () {
    let schema: string;
    let store: PostgresStore | undefined;

    beforeEach(async function () {
      schema = await postgres!.createSchema();
    });

    afterEach(async function () {
      await store?.close();
      await postgres!.releaseSchema(schema, this.currentTest?.state === 'failed');
    });

    it('gives the received submissions their build job and keeps the older events as legacy', async function () {
      const url = postgres!.url;
      await execIn(url, schema, CREATE_MIGRATIONS_TABLE);
      for (const migration of POSTGRES_MIGRATIONS.filter(({ version }) => version < 4)) {
        await execIn(url, schema, migration.sql);
        await execIn(url, schema, `INSERT INTO schema_migrations VALUES (${String(migration.version)}, '${migration.name}', now())`);
      }
      const columns = 'id, tenant_id, status, act_type, idempotency_key, request_hash, request_id, input, created_at, updated_at';
      await execIn(
        url,
        schema,
        `INSERT INTO submissions (${columns}) VALUES
          ('sub_01', 't', 'received', 'tlc', NULL, 'h', 'r1', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
          ('sub_02', 't', 'delivered', 'tlc', NULL, 'h', 'r2', '{}', '2026-01-01T00:00:01Z', '2026-01-01T00:00:05Z');
        INSERT INTO submission_events VALUES ('sub_01', 1, 'received', '2026-01-01T00:00:00Z', 'apikey:k', '{}')`,
      );

      store = new PostgresStore({ url, schema });
      await store.migrate();

      expect((await store.listJobs('t', 'sub_01'))?.map((job) => [job.kind, job.state, job.attempts, job.runAt.toISOString()])).to.deep.equal([['build', 'ready', 0, '2026-01-01T00:00:00.000Z']]);
      expect(await store.listJobs('t', 'sub_02')).to.deep.equal([]);
      expect((await store.listEvents('t', 'sub_01'))?.map((event) => event.hash)).to.deep.equal(['']);
    });
  });
});

function aSubmission(createdAt: Date): NewSubmission {
  return {
    id: newId('sub', createdAt),
    tenantId: 'clinic-lyon',
    idempotencyKey: null,
    requestHash: 'a'.repeat(64),
    requestId: 'req_1',
    actType: 'teleconsultation',
    input: {},
    createdAt,
    events: [{ type: 'received', at: createdAt, actor: 'apikey:k_1', data: {} }],
  };
}
