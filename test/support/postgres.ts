/**
 * A PostgreSQL server for integration tests, shared by every test file of the run.
 *
 * Uses the server of the dev/CI machines (`PASSERELLE_TEST_POSTGRES_URL`, by default
 * postgres://postgres@127.0.0.1:5432/test) when it accepts connections; otherwise starts a private,
 * throw-away server from Debian's packages, stopped and deleted when the test process exits.
 * Each suite works in its own schema, so test files never see each other's rows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEBIAN_POSTGRES = '/usr/lib/postgresql';
const SERVER_START_TIMEOUT_S = 30;

const run = promisify(execFile);

export interface TestPostgres {
  /** URL of the server's test database, without any schema. */
  readonly url: string;
  /** Creates an empty schema with a fresh name `t_<hex>` and returns that name. */
  createSchema(): Promise<string>;
  dropSchema(name: string): Promise<void>;
  /** Drops the schema, or keeps it (and prints its name) for inspection when the test failed. */
  releaseSchema(name: string, testFailed: boolean): Promise<void>;
  /** Releases this handle's connections; a private server itself lives until the process exits. */
  stop(): Promise<void>;
}

/** No server is reachable and none could be started here. */
export class PostgresUnavailableError extends Error {}

let serverUrl: Promise<string> | undefined;

export async function withPostgres(): Promise<TestPostgres> {
  // A failed start is remembered too: later suites skip at once instead of retrying.
  serverUrl ??= findOrStartServer();
  const url = await serverUrl;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const dropSchema = async (name: string): Promise<void> => {
    await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  };
  return {
    url,
    async createSchema() {
      const name = randomSchemaName();
      await admin.query(`CREATE SCHEMA ${name}`);
      return name;
    },
    dropSchema,
    async releaseSchema(name, testFailed) {
      if (testFailed) {
        console.log(`      kept PostgreSQL schema ${name} of the failed test for inspection`);
        return;
      }
      await dropSchema(name);
    },
    stop: () => admin.end(),
  };
}

/**
 * For a mocha `before` hook: the server, or the suite is skipped (outside CI) or fails (in CI,
 * where a silently skipped PostgreSQL suite would hide regressions).
 */
export async function postgresOrSkip(context: Mocha.Context): Promise<TestPostgres> {
  try {
    return await withPostgres();
  } catch (error) {
    if (!(error instanceof PostgresUnavailableError)) throw error;
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI: ${error.message}`, { cause: error });
    console.warn(`      skipping the PostgreSQL tests: ${error.message}`);
    context.skip();
  }
}

/** Lower-case letters and digits only, so it never needs quoting. */
export function randomSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

async function findOrStartServer(): Promise<string> {
  const url = process.env.PASSERELLE_TEST_POSTGRES_URL ?? DEFAULT_URL;
  if (await acceptsConnections(url)) return url;
  try {
    return await startPrivateServer();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PostgresUnavailableError(`no server at ${url}, and no private server: ${reason}`, { cause: error });
  }
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startPrivateServer(): Promise<string> {
  const bin = postgresBinDirectory();
  // initdb refuses to run as root: the server then belongs to the postgres system user.
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const command = (program: string, args: string[]): [string, string[]] => {
    const [first = program, ...rest] = [...asUser, join(bin, program), ...args];
    return [first, rest];
  };
  const root = mkdtempSync(join(tmpdir(), 'passerelle-pg-'));
  const dataDirectory = join(root, 'data');
  const logFile = join(root, 'server.log');
  process.once('exit', () => {
    try {
      if (existsSync(join(dataDirectory, 'postmaster.pid'))) {
        execFileSync(...command('pg_ctl', ['-D', dataDirectory, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  if (asUser.length > 0) await run('chown', ['postgres:', root]);
  const port = await freePort();
  await run(...command('initdb', ['-D', dataDirectory, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-locale', '-E', 'UTF8']));
  // Durability settings off: this server's data dies with the test run anyway.
  const serverOptions = `-k ${root} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  try {
    await run(...command('pg_ctl', ['-D', dataDirectory, '-l', logFile, '-o', serverOptions, '-w', '-t', String(SERVER_START_TIMEOUT_S), 'start']));
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no server log)';
    throw new Error(`pg_ctl start failed; server log:\n${log}`, { cause: error });
  }
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/** The newest installed major version. */
function postgresBinDirectory(): string {
  const versions = existsSync(DEBIAN_POSTGRES)
    ? readdirSync(DEBIAN_POSTGRES)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_POSTGRES, name, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`initdb and pg_ctl not found under ${DEBIAN_POSTGRES}/*/bin`);
  return join(DEBIAN_POSTGRES, newest, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no TCP port assigned'));
        else resolve(address.port);
      });
    });
  });
}
