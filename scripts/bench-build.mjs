#!/usr/bin/env node
// `npm run bench:build`: TLM-CR documents built per second on one core (one thread, no worker),
// with a 200 KB PDF received and with the PDF rendered from the report's text, then built and
// checked with the built-in rules as the gateway does; and the peak memory of building one
// document around a 20 MB PDF, measured in a fresh process. Prints Markdown for docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { buildDocument } from '../dist/cda/build-document.js';
import { loadCdaTemplates } from '../dist/cda/templates.js';
import { DEFAULT_NGAP_ACT_CODES } from '../dist/domain/act.js';
import { produceDocument } from '../dist/pipeline/produce-document.js';
import { pdfOfSize } from './bench-pdf.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const templates = loadCdaTemplates();
const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/act-reports/${name}.json`, import.meta.url), 'utf8'));

const withPdf = fixture('teleconsultation');
withPdf.report.pdf = pdfOfSize(200 * 1024);
const withText = fixture('teleexpertise');
const options = (seed) => ({ type: 'tlm-cr', templates, now: new Date(), seed, actCodes: DEFAULT_NGAP_ACT_CODES });
const factory = { templates, actCodes: DEFAULT_NGAP_ACT_CODES, timeZone: 'Europe/Paris', textBodyAs: 'pdf' };

async function perSecond(run) {
  for (let i = 0; i < 20; i++) await run(i); // warm-up: JIT, pdf-lib fonts
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) await run(n++);
  return n / ((performance.now() - started) / 1000);
}

const rows = [
  ['TLM-CR, 200 KB PDF received: build', await perSecond((i) => buildDocument(withPdf, options(`p${i}`)))],
  ['TLM-CR, 200 KB PDF received: build + built-in rules', await perSecond((i) => produceDocument(withPdf, { type: 'tlm-cr', seed: `q${i}`, now: new Date() }, factory))],
  ['TLM-CR, PDF rendered from text: build', await perSecond((i) => buildDocument(withText, options(`t${i}`)))],
  ['TLM-CR, PDF rendered from text: build + built-in rules', await perSecond((i) => produceDocument(withText, { type: 'tlm-cr', seed: `u${i}`, now: new Date() }, factory))],
];

// Peak memory: a fresh process holds the report (with its 20 MB PDF as base64, as received),
// then builds once; the growth of the peak RSS over the RSS before building is the builder's cost.
const memory = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', `
  const { buildDocument } = await import(${JSON.stringify(new URL('../dist/cda/build-document.js', import.meta.url).href)});
  const { loadCdaTemplates } = await import(${JSON.stringify(new URL('../dist/cda/templates.js', import.meta.url).href)});
  const { DEFAULT_NGAP_ACT_CODES } = await import(${JSON.stringify(new URL('../dist/domain/act.js', import.meta.url).href)});
  const fs = await import('node:fs');
  const report = JSON.parse(fs.readFileSync(${JSON.stringify(new URL('../fixtures/act-reports/teleconsultation.json', import.meta.url).pathname)}, 'utf8'));
  const templates = loadCdaTemplates();
  const opts = { type: 'tlm-cr', templates, now: new Date(), seed: 'm', actCodes: DEFAULT_NGAP_ACT_CODES };
  await buildDocument(report, opts); // warm: modules and code paths
  const size = 20 * 1024 * 1024;
  const pdf = Buffer.alloc(size, 7); pdf.write('%PDF-1.4\\n', 0, 'latin1'); pdf.write('\\n%%EOF\\n', size - 7, 'latin1');
  report.report.pdf = pdf.toString('base64');
  global.gc(); global.gc();
  const before = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const built = await buildDocument(report, opts);
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ pdf: size, xml: built.xml.length, before, peakBefore, peak }));
`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
console.log(`\nMachine: ${String(cpus().length)} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; ${String(SECONDS)} s per row after 20 warm-up builds, one thread.\n`);
console.log('| work | documents/s |');
console.log('|---|---:|');
for (const [label, rate] of rows) console.log(`| ${label} | ${rate.toFixed(0)} |`);
const growth = memory.peak - Math.max(memory.before, memory.peakBefore);
console.log(`\nPeak memory building one TLM-CR around a ${mb(memory.pdf)} MiB PDF (document ${mb(memory.xml)} MiB): RSS ${mb(memory.before)} MiB before the build (the report held, its PDF as base64), peak ${mb(memory.peak)} MiB: the build added ${mb(Math.max(0, growth))} MiB = ${(Math.max(0, growth) / memory.pdf).toFixed(2)} × the PDF.`);
