#!/usr/bin/env node
// `npm run bench:mss`: MSSanté messages per second from the gateway's client to the MSSanté
// sandbox, which runs in its own process (`passerelle sim mss`), over SMTP with implicit TLS and
// client certificates on loopback: each message is a 302 KB TLM-CR (a 220 KB PDF) in its
// IHE_XDM.ZIP, with the PDF alongside, to two recipients; the sandbox parses each message and
// writes an MDN per recipient into Dovecot when it is installed. Prints Markdown for
// docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocument } from '../dist/cda/build-document.js';
import { loadCdaTemplates } from '../dist/cda/templates.js';
import { DEV_PKI_FILES, writeDevPki } from '../dist/cli/commands/pki.js';
import { DEFAULT_NGAP_ACT_CODES } from '../dist/domain/act.js';
import { loadSigningIdentity } from '../dist/signing/identity.js';
import { MssClient } from '../dist/transports/mss/mss-client.js';
import { tlsClientOptions } from '../dist/transports/soap/http-client.js';
import { runLoad, loadRow } from './bench-load.mjs';
import { pdfOfSize } from './bench-pdf.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const MAILBOX = 'passerelle@sandbox.mssante.fr';

const report = JSON.parse(readFileSync(new URL('../fixtures/act-reports/teleexpertise.json', import.meta.url), 'utf8'));
report.report.pdf = pdfOfSize(220 * 1024);
report.recipients = [{ mssanteAddress: 'claire.legrand@chu-demo.mssante.fr' }];
const built = await buildDocument(report, { type: 'tlm-cr', templates: loadCdaTemplates(), now: new Date(), seed: 'bench-mss', actCodes: DEFAULT_NGAP_ACT_CODES });

const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-mss-'));
writeDevPki(dir, { finess: '750803447', organisation: 'BENCH', now: new Date() });
const passphrase = readFileSync(join(dir, DEV_PKI_FILES.passphrase), 'utf8').trim();
// BENCH_PROFILE=DIR: CPU profiles of both processes (node --cpu-prof).
const profile = process.env.BENCH_PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE];
const sandbox = spawn(process.execPath, [...profile, new URL('../bin/passerelle.js', import.meta.url).pathname, 'sim', 'mss', '--port', '0', '--pki', dir, '--mailbox', MAILBOX], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', PASSERELLE_DATA_DIR: dir } });
const banner = await new Promise((resolve, reject) => {
  let out = '';
  sandbox.stdout.on('data', (chunk) => {
    out += chunk;
    if (/MSSanté sandbox: SMTP \S+:\d+;[^\n]*\n/.test(out)) resolve(out);
  });
  sandbox.once('exit', (code) => reject(new Error(`the sandbox exited (${String(code)})`)));
});
const port = Number(/SMTP \S+:(\d+);/.exec(banner)[1]);
const withImap = !/no IMAP/.test(banner);

const tls = tlsClientOptions(loadSigningIdentity({ pkcs12File: join(dir, DEV_PKI_FILES.orgAuth), passphrase }), readFileSync(join(dir, DEV_PKI_FILES.trust), 'utf8'));
const client = new MssClient({
  smtp: { host: '127.0.0.1', port, secure: true, tls, timeouts: { connectMs: 5000, greetingMs: 5000, socketMs: 30_000 } },
  from: MAILBOX,
  requestAcknowledgement: true,
  attachPdf: true,
  headers: {},
  sourceId: '2.999.1.2',
  contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' },
});

let next = 0;
async function sendOne() {
  const outcome = await client.send({ submissionId: `bench${String(next++)}`, report, cda: built.xml, pdf: Buffer.from(built.pdf) });
  if (!outcome.recipients.every((r) => r.status === 'sent')) throw new Error(`not sent: ${JSON.stringify(outcome.recipients)}`);
}

const result = await runLoad({ one: sendOne, seconds: SECONDS, concurrency: CONCURRENCY, warmup: 10 });
sandbox.kill('SIGINT');
await new Promise((resolve) => sandbox.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });

console.log(`\n### MSSanté messages to the sandbox (${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version})\n`);
console.log(`A ${(built.xml.length / 1024).toFixed(0)} KB TLM-CR in its XDM archive, and its PDF, to 2 recipients per message; ${String(CONCURRENCY)} in flight (one SMTP session each), ${String(SECONDS)} s after 10 warm-up messages; MDNs into Dovecot ${withImap ? 'on' : 'off (not installed)'}.\n`);
console.log('| messages | per second | p50 | p99 |\n|---:|---:|---:|---:|');
console.log(loadRow(result));
process.exit(0);
