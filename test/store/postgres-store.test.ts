import { expect } from 'chai';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
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
    });
  });
});
