/**
 * Real gateway processes for the pipeline's reliability tests (issue 8): `passerelle serve` run
 * from the sources as a child process, configured by environment variables only, and pointed at
 * a DMP and an MSSanté sandbox that live in the test process, so that the sandboxes and what they
 * received survive a kill -9 of the gateway, and at a store (SQLite file or PostgreSQL schema)
 * the test opens too. Reports are posted with an Idempotency-Key, so that one whose answer was
 * lost to a kill is sent again and still makes one submission.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/auth/api-keys.js';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { DEV_APPLICATION_MAILBOX, startConfiguredMssSandbox, type ConfiguredMssSandbox } from '../../src/cli/commands/sim.js';
import { TERMINAL_STATUSES, type SubmissionStatus } from '../../src/domain/submission.js';
import type { DmpSandbox } from '../../src/sim/dmp/sandbox-server.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { REPOSITORY_UNIQUE_ID, devPkiFolder, startTestSandbox, type DevPkiFolder } from './dmp.js';
import { fixture } from './fixtures.js';
import type { StoreKind } from './gateway.js';
import { postgresOrSkip } from './postgres.js';

const GATEWAY_ENTRY = ['--import', 'tsx', 'src/cli/entry.ts', 'serve'];
const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_LINE = /Passerelle ready on (https?:\/\/\S+)/;
/** A gateway started from the TypeScript sources compiles them first: allow for a slow machine. */
const START_TIMEOUT_MS = 30_000;
/** Lines of a child's output kept for the report of a failed test. */
const KEPT_LINES = 400;
const POST_TIMEOUT_MS = 30_000;
/** Between two tries of a report whose gateway is down, and between two looks at the store. */
const RETRY_PAUSE_MS = 100;
const POLL_MS = 500;
const PAGE = 200;

/**
 * Pipeline settings that make the tests quick: short back-off, a circuit that half-opens soon, a
 * lease that a killed process's jobs lose within seconds, an application mailbox read often.
 */
export const FAST_PIPELINE: Readonly<Record<string, string>> = {
  PASSERELLE_WORKER_POLL_MS: '50',
  PASSERELLE_WORKER_LEASE_MS: '5000',
  PASSERELLE_RETRY_BASE_MS: '100',
  PASSERELLE_RETRY_MAX_DELAY_MS: '1000',
  PASSERELLE_BREAKER_COOLDOWN_MS: '500',
  PASSERELLE_ACK_POLL_MS: '500',
  PASSERELLE_DMP_RESPONSE_TIMEOUT_MS: '10000',
  PASSERELLE_MSS_RESPONSE_TIMEOUT_MS: '10000',
};

/** The partners, in the test process: a development PKI, the DMP sandbox, the MSSanté sandbox (with Dovecot when installed). */
export interface Sandboxes {
  readonly pki: DevPkiFolder;
  readonly dmp: DmpSandbox;
  readonly mss: ConfiguredMssSandbox;
  close(): Promise<void>;
}

export async function startSandboxes(): Promise<Sandboxes> {
  const pki = devPkiFolder();
  const dmp = await startTestSandbox(pki);
  const mss = await startConfiguredMssSandbox({ pkiDir: pki.dir, port: 0, tls: 'implicit', mailbox: DEV_APPLICATION_MAILBOX });
  return {
    pki,
    dmp,
    mss,
    async close() {
      await dmp.close();
      await mss.close();
      pki.remove();
    },
  };
}

/** A store shared by the test and its gateway processes, migrated, with a submitter key of `tenantId`. */
export interface SharedStore {
  readonly kind: StoreKind;
  /** PASSERELLE_STORE_URL, and PASSERELLE_STORE_SCHEMA on PostgreSQL. */
  readonly env: Readonly<Record<string, string>>;
  /** The test's own handle on it. */
  readonly store: Store;
  readonly tenantId: string;
  readonly token: string;
  /** Closes the handle and drops the data (a failed test's PostgreSQL schema is kept, and named). */
  release(testFailed: boolean): Promise<void>;
}

/** PostgreSQL missing: the suite is skipped outside CI and fails in CI (postgresOrSkip). */
export async function sharedStore(context: Mocha.Context, kind: StoreKind, tenantId: string): Promise<SharedStore> {
  let env: Record<string, string>;
  let store: Store;
  let drop: (failed: boolean) => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'passerelle-pipeline-'));
    const url = `sqlite:${join(dir, 'passerelle.db')}`;
    env = { PASSERELLE_STORE_URL: url };
    store = openStore(url);
    drop = () => { rmSync(dir, { recursive: true, force: true }); return Promise.resolve(); };
  } else {
    const pg = await postgresOrSkip(context);
    const schema = await pg.createSchema();
    env = { PASSERELLE_STORE_URL: pg.url, PASSERELLE_STORE_SCHEMA: schema };
    store = openStore(pg.url, { postgresSchema: schema });
    drop = async (failed) => { await pg.releaseSchema(schema, failed); await pg.stop(); };
  }
  await store.migrate();
  const { token } = await createApiKey(store, { tenantId, role: 'submitter', label: 'pipeline test' });
  return {
    kind,
    env,
    store,
    tenantId,
    token,
    async release(testFailed) {
      await store.close();
      await drop(testFailed);
    },
  };
}

/**
 * The environment of a gateway process: its store, the sandboxes with the PKI's identities (ORG
 * SIGN signs, ORG AUTH_CLI authenticates to both partners), an ephemeral port, and `extra`
 * (FAST_PIPELINE, a configuration file…). PASSERELLE_* variables of the test's own environment
 * are left out so that a developer's settings do not change what is tested.
 */
export function gatewayEnv(sandboxes: Sandboxes, store: SharedStore, dataDir: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const { pki, dmp, mss } = sandboxes;
  const file = (name: string): string => join(pki.dir, name);
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !entry[0].startsWith('PASSERELLE_') && entry[1] !== undefined));
  return {
    ...inherited,
    PASSERELLE_HOST: '127.0.0.1',
    PASSERELLE_PORT: '0',
    PASSERELLE_LOG_LEVEL: 'warn',
    PASSERELLE_DATA_DIR: dataDir,
    ...store.env,
    PASSERELLE_SIGNING_PKCS12_FILE: file(DEV_PKI_FILES.orgSign),
    PASSERELLE_SIGNING_PASSPHRASE_FILE: file(DEV_PKI_FILES.passphrase),
    PASSERELLE_TRUST_FILE: file(DEV_PKI_FILES.trust),
    PASSERELLE_DMP_URL: dmp.url,
    PASSERELLE_DMP_PKCS12_FILE: file(DEV_PKI_FILES.orgAuth),
    PASSERELLE_DMP_PASSPHRASE_FILE: file(DEV_PKI_FILES.passphrase),
    PASSERELLE_DMP_TRUST_FILE: file(DEV_PKI_FILES.trust),
    PASSERELLE_DMP_REPOSITORY_UNIQUE_ID: REPOSITORY_UNIQUE_ID,
    PASSERELLE_MSS_SMTP_HOST: mss.smtp.host,
    PASSERELLE_MSS_SMTP_PORT: String(mss.smtp.port),
    PASSERELLE_MSS_SMTP_TLS: 'implicit',
    ...(mss.imap === undefined ? {} : { PASSERELLE_MSS_IMAP_HOST: mss.imap.host, PASSERELLE_MSS_IMAP_PORT: String(mss.imap.port) }),
    PASSERELLE_MSS_FROM: mss.mailbox,
    PASSERELLE_MSS_PKCS12_FILE: file(DEV_PKI_FILES.orgAuth),
    PASSERELLE_MSS_PASSPHRASE_FILE: file(DEV_PKI_FILES.passphrase),
    PASSERELLE_MSS_TRUST_FILE: file(DEV_PKI_FILES.trust),
    ...extra,
  };
}

/** One `passerelle serve` child process. */
export class GatewayProcess {
  readonly #lines: string[] = [];
  #partial = '';

  private constructor(readonly name: string, readonly child: ChildProcess, readonly url: string, output: string) {
    this.#keep(output);
  }

  /** Resolves on the ready line; rejects with the child's output if it exits or stays silent. */
  static start(name: string, env: Readonly<Record<string, string>>): Promise<GatewayProcess> {
    const child = spawn(process.execPath, GATEWAY_ENTRY, { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let output = '';
      let gateway: GatewayProcess | undefined;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gateway ${name} not ready after ${String(START_TIMEOUT_MS)} ms:\n${output}`));
      }, START_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        if (gateway !== undefined) { gateway.#keep(chunk.toString()); return; }
        output += chunk.toString();
        const url = READY_LINE.exec(output)?.[1];
        if (url === undefined) return;
        clearTimeout(timer);
        gateway = new GatewayProcess(name, child, url, output);
        resolve(gateway);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (gateway === undefined) reject(new Error(`gateway ${name} exited (${String(code ?? signal)}) before it was ready:\n${output}`));
      });
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** kill -9: no chance to finish a call, commit or close anything. */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** A graceful stop (SIGTERM), as an operator's. */
  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  /** The last lines the process wrote (its warnings and errors), for a failed test's report. */
  output(): string {
    return [...this.#lines, this.#partial].join('\n');
  }

  #end(signal: NodeJS.Signals): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => { resolve(); });
      this.child.kill(signal);
    });
  }

  #keep(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    this.#lines.push(...lines);
    if (this.#lines.length > KEPT_LINES) this.#lines.splice(0, this.#lines.length - KEPT_LINES);
  }
}

/** The body of report `n` of a run: a fixture whose externalId makes it a report of its own. */
export function reportBody(prefix: string, n: number, fixtureName = 'teleconsultation'): string {
  const report = fixture(fixtureName);
  report.externalId = `${prefix}-${String(n)}`;
  return JSON.stringify(report);
}

export interface PostResult {
  readonly status: number;
  readonly id?: string;
  /** Idempotent-Replayed: an earlier request with this key had made the submission. */
  readonly replayed: boolean;
}

/** One POST /v1/act-reports; throws when no answer came (connection refused or cut). */
export async function postReport(url: string, token: string, idempotencyKey: string, body: string): Promise<PostResult> {
  const response = await fetch(`${url}/v1/act-reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body,
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  const json = (await response.json()) as { id?: unknown };
  return { status: response.status, ...(typeof json.id === 'string' ? { id: json.id } : {}), replayed: response.headers.get('idempotent-replayed') === 'true' };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A 4xx: sending the same report again would not help, the test is wrong. */
class ReportRefused extends Error {}

/**
 * Posts reports `prefix-0…` to whichever gateway `target(n)` names (undefined: none is up yet),
 * each until it is accepted: a refused or cut connection, or a 5xx, is tried again with the same
 * key and the same bytes, as a careful client does. Every 202 is kept, so that a key answered
 * twice (before and after a kill) can be checked to name one submission.
 */
export class ReportFeeder {
  /** Idempotency key → every submission id a 202 named for it. */
  readonly answers = new Map<string, string[]>();
  /** POSTs that got no answer or a 5xx and were sent again. */
  resent = 0;

  constructor(private readonly o: { readonly token: string; readonly prefix: string; readonly target: (n: number) => string | undefined; readonly fixtureName?: string }) {}

  keyOf(n: number): string {
    return `${this.o.prefix}-${String(n)}`;
  }

  /** The id of report `n`'s submission, once a gateway accepted it. */
  async submit(n: number): Promise<string> {
    const key = this.keyOf(n);
    const body = reportBody(this.o.prefix, n, this.o.fixtureName);
    for (;;) {
      const url = this.o.target(n);
      if (url !== undefined) {
        try {
          const result = await postReport(url, this.o.token, key, body);
          if (result.status === 202 && result.id !== undefined) {
            this.answers.set(key, [...(this.answers.get(key) ?? []), result.id]);
            return result.id;
          }
          if (result.status < 500) throw new ReportRefused(`report ${key} refused with HTTP ${String(result.status)}`);
        } catch (error) {
          if (error instanceof ReportRefused) throw error;
          // No answer: the gateway is down or was killed mid-request. Same key, same bytes, later.
        }
        this.resent += 1;
      }
      await pause(RETRY_PAUSE_MS);
    }
  }

  /** Reports 0…count-1, `concurrency` at a time, each loop waiting `paceMs` between two of its own. */
  async submitAll(count: number, concurrency: number, paceMs = 0): Promise<string[]> {
    const ids: string[] = new Array<string>(count);
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        ids[n] = await this.submit(n);
        if (paceMs > 0) await pause(paceMs);
      }
    }));
    return ids;
  }
}

/** Every submission of the tenant, id → status, read a page at a time. */
export async function statusesOf(store: Store, tenantId: string): Promise<Map<string, SubmissionStatus>> {
  const statuses = new Map<string, SubmissionStatus>();
  let cursor: string | undefined;
  do {
    const page = await store.listSubmissions({ tenantId, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const s of page.items) statuses.set(s.id, s.status);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return statuses;
}

/**
 * Waits until every one of `ids` is delivered or failed; on time-out, throws with the count per
 * status of the others, so that a stuck pipeline says where it is stuck.
 */
export async function waitUntilTerminal(store: Store, tenantId: string, ids: readonly string[], timeoutMs: number): Promise<Map<string, SubmissionStatus>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await statusesOf(store, tenantId);
    const waiting = ids.filter((id) => { const s = statuses.get(id); return s === undefined || !TERMINAL_STATUSES.includes(s); });
    if (waiting.length === 0) return statuses;
    if (Date.now() > deadline) {
      const counts: Record<string, number> = {};
      for (const id of waiting) { const s = statuses.get(id) ?? 'missing'; counts[s] = (counts[s] ?? 0) + 1; }
      throw new Error(`${String(waiting.length)} of ${String(ids.length)} submissions not terminal after ${String(timeoutMs)} ms: ${JSON.stringify(counts)}; e.g. ${waiting.slice(0, 3).join(', ')}`);
    }
    await pause(POLL_MS);
  }
}

/** A tenant's webhook in the test process: records each notification whose signature verifies. */
export interface WebhookReceiver {
  readonly url: string;
  /** Notifications in arrival order; `verified`: the HMAC of the body matched. */
  readonly received: { readonly body: { submissionId?: string; status?: string }; readonly verified: boolean }[];
  /** A gateway configuration file (PASSERELLE_CONFIG) with this webhook for `tenantId`, written to `dir`. */
  configFile(dir: string, tenantId: string): string;
  close(): Promise<void>;
}

const WEBHOOK_SECRET = 'pipeline-test-webhook-secret';

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      received.push({ body: JSON.parse(body) as { submissionId?: string; status?: string }, verified: signatureMatches(req.headers['passerelle-signature'], body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
  return {
    url,
    received,
    configFile(dir, tenantId) {
      const secretFile = join(dir, 'webhook-secret');
      writeFileSync(secretFile, WEBHOOK_SECRET, { mode: 0o600 });
      const file = join(dir, 'passerelle.json');
      writeFileSync(file, JSON.stringify({ webhooks: [{ tenantId, url, secretFile }] }));
      return file;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => { chunks.push(chunk); });
    req.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
    req.on('error', reject);
  });
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (the design of issue 8). */
function signatureMatches(header: string | string[] | undefined, body: string): boolean {
  const match = typeof header === 'string' ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (match === null) return false;
  return createHmac('sha256', WEBHOOK_SECRET).update(`${String(match[1])}.${body}`).digest('hex') === match[2];
}

/** What a reliability test runs in: the sandboxes, a shared store, a data folder, a webhook receiver, its gateways. */
export interface PipelineWorld {
  readonly sandboxes: Sandboxes;
  readonly shared: SharedStore;
  readonly dataDir: string;
  readonly webhook: WebhookReceiver;
  /** The gateway processes the test started: killed after the suite, their output printed when a test failed. */
  readonly gateways: GatewayProcess[];
}

/**
 * Registers the suite's hooks that make and tear down a PipelineWorld (a failed test's
 * PostgreSQL schema is kept and named), and returns the accessor its tests and hooks use.
 */
export function usePipelineWorld(kind: StoreKind, tenantId: string): () => PipelineWorld {
  let world: PipelineWorld | undefined;
  let failed = false;
  before(async function () {
    const shared = await sharedStore(this, kind, tenantId);
    const sandboxes = await startSandboxes();
    world = { shared, sandboxes, dataDir: mkdtempSync(join(tmpdir(), 'passerelle-pipeline-data-')), webhook: await startWebhookReceiver(), gateways: [] };
  });
  afterEach(function () {
    failed ||= this.currentTest?.state === 'failed';
    if (failed) for (const g of world?.gateways ?? []) console.log(`      --- output of ${g.name} ---\n${g.output()}`);
  });
  after(async () => {
    if (world === undefined) return;
    for (const g of world.gateways) await g.kill();
    await world.sandboxes.close();
    await world.webhook.close();
    await world.shared.release(failed);
    rmSync(world.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (world === undefined) throw new Error('the pipeline world is not set up');
    return world;
  };
}
