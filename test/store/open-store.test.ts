import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { openStore } from '../../src/store/open-store.js';

describe('openStore', function () {
  let directory: string;

  beforeEach(async function () {
    directory = await mkdtemp(join(tmpdir(), 'passerelle-open-store-'));
  });

  afterEach(async function () {
    await rm(directory, { recursive: true, force: true });
  });

  it('opens PostgreSQL for postgres:// and postgresql:// URLs, without connecting yet', async function () {
    for (const url of ['postgres://user:secret@127.0.0.1:1/db', 'postgresql://127.0.0.1:1/db']) {
      const store = openStore(url, { postgresSchema: 'passerelle', poolMax: 2 });
      expect(store.kind, url).to.equal('postgres');
      await store.close();
    }
  });

  it('opens SQLite for sqlite:, file: and plain paths', async function () {
    const path = join(directory, 'store.db');
    for (const url of [`sqlite:${path}`, `file:${path}`, pathToFileURL(path).href, path, 'sqlite::memory:', ':memory:']) {
      const store = openStore(url);
      expect(store.kind, url).to.equal('sqlite');
      await store.migrate();
      await store.close();
    }
  });

  it('refuses other URLs, naming the accepted forms without echoing credentials', function () {
    expect(() => openStore('mysql://admin:hunter2@db/passerelle'))
      .to.throw(Error, /postgres:\/\/.*sqlite:PATH.*file:PATH/)
      .and.property('message')
      .that.does.not.include('hunter2');
  });

  it('refuses a PostgreSQL schema name that would need quoting', function () {
    expect(() => openStore('postgres://127.0.0.1:1/db', { postgresSchema: 'Robert"; DROP' })).to.throw(RangeError);
  });
});
