import { expect } from 'chai';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js';

describe('store migrations', function () {
  for (const [backend, migrations] of [
    ['SQLite', SQLITE_MIGRATIONS],
    ['PostgreSQL', POSTGRES_MIGRATIONS],
  ] as const) {
    it(`numbers the ${backend} migrations 1, 2, 3… without gaps`, function () {
      expect(migrations.map((migration) => migration.version)).to.deep.equal(migrations.map((_, index) => index + 1));
    });
  }

  it('keeps both backends at the same versions, under the same names', function () {
    const versionsAndNames = (migrations: typeof SQLITE_MIGRATIONS) => migrations.map(({ version, name }) => ({ version, name }));
    expect(versionsAndNames(POSTGRES_MIGRATIONS)).to.deep.equal(versionsAndNames(SQLITE_MIGRATIONS));
  });
});
