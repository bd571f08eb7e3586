#!/usr/bin/env node
// `npm run bench:validate`: documents per second of `passerelle validate`'s stages on the ANS kit's
// examples (XSD alone, built-in rules alone, XSD + StrucMin + volet schematron), warm (in one
// process, after a first pass) and cold (a whole process for one file), next to xmllint doing the
// XSD part. Prints a Markdown table for docs/benchmarks.md. BENCH_KIT_DIR (default ../shared/ans-cisis).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { checkHeader } from '../dist/validation/builtin/header-rules.js';
import { AnsKit } from '../dist/validation/kit.js';
import { validateDocument } from '../dist/validation/validate-document.js';
import { parseXml } from '../dist/validation/xml-parse.js';

const KIT = resolve(process.env.BENCH_KIT_DIR ?? '../shared/ans-cisis');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const XSD = join(KIT, 'infrastructure/cda/CDA_extended.xsd');
const files = readdirSync(join(KIT, 'examples')).filter((f) => f.endsWith('.xml')).sort().map((f) => join(KIT, 'examples', f));
const inputs = files.map((file) => ({ file, bytes: readFileSync(file) }));
const coldFile = join(KIT, 'examples', 'TLM-CR_2022.01.xml');

function warm(run) {
  for (const input of inputs) run(input); // first pass: compilation, caches
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) for (const input of inputs) run(input);
  return (ROUNDS * inputs.length) / ((performance.now() - started) / 1000);
}

function medianMs(command, args, times = 3) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    try {
      execFileSync(command, args, { stdio: 'ignore' });
    } catch {
      // An invalid document exits non-zero: only the time matters here.
    }
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)];
}

const kit = new AnsKit(KIT);
const rows = [];
rows.push(['XSD (libxml2-wasm)', warm(({ file, bytes }) => kit.xsd().validate(bytes, file)), medianMs(process.execPath, ['-e', `import('${resolve('dist/validation/xsd.js')}').then(({ XsdSchema }) => XsdSchema.load(${JSON.stringify(XSD)}).validate(require('fs').readFileSync(${JSON.stringify(coldFile)}), 'f'))`])]);
rows.push(['built-in rules (incl. parsing)', warm(({ file, bytes }) => checkHeader(parseXml(Buffer.from(bytes).toString('utf8'), file), kit.valueSets())), undefined]);
rows.push(['XSD + StrucMin + volet + built-in', warm(({ file, bytes }) => validateDocument(bytes, file, { kit })), medianMs(process.execPath, ['bin/passerelle.js', 'validate', '--kit', KIT, '--jobs', '1', coldFile])]);
let xmllint = true;
try { execFileSync('xmllint', ['--version'], { stdio: 'ignore' }); } catch { xmllint = false; }
if (xmllint) {
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) execFileSync('xmllint', ['--noout', '--nonet', '--schema', XSD, ...files], { stdio: 'ignore' });
  rows.push(['reference: xmllint --schema', (ROUNDS * files.length) / ((performance.now() - started) / 1000), medianMs('xmllint', ['--noout', '--nonet', '--schema', XSD, coldFile])]);
}
const dirStarted = performance.now();
try { execFileSync(process.execPath, ['bin/passerelle.js', 'validate', '--kit', KIT, '--jobs', '2', join(KIT, 'examples')], { stdio: 'ignore' }); } catch { /* exit code */ }
const dirSeconds = (performance.now() - dirStarted) / 1000;
kit.dispose();

console.log(`\nValidation of the ${files.length} examples of the ANS kit, ${ROUNDS} warm rounds, ${cpus().length} cores, Node ${process.version}\n`);
console.log('| stage | warm docs/s | cold: one file, whole process (ms) |');
console.log('|---|---:|---:|');
for (const [name, perSecond, cold] of rows) console.log(`| ${name} | ${perSecond.toFixed(1)} | ${cold === undefined ? '–' : cold.toFixed(0)} |`);
console.log(`| \`passerelle validate --jobs 2\` on the examples folder, whole process | ${(files.length / dirSeconds).toFixed(1)} | – |`);
