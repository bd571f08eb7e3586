#!/usr/bin/env node
// `npm run bench:sign`: signatures and verifications per second of a 300 KB TLM-CR (enveloping
// signed CDA) on one thread, side by side in the same run with xmlsec1 (the reference C
// implementation, run once per document as a CLI user would) on the same file and with
// `openssl speed rsa2048` (the raw RSA limit of this machine); plus the XAdES submission-set
// signature and the VIHF. Prints Markdown for docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocument } from '../dist/cda/build-document.js';
import { loadCdaTemplates } from '../dist/cda/templates.js';
import { DEFAULT_NGAP_ACT_CODES } from '../dist/domain/act.js';
import { createDevPki } from '../dist/signing/dev-pki.js';
import { identityFromPem } from '../dist/signing/identity.js';
import { signCda, verifySignedCda } from '../dist/signing/signed-cda.js';
import { TrustStore } from '../dist/signing/trust-store.js';
import { signVihf } from '../dist/signing/vihf.js';
import { cdaUniqueId, signSubmissionSet, XADES_PROFILES } from '../dist/signing/xades.js';
import { pdfOfSize } from './bench-pdf.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const XMLSEC_RUNS = Number(process.env.BENCH_XMLSEC_RUNS ?? 40);

const report = JSON.parse(readFileSync(new URL('../fixtures/act-reports/teleconsultation.json', import.meta.url), 'utf8'));
report.report.pdf = pdfOfSize(220 * 1024);
const cda = (await buildDocument(report, { type: 'tlm-cr', templates: loadCdaTemplates(), now: new Date(), seed: 'bench', actCodes: DEFAULT_NGAP_ACT_CODES })).xml;

const pki = createDevPki({ finess: '750803447', organisation: 'BENCH', now: new Date() });
const identity = identityFromPem(pki.orgSign.key, [pki.orgSign.certificate, ...pki.orgSign.chain].join(''));
const trust = TrustStore.fromPem(pki.root);
const dir = mkdtempSync(join(tmpdir(), 'passerelle-bench-sign-'));
const file = (name, content) => { writeFileSync(join(dir, name), content); return join(dir, name); };
const keyFile = file('key.pem', pki.orgSign.key);
const certFile = file('cert.pem', pki.orgSign.certificate);
const intermediateFile = file('intermediate.pem', pki.intermediate);
const rootFile = file('root.pem', pki.root);

function perSecond(run) {
  for (let i = 0; i < 20; i++) run(i);
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) run(n++);
  return n / ((performance.now() - started) / 1000);
}

const signed = signCda(cda, identity);
const vihfAttributes = { version: '3.0', nameId: '801234567890', subjectId: 'bench', roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7' }], purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248' }, structureId: '1750803447', sector: 'SA07^1.2.250.1.71.4.2.4', authenticationMode: 'INDIRECTE', authnContext: 'unspecified', lps: { name: 'Passerelle', homologationId: 'BENCH' } };
const documents = [{ uniqueId: cdaUniqueId(cda), content: cda, xml: true }];
const rows = [
  ['Passerelle: sign a TLM-CR (enveloping, exc-C14N, RSA-SHA256)', perSecond(() => signCda(cda, identity))],
  ['Passerelle: verify it (chain, digest, signature, extraction check)', perSecond(() => verifySignedCda(signed, trust, new Date()))],
  ['Passerelle: XAdES submission-set signature of it (dmp profile)', perSecond((i) => signSubmissionSet({ submissionSetUniqueId: `1.2.3.${String(i)}`, documents, signatureId: 'sig' }, identity, new Date(), XADES_PROFILES.dmp))],
  ['Passerelle: sign a VIHF', perSecond(() => signVihf(vihfAttributes, identity, { now: new Date(), validitySeconds: 300 }))],
];

// xmlsec1 on the same file: a template (the signed file with its values emptied), once per document.
const template = file('template.xml', signed.toString('utf8')
  .replace(/<ds:DigestValue>[^<]*<\/ds:DigestValue>/, '<ds:DigestValue></ds:DigestValue>')
  .replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue></ds:SignatureValue>')
  .replace(/<ds:KeyInfo>.*?<\/ds:KeyInfo>/s, '<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>'));
const signedFile = file('signed.xml', signed);
function runsPerSecond(runs, run) {
  run();
  const started = performance.now();
  for (let i = 0; i < runs; i++) run();
  return runs / ((performance.now() - started) / 1000);
}
rows.push(['xmlsec1 --sign, once per document (same template)', runsPerSecond(XMLSEC_RUNS, () => execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${keyFile},${certFile},${intermediateFile}`, '--output', join(dir, 'out.xml'), template], { stdio: 'ignore' }))]);
rows.push(['xmlsec1 --verify, once per document (trusting the root only)', runsPerSecond(XMLSEC_RUNS, () => execFileSync('xmlsec1', ['--verify', '--trusted-pem', rootFile, signedFile], { stdio: 'ignore' }))]);

// The RSA limit: openssl's own single-thread rate for 2048-bit sign and verify.
const speed = execFileSync('openssl', ['speed', '-seconds', '3', 'rsa2048'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const line = speed.split('\n').find((l) => /^rsa\s+2048 bits/.test(l)) ?? '';
const [, rsaSign, rsaVerify] = /([\d.]+)\s+([\d.]+)\s*$/.exec(line) ?? [];
rmSync(dir, { recursive: true, force: true });

const sign = rows[0][1];
const xmlsecSign = rows[4][1];
console.log(`\nMachine: ${String(cpus().length)} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; TLM-CR of ${String(Math.round(cda.length / 1024))} KB (signed: ${String(Math.round(signed.length / 1024))} KB); ${String(SECONDS)} s per Passerelle row after 20 warm-up runs, one thread; ${String(XMLSEC_RUNS)} xmlsec1 runs per row.\n`);
console.log('| work | per second |');
console.log('|---|---:|');
for (const [label, rate] of rows) console.log(`| ${label} | ${rate.toFixed(0)} |`);
console.log(`| openssl speed rsa2048: sign (the RSA limit) | ${Number(rsaSign).toFixed(0)} |`);
console.log(`| openssl speed rsa2048: verify | ${Number(rsaVerify).toFixed(0)} |`);
console.log(`\nSigning: ${(sign / xmlsecSign).toFixed(1)} × xmlsec1 run once per document; the RSA limit is ${(Number(rsaSign) / sign).toFixed(2)} × Passerelle's rate (aim: ≤ 3).`);
