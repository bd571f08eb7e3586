/**
 * Durability: a gateway process is killed (SIGKILL, no chance to flush anything) while it accepts
 * a burst of reports; every submission it acknowledged with 202 must be in the store afterwards,
 * complete with its events, and the restarted gateway must serve it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createApiKey } from '../../src/auth/api-keys.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { fixture } from '../support/fixtures.js';
import { postgresOrSkip } from '../support/postgres.js';

const BURST = 400;
const CONCURRENCY = 16;
const KILL_AFTER_ACKS = 120;

interface ServerProcess { readonly child: ChildProcess; readonly url: string }

function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'serve', '--port', '0'], {
    env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Passerelle ready on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('exit', (code) => { reject(new Error(`gateway exited with ${String(code)} before it was ready:\n${output}`)); });
  });
}

async function burstThenKill(server: ServerProcess, token: string): Promise<Map<string, string>> {
  const acknowledged = new Map<string, string>(); // idempotency key → submission id
  const body = JSON.stringify(fixture('teleconsultation'));
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (next < BURST) {
      const key = `crash-${next++}`;
      try {
        const res = await fetch(`${server.url}/v1/act-reports`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key }, body });
        const json = (await res.json()) as { id?: string };
        if (res.status === 202 && json.id !== undefined) acknowledged.set(key, json.id);
      } catch {
        // Connection refused or reset after the kill: not acknowledged, nothing to check.
      }
      if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await new Promise((resolve) => { if (server.child.exitCode !== null || server.child.signalCode !== null) resolve(undefined); else server.child.once('exit', resolve); });
  return acknowledged;
}

async function expectAllPresent(store: Store, acknowledged: Map<string, string>): Promise<void> {
  for (const [key, id] of acknowledged) {
    const stored = await store.getSubmission('crash', id);
    expect(stored, `acknowledged submission ${id} lost`).to.not.equal(undefined);
    expect(stored?.idempotencyKey).to.equal(key);
    const events = await store.listEvents('crash', id);
    // The build step of the restarted gateway may already have built it.
    expect(events?.map((e) => e.type).slice(0, 2)).to.deep.equal(['received', 'validated']);
  }
  // Nothing half-written: every stored submission, acknowledged or not, has both intake events.
  let cursor: string | undefined;
  do {
    const page = await store.listSubmissions({ tenantId: 'crash', limit: 200, ...(cursor === undefined ? {} : { cursor }) });
    for (const s of page.items) expect((await store.listEvents('crash', s.id))?.slice(0, 2).map((e) => e.type), s.id).to.deep.equal(['received', 'validated']);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`a gateway killed during a burst of reports (${kind})`, function () {
    this.timeout(120_000);
    let env: Record<string, string>;
    let reopen: () => Store;
    let cleanup: () => Promise<void> = () => Promise.resolve();
    const children: ChildProcess[] = [];

    before(async function () {
      if (kind === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'passerelle-crash-'));
        const url = `sqlite:${join(dir, 'passerelle.db')}`;
        env = { PASSERELLE_STORE_URL: url };
        reopen = () => openStore(url);
        cleanup = () => { rmSync(dir, { recursive: true, force: true }); return Promise.resolve(); };
      } else {
        const pg = await postgresOrSkip(this);
        const schema = await pg.createSchema();
        env = { PASSERELLE_STORE_URL: pg.url, PASSERELLE_STORE_SCHEMA: schema };
        reopen = () => openStore(pg.url, { postgresSchema: schema });
        cleanup = async () => { await pg.dropSchema(schema); await pg.stop(); };
      }
    });
    after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await cleanup();
    });

    it('keeps every acknowledged submission, whole, and serves it after a restart', async () => {
      const setup = reopen();
      await setup.migrate();
      const { token } = await createApiKey(setup, { tenantId: 'crash', role: 'submitter', label: 'crash test' });
      await setup.close();

      const first = await startServer(env);
      children.push(first.child);
      const acknowledged = await burstThenKill(first, token);
      expect(acknowledged.size).to.be.at.least(KILL_AFTER_ACKS);
      expect(first.child.signalCode).to.equal('SIGKILL');

      const store = reopen();
      try {
        await expectAllPresent(store, acknowledged);
      } finally {
        await store.close();
      }

      const second = await startServer(env);
      children.push(second.child);
      for (const id of [...acknowledged.values()].slice(-10)) {
        const res = await fetch(`${second.url}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).to.equal(200);
      }
      second.child.kill('SIGTERM');
    });
  });
}
