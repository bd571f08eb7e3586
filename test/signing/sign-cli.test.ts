import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { expect } from 'chai';
import type { ActReport } from '../../src/domain/act-report.js';
import { identityFromPkcs12, loadSigningIdentity } from '../../src/signing/identity.js';
import { SignatureError } from '../../src/signing/signature-xml.js';
import { build } from '../support/cda.js';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';

describe('passerelle sign and verify', function () {
  this.timeout(120_000);
  let base: string;
  let pki: string;
  let other: string;
  let cdaFile: string;
  const file = (name: string): string => join(base, name);
  const env = { PASSERELLE_LOG_LEVEL: 'silent' };

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'passerelle-sign-cli-'));
    pki = join(base, 'pki');
    other = join(base, 'other');
    expect((await runCli(['pki', 'dev', '--out', pki])).code).to.equal(0);
    expect((await runCli(['pki', 'dev', '--out', other])).code).to.equal(0);
    cdaFile = file('tlm-cr.xml');
    writeFileSync(cdaFile, (await build(fixture('teleconsultation') as ActReport, 'tlm-cr')).xml);
  });
  after(() => { if (base !== undefined) rmSync(base, { recursive: true, force: true }); });

  const identity = (): string[] => ['--p12', join(pki, 'org-sign.p12'), '--passphrase-file', join(pki, 'pkcs12-passphrase'), '--trust', join(pki, 'trust.pem')];

  it('signs a CDA with the PKCS#12 identity of pki dev; verify gives back the document; another CA makes it invalid', async () => {
    const signed = await runCli(['sign', '--type', 'cda', ...identity(), '--output', file('signed.xml'), cdaFile], env);
    expect(signed.code, signed.stderr).to.equal(0);
    expect(signed.stderr).to.contain('ORG SIGN');
    const verified = await runCli(['verify', '--trust', join(pki, 'trust.pem'), '--extract', file('extracted.xml'), file('signed.xml')], env);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.match(/valid signed CDA .* signed by CN=750803447 ORG SIGN/);
    expect(readFileSync(file('extracted.xml')).equals(readFileSync(cdaFile))).to.equal(true);
    const foreign = await runCli(['verify', '--trust', join(other, 'trust.pem'), file('signed.xml')], env);
    expect(foreign.code).to.equal(1);
    expect(foreign.stderr).to.contain('invalid signature').and.contain('does not chain to a trusted CA');
  });

  it('signs a submission set and verifies its Manifest against the documents, refusing a changed one', async () => {
    const signed = await runCli(['sign', '--type', 'xades', ...identity(), '--submission-set', '1.2.3.4', '--output', file('xades.xml'), cdaFile], env);
    expect(signed.code, signed.stderr).to.equal(0);
    const ok = await runCli(['verify', '--trust', join(pki, 'trust.pem'), '--submission-set', '1.2.3.4', '--document', cdaFile, file('xades.xml')], env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain('valid submission-set signature of 1.2.3.4');
    writeFileSync(file('changed.xml'), readFileSync(cdaFile, 'utf8').replace(/<title>/, '<title>X'));
    const changed = await runCli(['verify', '--trust', join(pki, 'trust.pem'), '--document', file('changed.xml'), file('xades.xml')], env);
    expect(changed.code).to.equal(1);
    expect(changed.stderr).to.contain('was changed');
    const missing = await runCli(['verify', '--trust', join(pki, 'trust.pem'), file('xades.xml')], env);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('not given');
  });

  it('signs a VIHF for a patient and verifies it', async () => {
    const signed = await runCli(['sign', '--type', 'vihf', ...identity(), '--patient', '279035121518989', '--output', file('vihf.xml')], env);
    expect(signed.code, signed.stderr).to.equal(0);
    expect(readFileSync(file('vihf.xml'), 'utf8')).to.contain('279035121518989^^^&amp;1.2.250.1.213.1.4.8&amp;ISO^NH').and.contain('<saml2:AttributeValue>1750803447</saml2:AttributeValue>');
    const verified = await runCli(['verify', '--trust', join(pki, 'trust.pem'), file('vihf.xml')], env);
    expect(verified.code, verified.stderr).to.equal(0);
    const later = await runCli(['verify', '--trust', join(pki, 'trust.pem'), '--at', new Date(Date.now() + 3_600_000).toISOString(), file('vihf.xml')], env);
    expect(later.code).to.equal(1);
    expect(later.stderr).to.contain('expired');
  });

  it('lists every usage problem at once (exit 2), and refuses a wrong passphrase without echoing it (exit 3)', async () => {
    const usage = await runCli(['sign', '--type', 'pdf', '--patient', '123'], env);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('--type must be').and.contain('--patient must be').and.contain('no signing identity').and.contain('no trust store');
    writeFileSync(file('wrong-passphrase'), 'not-the-passphrase-4242\n');
    const wrong = await runCli(['sign', '--type', 'cda', '--p12', join(pki, 'org-sign.p12'), '--passphrase-file', file('wrong-passphrase'), '--trust', join(pki, 'trust.pem'), cdaFile], env);
    expect(wrong.code).to.equal(3);
    expect(wrong.stderr).to.contain('cannot be opened').and.not.contain('not-the-passphrase-4242');
    expect((await runCli(['verify', file('signed.xml')], env)).code).to.equal(2);
  });

  it('configures the identity from the environment: every problem listed, the passphrase never printed', async () => {
    const broken = await runCli(['config', 'check'], { ...env, PASSERELLE_SIGNING_PKCS12_FILE: join(pki, 'org-sign.p12') });
    expect(broken.code).to.equal(3);
    expect(broken.stderr).to.contain('needs its passphrase').and.contain('needs the trust store');
    const passphrase = readFileSync(join(pki, 'pkcs12-passphrase'), 'utf8').trim();
    const ok = await runCli(['config', 'check'], { ...env, PASSERELLE_SIGNING_PKCS12_FILE: join(pki, 'org-sign.p12'), PASSERELLE_SIGNING_PASSPHRASE: passphrase, PASSERELLE_TRUST_FILE: join(pki, 'trust.pem') });
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain('"passphrase": "***"').and.not.contain(passphrase);
  });

  it('loads identities from PKCS#12 and PEM that never show their key when logged', () => {
    const passphrase = readFileSync(join(pki, 'pkcs12-passphrase'), 'utf8').trim();
    const fromP12 = identityFromPkcs12(readFileSync(join(pki, 'org-sign.p12')), passphrase);
    const fromPem = loadSigningIdentity({ certFile: join(pki, 'org-sign.pem'), keyFile: join(pki, 'org-sign.key') });
    expect(fromP12.certificate.fingerprint256).to.equal(fromPem.certificate.fingerprint256);
    expect(fromP12.chain.map((c) => c.subject)).to.deep.equal(fromPem.chain.map((c) => c.subject));
    expect(fromP12.chain).to.have.length(2);
    for (const shown of [inspect(fromP12), JSON.stringify(fromPem), inspect(fromPem, { depth: 5 })]) expect(shown).to.contain('ORG SIGN').and.not.match(/PRIVATE KEY|BEGIN/);
    expect(() => loadSigningIdentity({ certFile: join(pki, 'org-auth.pem'), keyFile: join(pki, 'org-sign.key') })).to.throw(SignatureError, /does not belong/);
  });
});
