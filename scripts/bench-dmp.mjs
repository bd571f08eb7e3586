#!/usr/bin/env node
// `npm run bench:dmp`: ITI-41 round trips per second and their latency, from the gateway's DMP
// client to the DMP sandbox over mutual TLS on loopback, with a 300 KB TLM-CR. The sandbox runs
// in its own process (`passerelle sim dmp`), as it would on another machine, so each side has a
// core. Every request files a new document (the sandbox refuses a uniqueId twice): the base
// document's id is rewritten per request. Prints Markdown for docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocument } from '../dist/cda/build-document.js';
import { loadCdaTemplates } from '../dist/cda/templates.js';
import { DEV_PKI_FILES, writeDevPki } from '../dist/cli/commands/pki.js';
import { DEFAULT_CONTENT_TYPE_CODE, DEFAULT_VIHF } from '../dist/config/config.js';
import { DEFAULT_NGAP_ACT_CODES } from '../dist/domain/act.js';
import { loadSigningIdentity } from '../dist/signing/identity.js';
import { DmpClient } from '../dist/transports/dmp/dmp-client.js';
import { createMtlsAgent, tlsClientOptions } from '../dist/transports/soap/http-client.js';
import { runLoad, loadRow } from './bench-load.mjs';
import { pdfOfSize } from './bench-pdf.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const REPOSITORY = '2.999.1.1';
/** With ../shared, the sandbox also checks each request against the IHE schemas, as in the tests. */
const SCHEMAS = new URL('../../shared/ihe/schema', import.meta.url).pathname;
const withSchemas = process.env.BENCH_XSD !== '0' && existsSync(SCHEMAS);

const report = JSON.parse(readFileSync(new URL('../fixtures/act-reports/teleconsultation.json', import.meta.url), 'utf8'));
report.report.pdf = pdfOfSize(220 * 1024);
const built = await buildDocument(report, { type: 'tlm-cr', templates: loadCdaTemplates(), now: new Date(), seed: 'bench-dmp', actCodes: DEFAULT_NGAP_ACT_CODES });
const base = built.xml.toString('utf8');
const idAttribute = `<id root="${built.id.root}"/>`;
if (base.indexOf(idAttribute) < 0) throw new Error('the built document does not hold its id as expected');
const documentNumber = (n) => Buffer.from(base.replace(idAttribute, `<id root="${built.id.root}.${String(n)}"/>`), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-dmp-'));
writeDevPki(dir, { finess: '750803447', organisation: 'BENCH', now: new Date() });
const passphrase = readFileSync(join(dir, DEV_PKI_FILES.passphrase), 'utf8').trim();
// BENCH_PROFILE=DIR: CPU profiles of both processes (node --cpu-prof), to see where the time goes.
const profile = process.env.BENCH_PROFILE === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE];
const sandbox = spawn(process.execPath, [...profile, new URL('../bin/passerelle.js', import.meta.url).pathname, 'sim', 'dmp', '--port', '0', '--pki', dir, '--database', join(dir, 'sandbox.db'), ...(withSchemas ? ['--xds-schemas', SCHEMAS] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', PASSERELLE_DATA_DIR: dir } });
const url = await new Promise((resolve, reject) => {
  let out = '';
  sandbox.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /DMP sandbox on (https:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  sandbox.once('exit', (code) => reject(new Error(`the sandbox exited (${String(code)})`)));
});

const client = new DmpClient({
  baseUrl: url,
  agent: createMtlsAgent(tlsClientOptions(loadSigningIdentity({ pkcs12File: join(dir, DEV_PKI_FILES.orgAuth), passphrase }), readFileSync(join(dir, DEV_PKI_FILES.trust), 'utf8')), { maxSockets: CONCURRENCY }),
  timeouts: { connectMs: 5000, tlsMs: 5000, responseMs: 30_000 },
  maxResponseBytes: 64 * 1024 * 1024,
  signer: loadSigningIdentity({ pkcs12File: join(dir, DEV_PKI_FILES.orgSign), passphrase }),
  vihf: DEFAULT_VIHF,
  structureId: '1750803447',
  vihfValiditySeconds: 300,
  repositoryUniqueId: REPOSITORY,
  sourceId: '2.999.1.2',
  contentTypeCode: { code: DEFAULT_CONTENT_TYPE_CODE.code, codingScheme: DEFAULT_CONTENT_TYPE_CODE.codeSystem, displayName: DEFAULT_CONTENT_TYPE_CODE.displayName },
});

let next = 0;
async function fileOne() {
  const result = await client.file(documentNumber(next++));
  if (result.verdict.outcome !== 'success') throw new Error(`ITI-41 failed: ${JSON.stringify(result.response.errors)}`);
}

// 20 warm-up requests: connections, JIT, the sandbox's schemas.
const result = await runLoad({ one: fileOne, seconds: SECONDS, concurrency: CONCURRENCY, warmup: 20 });
sandbox.kill('SIGINT');
await new Promise((resolve) => sandbox.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });

const size = documentNumber(0).length;
console.log(`\n### ITI-41 round trips to the DMP sandbox (${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version})\n`);
console.log(`A ${(size / 1024).toFixed(0)} KB TLM-CR per request, ${String(CONCURRENCY)} in flight, ${String(SECONDS)} s after 20 warm-up requests; sandbox XSD checks ${withSchemas ? 'on' : 'off'}.\n`);
console.log('| round trips | per second | p50 | p99 |\n|---:|---:|---:|---:|');
console.log(loadRow(result));
process.exit(0);
