#!/usr/bin/env node
// `npm run bench:e2e` (part of `npm run bench`): reports per second end to end, and the latency of
// each from its POST /v1/act-reports to its submission delivered (the DMP sandbox registered the
// document, the MSSanté sandbox accepted the message), on SQLite and on PostgreSQL. The gateway
// (`passerelle serve`) and both sandboxes (`passerelle sim dmp|mss`) run in processes of their
// own; this one keeps BENCH_CONCURRENCY reports in flight, each posted when the one before it in
// its loop is delivered (told by the tenant's webhook, or a poll of its status every second).
// The end of a report is when its last destination was settled, as its events record it. Prints
// Markdown for docs/benchmarks.md. Options: BENCH_REPORTS (default 300), BENCH_CONCURRENCY
// (default 16), BENCH_PDF_KB (default 200; 0 keeps the fixture's own PDF), BENCH_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/test; skipped when unreachable), BENCH_XSD=0 to
// turn the DMP sandbox's XSD checks off, BENCH_PROFILE=DIR for CPU profiles.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEV_PKI_FILES, writeDevPki } from '../dist/cli/commands/pki.js';
import { pdfOfSize } from './bench-pdf.mjs';
import { PG_URL, postgresReachable } from './bench-postgres.mjs';

const REPORTS = Number(process.env.BENCH_REPORTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PDF_KB = Number(process.env.BENCH_PDF_KB ?? 200);
const WARMUP = 20;
const TENANT = 'bench';
const MAILBOX = 'passerelle@sandbox.mssante.fr';
const REPOSITORY = '2.999.1.1';
const SCHEMAS = new URL('../../shared/ihe/schema', import.meta.url).pathname;
const withSchemas = process.env.BENCH_XSD !== '0' && existsSync(SCHEMAS);
const BIN = new URL('../bin/passerelle.js', import.meta.url).pathname;
/** A report waits for its webhook; this poll of its status only covers a notification that never comes. */
const FALLBACK_POLL_MS = 1000;
/** Events that settle a destination: the report's end is the last of them. */
const SETTLING = new Set(['sent', 'skipped', 'delivery-failed']);

const fixture = JSON.parse(readFileSync(new URL('../fixtures/act-reports/teleconsultation.json', import.meta.url), 'utf8'));
if (PDF_KB > 0) fixture.report.pdf = pdfOfSize(PDF_KB * 1024);
const bodyOf = (n) => JSON.stringify({ ...fixture, externalId: `bench-${String(n)}` });

/** BENCH_PROFILE=DIR: CPU profiles of the gateway and the sandboxes (node --cpu-prof), to see where the time goes. */
const PROFILE = process.env.BENCH_PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE];

/** Starts a CLI process and resolves with its output once `ready` matches it. */
function startProcess(args, env, ready) {
  const child = spawn(process.execPath, [...PROFILE, BIN, ...args], { env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${args.slice(0, 2).join(' ')} exited (${String(code)}): ${out}`)));
  });
}

function stopProcess(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
}

/** The tenant's webhook: each notification resolves the wait of its submission. */
function startWebhook() {
  const waiting = new Map();
  const early = new Set();
  let notified = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      const { submissionId } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      notified += 1;
      const resolve = waiting.get(submissionId);
      if (resolve === undefined) early.add(submissionId);
      else resolve();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${String(server.address().port)}/hook`,
    /** Resolves when the webhook names the submission or `poll()` says it is terminal. */
    until(id, poll) {
      if (early.delete(id)) return Promise.resolve();
      return new Promise((done, fail) => {
        let timer;
        let settled = false;
        const finish = () => { settled = true; clearTimeout(timer); waiting.delete(id); done(); };
        const look = () => { poll().then((terminal) => { if (terminal) finish(); else if (!settled) timer = setTimeout(look, FALLBACK_POLL_MS); }, fail); };
        timer = setTimeout(look, FALLBACK_POLL_MS);
        waiting.set(id, finish);
      });
    },
    notified: () => notified,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

async function api(url, token, path, init = {}) {
  const response = await globalThis.fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const json = await response.json();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${String(response.status)} ${JSON.stringify(json)}`);
  return json;
}

/**
 * CPU time (user + system, ms) of each process so far, from /proc (Linux; elsewhere NaN): where
 * the time of a report goes, per process.
 */
function cpuOf(pids) {
  const ticksPerMs = 100 / 1000; // USER_HZ, 100 on Linux
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => {
    try {
      // The fields after the command name, which is in parentheses and may hold spaces.
      const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1].split(' ');
      return [name, (Number(fields[11]) + Number(fields[12])) / ticksPerMs];
    } catch {
      return [name, NaN];
    }
  }));
}

/** The DMP sandbox's count of registry entries, over its mutual TLS. */
function dmpEntries(url, dir) {
  const passphrase = readFileSync(join(dir, DEV_PKI_FILES.passphrase), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/_sandbox/stats`, { pfx: readFileSync(join(dir, DEV_PKI_FILES.orgAuth)), passphrase, ca: readFileSync(join(dir, DEV_PKI_FILES.trust)) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')).documents));
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(name, storeEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-e2e-'));
  const file = (f) => join(dir, DEV_PKI_FILES[f]);
  writeDevPki(dir, { finess: '750803447', organisation: 'BENCH', now: new Date() });
  const dmp = await startProcess(['sim', 'dmp', '--port', '0', '--pki', dir, '--database', join(dir, 'dmp.db'), ...(withSchemas ? ['--xds-schemas', SCHEMAS] : [])], { PASSERELLE_DATA_DIR: dir }, /DMP sandbox on (https:\/\/\S+)/);
  const mss = await startProcess(['sim', 'mss', '--port', '0', '--pki', dir, '--mailbox', MAILBOX], { PASSERELLE_DATA_DIR: dir }, /MSSanté sandbox: SMTP (\S+):(\d+); (?:IMAPS (\S+):(\d+)|no IMAP)/);
  const webhook = await startWebhook();
  writeFileSync(join(dir, 'webhook-secret'), 'bench-webhook-secret', { mode: 0o600 });
  writeFileSync(join(dir, 'passerelle.json'), JSON.stringify({ webhooks: [{ tenantId: TENANT, url: webhook.url, secretFile: join(dir, 'webhook-secret') }] }));
  const [, smtpHost, smtpPort, imapHost, imapPort] = mss.match;
  const env = {
    ...storeEnv,
    PASSERELLE_CONFIG: join(dir, 'passerelle.json'),
    PASSERELLE_DATA_DIR: dir,
    PASSERELLE_SIGNING_PKCS12_FILE: file('orgSign'),
    PASSERELLE_SIGNING_PASSPHRASE_FILE: file('passphrase'),
    PASSERELLE_TRUST_FILE: file('trust'),
    PASSERELLE_DMP_URL: dmp.match[1],
    PASSERELLE_DMP_PKCS12_FILE: file('orgAuth'),
    PASSERELLE_DMP_PASSPHRASE_FILE: file('passphrase'),
    PASSERELLE_DMP_TRUST_FILE: file('trust'),
    PASSERELLE_DMP_REPOSITORY_UNIQUE_ID: REPOSITORY,
    PASSERELLE_MSS_SMTP_HOST: smtpHost,
    PASSERELLE_MSS_SMTP_PORT: smtpPort,
    PASSERELLE_MSS_SMTP_TLS: 'implicit',
    ...(imapHost === undefined ? {} : { PASSERELLE_MSS_IMAP_HOST: imapHost, PASSERELLE_MSS_IMAP_PORT: imapPort }),
    PASSERELLE_MSS_FROM: MAILBOX,
    PASSERELLE_MSS_PKCS12_FILE: file('orgAuth'),
    PASSERELLE_MSS_PASSPHRASE_FILE: file('passphrase'),
    PASSERELLE_MSS_TRUST_FILE: file('trust'),
  };
  const token = execFileSync(process.execPath, [BIN, 'keys', 'create', '--tenant', TENANT, '--role', 'submitter'], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop();
  const gateway = await startProcess(['serve', '--port', '0'], env, /Passerelle ready on (\S+)/);
  const url = gateway.match[1];

  const posted = new Map(); // submission id → POST start (ms since the epoch, the clock of the events)
  let next = 0;
  const one = async () => {
    const n = next++;
    const at = Date.now();
    const { id } = await api(url, token, '/v1/act-reports', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${String(n)}` }, body: bodyOf(n) });
    posted.set(id, { n, at });
    await webhook.until(id, async () => ['delivered', 'failed'].includes((await api(url, token, `/v1/submissions/${id}`)).status));
  };
  const loops = (count) => Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < count) await one(); }));
  await loops(WARMUP);
  const processes = { gateway: gateway.child.pid, 'DMP sandbox': dmp.child.pid, 'MSSanté sandbox': mss.child.pid, bench: process.pid };
  const cpuBefore = cpuOf(processes);
  await loops(WARMUP + REPORTS);
  const cpuAfter = cpuOf(processes);

  const latencies = [];
  let first = Infinity;
  let last = 0;
  let failed = 0;
  for (const [id, { n, at }] of posted) {
    if (n < WARMUP) continue;
    const submission = await api(url, token, `/v1/submissions/${id}`);
    if (submission.status !== 'delivered') failed += 1;
    const { items } = await api(url, token, `/v1/submissions/${id}/events`);
    const end = Math.max(...items.filter((e) => SETTLING.has(e.type)).map((e) => Date.parse(e.at)));
    latencies.push(end - at);
    first = Math.min(first, at);
    last = Math.max(last, end);
  }
  // Each submission files its CDA and the XAdES signature of its submission set: two entries.
  const entries = await dmpEntries(dmp.match[1], dir);
  await stopProcess(gateway.child);
  await Promise.all([stopProcess(dmp.child), stopProcess(mss.child), webhook.close()]);
  rmSync(dir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const cpuPerReport = Object.fromEntries(Object.keys(processes).map((k) => [k, (cpuAfter[k] - cpuBefore[k]) / REPORTS]));
  return { name, count: latencies.length, failed, lost: WARMUP + REPORTS - entries / 2, perSecond: latencies.length / ((last - first) / 1000), p50: quantile(0.5), p99: quantile(0.99), notified: webhook.notified(), cpuPerReport };
}

// On a shared machine the others' load changes the figures: it is printed with them.
const loadBefore = loadavg()[0];
const rows = [];
const sqliteDir = mkdtempSync(join(tmpdir(), 'passerelle-bench-e2e-store-'));
try {
  rows.push(await run('SQLite', { PASSERELLE_STORE_URL: `sqlite:${join(sqliteDir, 'bench.db')}` }));
} finally {
  rmSync(sqliteDir, { recursive: true, force: true });
}
if (await postgresReachable()) {
  const schema = `bench_e2e_${String(process.pid)}`;
  try {
    rows.push(await run('PostgreSQL', { PASSERELLE_STORE_URL: PG_URL, PASSERELLE_STORE_SCHEMA: schema }));
  } finally {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
} else {
  console.error(`PostgreSQL not reachable at ${PG_URL}: skipped`);
}

console.log(`\n### End to end: POST to delivered (DMP sandbox registered, MSSanté sandbox accepted) (${String(cpus().length)} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version})\n`);
console.log(`The teleconsultation fixture${PDF_KB > 0 ? ` with a ${String(PDF_KB)} KB PDF` : ''}, ${String(CONCURRENCY)} reports in flight, ${String(REPORTS)} reports after ${String(WARMUP)} warm-up; gateway and sandboxes in processes of their own; DMP sandbox XSD checks ${withSchemas ? 'on' : 'off'}; load average ${loadBefore.toFixed(1)} before the run.\n`);
console.log('| store | reports | not delivered | not in the DMP | reports/s | p50 | p99 |\n|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${String(r.count)} | ${String(r.failed)} | ${String(r.lost)} | ${r.perSecond.toFixed(1)} | ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms |`);
console.log('\nCPU per report (ms, user + system), by process:\n');
console.log(`| store | ${Object.keys(rows[0]?.cpuPerReport ?? {}).join(' | ')} |\n|---|${Object.keys(rows[0]?.cpuPerReport ?? {}).map(() => '---:').join('|')}|`);
for (const r of rows) console.log(`| ${r.name} | ${Object.values(r.cpuPerReport).map((ms) => ms.toFixed(1)).join(' | ')} |`);
console.log(`\nWebhook notifications received: ${rows.map((r) => `${r.name} ${String(r.notified)} of ${String(WARMUP + REPORTS)}`).join(', ')}.`);
process.exit(0);
