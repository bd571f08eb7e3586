/**
 * A real gateway for HTTP tests: the production composition (config → store → app → server) on
 * an ephemeral loopback port, over SQLite in a temporary directory or PostgreSQL in a fresh schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../src/auth/api-keys.js';
import { loadConfig } from '../../src/config/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { openStore } from '../../src/store/open-store.js';
import { createLogger } from '../../src/support/logger.js';
import { postgresOrSkip } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  /** Bearer tokens: a submitter, support and admin of tenant "acme", and a submitter of tenant "globex". */
  readonly keys: { readonly submitter: string; readonly support: string; readonly admin: string; readonly otherTenant: string };
  close(testFailed?: boolean): Promise<void>;
}

export async function startTestGateway(context: Mocha.Context, kind: StoreKind, env: Record<string, string> = {}, logSink?: (line: string) => void): Promise<TestGateway> {
  let storeUrl: string;
  let release: (failed: boolean) => Promise<void>;
  let store;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'passerelle-test-'));
    storeUrl = `sqlite:${join(dir, 'passerelle.db')}`;
    store = openStore(storeUrl);
    release = () => { rmSync(dir, { recursive: true, force: true }); return Promise.resolve(); };
  } else {
    const pg = await postgresOrSkip(context);
    const schema = await pg.createSchema();
    storeUrl = pg.url;
    store = openStore(storeUrl, { postgresSchema: schema });
    release = async (failed) => { await pg.releaseSchema(schema, failed); await pg.stop(); };
  }
  await store.migrate();
  const config = loadConfig({ PASSERELLE_PORT: '0', PASSERELLE_LOG_LEVEL: 'silent', PASSERELLE_STORE_URL: storeUrl, ...env });
  const logger = logSink === undefined ? createLogger('silent') : createLogger('debug', { write: logSink });
  const gateway = await startGateway(config, logger, store);
  const key = async (tenantId: string, role: 'submitter' | 'support' | 'admin'): Promise<string> => (await createApiKey(store, { tenantId, role, label: `test ${role}` })).token;
  const keys = { submitter: await key('acme', 'submitter'), support: await key('acme', 'support'), admin: await key('acme', 'admin'), otherTenant: await key('globex', 'submitter') };
  return {
    url: gateway.url,
    gateway,
    keys,
    async close(testFailed = false) {
      await gateway.close();
      await release(testFailed);
    },
  };
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any; // response bodies are inspected freely
}

export async function call(url: string, init: { method?: string; token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), ...init.headers };
  let body: string | Blob | undefined = typeof init.rawBody === 'string' || init.rawBody === undefined ? init.rawBody : new Blob([new Uint8Array(init.rawBody)]);
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (metrics, HTML): keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
