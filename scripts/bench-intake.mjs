#!/usr/bin/env node
// `npm run bench:intake` (part of `npm run bench`): accept throughput and latency of POST /v1/act-reports with a 200 KB PDF, on
// SQLite and on PostgreSQL, at several concurrency levels. The gateway runs in its own process (the compiled CLI, as in
// production); autocannon loads it from this one over loopback. Prints a Markdown table for
// docs/benchmarks.md. Options: BENCH_SECONDS (default 20), BENCH_CONNECTIONS (default 4,8,16),
// BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test; skipped when unreachable).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { PG_URL, postgresReachable } from './bench-postgres.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '4,8,16').split(',').map(Number);
const PDF_BYTES = 200 * 1024;

function reportWithPdf() {
  const report = JSON.parse(readFileSync('fixtures/act-reports/teleconsultation.json', 'utf8'));
  const original = Buffer.from(report.report.pdf, 'base64').toString('latin1');
  // Pad the real fixture PDF with a comment before its trailer: still a PDF, now ~200 KB.
  const padding = `%${'x'.repeat(PDF_BYTES - original.length - 2)}\n`;
  const cut = original.lastIndexOf('startxref');
  report.report.pdf = Buffer.from(original.slice(0, cut) + padding + original.slice(cut), 'latin1').toString('base64');
  return JSON.stringify(report);
}

function cli(args, env) {
  return execFileSync(process.execPath, ['bin/passerelle.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
}

function startServer(env) {
  const child = spawn(process.execPath, ['bin/passerelle.js', 'serve', '--port', '0'], { env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /ready on (\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
}

async function run(name, env) {
  const token = cli(['keys', 'create', '--tenant', 'bench', '--role', 'submitter'], env).split('\n').pop();
  const { child, url } = await startServer(env);
  const body = reportWithPdf();
  const options = { url: `${url}/v1/act-reports`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body };
  await autocannon({ ...options, connections: 8, duration: 3 }); // warm-up: JIT, page cache, pool
  const rows = [];
  for (const connections of CONNECTIONS) rows.push(summarize(name, connections, await autocannon({ ...options, connections, duration: SECONDS }), body));
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return rows;
}

function summarize(name, connections, result, body) {
  const accepted = result['2xx'];
  return {
    name,
    connections,
    accepted,
    errors: result.non2xx + result.errors + result.timeouts,
    perSecond: accepted / SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    bodyKiB: Math.round(body.length / 1024),
  };
}

const rows = [];
const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-'));
try {
  rows.push(...await run('SQLite', { PASSERELLE_STORE_URL: `sqlite:${join(dir, 'bench.db')}` }));
  if (await postgresReachable()) {
    const schema = `bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      rows.push(...await run('PostgreSQL', { PASSERELLE_STORE_URL: PG_URL, PASSERELLE_STORE_SCHEMA: schema }));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  } else {
    console.error(`PostgreSQL not reachable at ${PG_URL}: skipped`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nPOST /v1/act-reports, ${rows[0]?.bodyKiB} KiB body (200 KB PDF), ${SECONDS} s per row, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);
console.log('| store | connections | accepted | errors | accepted/s | p50 ms | p99 ms | max ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.connections} | ${r.accepted} | ${r.errors} | ${r.perSecond.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.max} |`);
