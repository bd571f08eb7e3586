import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import type { ActReport } from '../../src/domain/act-report.js';
import { C14N, DIGEST, SIGNATURE } from '../../src/signing/algorithms.js';
import { signCda, verifySignedCda } from '../../src/signing/signed-cda.js';
import { SignatureError } from '../../src/signing/signature-xml.js';
import { signVihf, verifyVihf, type VihfAttributes } from '../../src/signing/vihf.js';
import { cdaUniqueId, signSubmissionSet, verifySubmissionSetSignature, XADES_PROFILES, type XadesProfileName } from '../../src/signing/xades.js';
import { validateDocument } from '../../src/validation/validate-document.js';
import { AnsKit } from '../../src/validation/kit.js';
import { build, xmllintSchema } from '../support/cda.js';
import { fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { testSigner, xmlsec1, xmlsecVerify, type TestSigner } from '../support/signing.js';
import { requireTool } from '../support/tools.js';

export const VIHF_ATTRIBUTES: VihfAttributes = {
  version: '3.0',
  nameId: '801234567890',
  subjectId: 'Passerelle (traitement automatisé)',
  roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7', displayName: 'Médecin' }],
  purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248', displayName: 'Accès normal' },
  structureId: '1750803447',
  sector: 'SA07^1.2.250.1.71.4.2.4',
  authenticationMode: 'INDIRECTE',
  authnContext: 'unspecified',
  patientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH',
  lps: { id: 'passerelle-test', name: 'Passerelle', version: '0.1.0', homologationId: 'TEST-HOMOLOGATION' },
};
const SUBMISSION_SET = '1.2.250.1.999.1.20261201.1';

const expectRefused = (fn: () => unknown, reason: RegExp): void => {
  expect(fn).to.throw(SignatureError, reason);
};

describe('signatures: signed CDA, XAdES submission set, VIHF', function () {
  this.timeout(120_000);
  let ours: TestSigner;
  let stranger: TestSigner;
  let cda: Buffer;
  let signedCda: Buffer;
  const now = new Date();

  before(async function () {
    requireTool(this, 'xmlsec1', 'xmlsec1');
    ours = testSigner();
    stranger = testSigner();
    cda = (await build(fixture('teleconsultation') as ActReport, 'tlm-cr')).xml;
    signedCda = signCda(cda, ours.identity);
  });
  after(() => { ours?.remove(); stranger?.remove(); });

  const xades = (profile: XadesProfileName = 'dmp', signer = ours): Buffer =>
    signSubmissionSet({ submissionSetUniqueId: SUBMISSION_SET, documents: [{ uniqueId: cdaUniqueId(cda), content: cda, xml: true }], signatureId: 'signature-1' }, signer.identity, now, XADES_PROFILES[profile]);
  const verifyXades = (signature: Buffer, documents = [{ uniqueId: cdaUniqueId(cda), content: cda, xml: true }], trust = ours.trust) =>
    verifySubmissionSetSignature(signature, { submissionSetUniqueId: SUBMISSION_SET, documents }, trust, now);
  const vihf = (signer = ours, at = now): Buffer => signVihf(VIHF_ATTRIBUTES, signer.identity, { now: at, validitySeconds: 300 });

  describe('what Passerelle signs, xmlsec1 verifies trusting only the root CA', () => {
    it('a signed CDA: ds:Signature root, the ClinicalDocument in ds:Object, extracted byte for byte', () => {
      expect(signedCda.toString('utf8')).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<ds:Signature xmlns:ds="http:\/\/www.w3.org\/2000\/09\/xmldsig#">/);
      for (const uri of [C14N.exclusive, SIGNATURE.rsaSha256, DIGEST.sha256]) expect(signedCda.toString('utf8')).to.contain(`Algorithm="${uri}"`);
      const result = xmlsecVerify(signedCda, ours.rootFile);
      expect(result.ok, result.output).to.equal(true);
      const verified = verifySignedCda(signedCda, ours.trust, now);
      expect(verified.document.equals(cda)).to.equal(true);
      expect(verified.signer.subject).to.contain('ORG SIGN');
    });

    it('a signed CDA of a document with a prolog and an epilog signs the ClinicalDocument element alone', () => {
      const element = cda.toString('utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
      const decorated = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="cda.xsl"?>\n<!-- built by a test -->\n${element}\n<!-- end -->\n<?pi after?>\n`);
      const signed = signCda(decorated, ours.identity);
      expect(signed.toString('utf8')).to.not.contain('xml-stylesheet').and.not.contain('built by a test');
      expect(verifySignedCda(signed, ours.trust, now).document.equals(cda)).to.equal(true);
      expect(xmlsecVerify(signed, ours.rootFile).ok).to.equal(true);
    });

    for (const profile of ['dmp', 'sha256'] as const) {
      it(`a XAdES submission-set signature (${profile} profile), whose Manifest digest of the CDA is libxml2's canonical form`, () => {
        const signature = xades(profile);
        const result = xmlsecVerify(signature, ours.rootFile, ['--ignore-manifests']);
        expect(result.ok, result.output).to.equal(true);
        expect(verifyXades(signature).documentUniqueIds).to.deep.equal([cdaUniqueId(cda)]);
        // The document's digest, recomputed by libxml2 (xmllint --c14n is C14N 1.0 with comments) and openssl.
        const c14n = execFileSync('xmllint', [profile === 'dmp' ? '--c14n' : '--exc-c14n', '-'], { input: cda });
        const digest = execFileSync('openssl', ['dgst', profile === 'dmp' ? '-sha1' : '-sha256', '-binary'], { input: c14n }).toString('base64');
        expect(signature.toString('utf8')).to.contain(`<ds:Reference URI="urn:oid:${cdaUniqueId(cda)}">`).and.contain(`<ds:DigestValue>${digest}</ds:DigestValue>`);
        expect(signature.toString('utf8')).to.contain('xmlns:xades="http://uri.etsi.org/01903/v1.1.1#"').and.contain('<ds:SignatureProperty Id="purposeOfSignature" Target="#signature-1">1.2.840.10065.1.12.1.14</ds:SignatureProperty>');
      });
    }

    it('a VIHF: an enveloped-signed SAML assertion with its attributes, valid for the configured window', () => {
      const assertion = vihf();
      const result = xmlsecVerify(assertion, ours.rootFile);
      expect(result.ok, result.output).to.equal(true);
      const verified = verifyVihf(assertion, ours.trust, now);
      expect(verified.attributes.get('VIHF_Version')).to.deep.equal(['3.0']);
      expect(verified.attributes.get('Ressource_URN')).to.deep.equal(['urn:dmp']);
      expect(verified.attributes.get('urn:oasis:names:tc:xacml:2.0:subject:role')).to.deep.equal(['10^1.2.250.1.71.1.2.7']);
      expect(verified.issuer).to.match(/^CN=750803447 ORG SIGN,OU=750803447,O=CENTRE HOSPITALIER DE TEST,C=FR$/);
      expect(verified.notOnOrAfter.getTime() - verified.notBefore.getTime()).to.equal(300_000);
      expectRefused(() => verifyVihf(assertion, ours.trust, new Date(now.getTime() + 600_000)), /expired/);
    });
  });

  describe('what xmlsec1 signs from a template, Passerelle verifies', () => {
    const keys = (): string => `${ours.keyFile},${ours.certFile},${ours.intermediateFile}`;
    const emptied = (signed: Buffer): Buffer => Buffer.from(signed.toString('utf8')
      .replace(/<ds:DigestValue>[^<]*<\/ds:DigestValue>(?=<\/ds:Reference><\/ds:SignedInfo>|<\/ds:Reference><ds:Reference URI="#)/g, '<ds:DigestValue></ds:DigestValue>')
      .replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue></ds:SignatureValue>')
      .replace(/<ds:KeyInfo>.*?<\/ds:KeyInfo>/s, '<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>'));

    it('a signed CDA', () => {
      const signed = xmlsec1(['--sign', '--privkey-pem', keys()], emptied(signedCda));
      expect(signed.ok, signed.output).to.equal(true);
      expect(signed.file.equals(signedCda)).to.equal(false);
      expect(verifySignedCda(signed.file, ours.trust, now).document.equals(cda)).to.equal(true);
    });

    it('a XAdES submission-set signature', () => {
      const signed = xmlsec1(['--sign', '--ignore-manifests', '--id-attr:Id', 'http://uri.etsi.org/01903/v1.1.1#:SignedProperties', '--privkey-pem', keys()], emptied(xades()));
      expect(signed.ok, signed.output).to.equal(true);
      expect(verifyXades(signed.file).submissionSetUniqueId).to.equal(SUBMISSION_SET);
    });

    it('a VIHF', () => {
      const signed = xmlsec1(['--sign', '--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion', '--privkey-pem', keys()], emptied(vihf()));
      expect(signed.ok, signed.output).to.equal(true);
      expect(verifyVihf(signed.file, ours.trust, now).nameId).to.equal('801234567890');
    });
  });

  describe('both refuse', () => {
    /** Replaces one letter or digit of the signed content by another one. */
    const flip = (signed: Buffer, from: number, to: number, seed: number): Buffer | undefined => {
      const text = signed.toString('latin1');
      for (let i = 0; i < to - from; i += 1) {
        const at = from + ((seed + i * 7919) % (to - from));
        const c = text[at] ?? '';
        if (/[A-Za-z0-9]/.test(c)) return Buffer.from(text.slice(0, at) + (c === 'A' ? 'B' : 'A') + text.slice(at + 1), 'latin1');
      }
      return undefined;
    };

    it('any changed character of the signed content (fast-check: 12 per signature type)', () => {
      const cases: { name: string; signed: Buffer; from: number; to: number; ours: (b: Buffer) => unknown; extra: string[] }[] = [];
      const text = signedCda.toString('latin1');
      cases.push({ name: 'cda', signed: signedCda, from: text.indexOf('<ClinicalDocument'), to: text.lastIndexOf('</ClinicalDocument>'), ours: (b) => verifySignedCda(b, ours.trust, now), extra: [] });
      const signature = xades();
      const xText = signature.toString('latin1');
      // The two signed parts only: QualifyingProperties around SignedProperties is not signed (its
      // Target is checked by Passerelle, not by XMLDSig, so xmlsec1 rightly accepts a change there).
      cases.push({ name: 'xades Manifest', signed: signature, from: xText.indexOf('<ds:Manifest'), to: xText.indexOf('</ds:Manifest>'), ours: (b) => verifyXades(b), extra: ['--ignore-manifests'] });
      cases.push({ name: 'xades SignedProperties', signed: signature, from: xText.indexOf('<xades:SignedProperties'), to: xText.indexOf('</xades:SignedProperties>'), ours: (b) => verifyXades(b), extra: ['--ignore-manifests'] });
      const assertion = vihf();
      const vText = assertion.toString('latin1');
      cases.push({ name: 'vihf', signed: assertion, from: vText.indexOf('<saml2:Subject>'), to: vText.indexOf('</saml2:AttributeStatement>'), ours: (b) => verifyVihf(b, ours.trust, now), extra: [] });
      for (const c of cases) {
        fc.assert(fc.property(fc.nat(), (seed) => {
          const changed = flip(c.signed, c.from, c.to, seed);
          if (changed === undefined) return;
          expect(() => c.ours(changed), c.name).to.throw(SignatureError);
          expect(xmlsecVerify(changed, ours.rootFile, c.extra).ok, c.name).to.equal(false);
        }), { numRuns: 12 });
      }
    });

    it('a removed or an added reference', () => {
      const signature = xades().toString('utf8');
      const withoutProperties = Buffer.from(signature.replace(/<ds:Reference URI="#S0-SignedProperties".*?<\/ds:Reference>/s, ''));
      expectRefused(() => verifyXades(withoutProperties), /references|signature value/);
      expect(xmlsecVerify(withoutProperties, ours.rootFile, ['--ignore-manifests']).ok).to.equal(false);
      const text = signedCda.toString('utf8');
      const reference = /<ds:Reference URI="#ClinicalDocument">.*?<\/ds:Reference>/s.exec(text)?.[0] ?? '';
      const added = Buffer.from(text.replace(reference, reference + reference.replace('#ClinicalDocument', '#ClinicalDocument2')).replace('<ds:Object Id="ClinicalDocument">', '<ds:Object Id="ClinicalDocument2"></ds:Object><ds:Object Id="ClinicalDocument">'));
      expectRefused(() => verifySignedCda(added, ours.trust, now), /signature value|ds:Object/);
      expect(xmlsecVerify(added, ours.rootFile).ok).to.equal(false);
    });

    it('a signer certificate from another CA, even when it is the one in KeyInfo (CVE-2024-32962)', () => {
      for (const [signed, verify, extra] of [
        [signCda(cda, stranger.identity), (b: Buffer) => verifySignedCda(b, ours.trust, now), []],
        [xades('dmp', stranger), (b: Buffer) => verifyXades(b), ['--ignore-manifests']],
        [vihf(stranger), (b: Buffer) => verifyVihf(b, ours.trust, now), []],
      ] as const) {
        expectRefused(() => verify(signed), /does not chain to a trusted CA/);
        expect(xmlsecVerify(signed, ours.rootFile, extra).ok).to.equal(false);
      }
      // A KeyInfo with a bare key and no certificate gives no signer at all.
      const keyValue = Buffer.from(signedCda.toString('utf8').replace(/<ds:KeyInfo>.*?<\/ds:KeyInfo>/s, '<ds:KeyInfo><ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue></ds:KeyInfo>'));
      expectRefused(() => verifySignedCda(keyValue, ours.trust, now), /no X509Certificate/);
    });

    it('an expired or a not-yet-valid signer certificate', () => {
      const expired = testSigner(new Date(now.getTime() - 10 * 86_400_000), 2);
      const future = testSigner(new Date(now.getTime() + 10 * 86_400_000), 2);
      try {
        for (const [signer, reason] of [[expired, /expired/], [future, /not valid before/]] as const) {
          const signed = signCda(cda, signer.identity);
          expectRefused(() => verifySignedCda(signed, signer.trust, now), reason);
          expect(xmlsecVerify(signed, signer.rootFile).ok).to.equal(false);
          expectRefused(() => verifyVihf(vihf(signer), signer.trust, now), reason);
        }
      } finally {
        expired.remove();
        future.remove();
      }
    });
  });

  describe('published attacks on XML signature verifiers', () => {
    it('refuses several SignedInfo elements, or several references to the same content (CVE-2025-29774)', () => {
      const text = signedCda.toString('utf8');
      const signedInfo = /<ds:SignedInfo>.*?<\/ds:SignedInfo>/s.exec(text)?.[0] ?? '';
      expectRefused(() => verifySignedCda(Buffer.from(text.replace(signedInfo, signedInfo + signedInfo)), ours.trust, now), /several SignedInfo|must hold SignedInfo/);
      const reference = /<ds:Reference .*?<\/ds:Reference>/s.exec(text)?.[0] ?? '';
      expectRefused(() => verifySignedCda(Buffer.from(text.replace(reference, reference + reference)), ours.trust, now), /same URI twice/);
      // A second signature elsewhere in the document.
      const assertion = vihf().toString('utf8');
      const signature = /<ds:Signature .*?<\/ds:Signature>/s.exec(assertion)?.[0] ?? '';
      expectRefused(() => verifyVihf(Buffer.from(assertion.replace('</saml2:AttributeStatement>', `</saml2:AttributeStatement>${signature}`)), ours.trust, now), /2 ds:Signature/);
    });

    it('refuses a digest value carrying a comment, even when the signature itself still checks (CVE-2025-29775)', () => {
      // Exclusive C14N drops comments, so the SignedInfo signature is intact: only the strict reading catches it.
      const withComment = Buffer.from(signedCda.toString('utf8').replace('<ds:DigestValue>', '<ds:DigestValue><!-- AAAA -->'));
      expect(xmlsecVerify(withComment, ours.rootFile).ok).to.equal(true);
      expectRefused(() => verifySignedCda(withComment, ours.trust, now), /holds something other than text/);
    });

    it('refuses signature wrapping: a forged document where the signed one was, the signed one moved aside', () => {
      // CDA: a forged ClinicalDocument in a new first ds:Object, the signed Object kept after it.
      const text = signedCda.toString('utf8');
      const forgedCda = cda.toString('utf8').replace(/^<\?xml[^>]*\?>\s*/, '').replace(/<title>[^<]*<\/title>/, '<title>Falsifié</title>');
      const wrapped = Buffer.from(text.replace('<ds:Object Id="ClinicalDocument">', `<ds:Object>${forgedCda}</ds:Object><ds:Object Id="ClinicalDocument">`));
      expectRefused(() => verifySignedCda(wrapped, ours.trust, now), /one ds:Object/);
      // VIHF: a new assertion with forged attributes, the signed one moved into it (same ID twice, then another ID).
      const assertion = vihf().toString('utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
      const id = /ID="([^"]+)"/.exec(assertion)?.[1] ?? '';
      const signature = /<ds:Signature .*?<\/ds:Signature>/s.exec(assertion)?.[0] ?? '';
      const forged = (rootId: string): Buffer => Buffer.from(assertion.replace(`ID="${id}"`, `ID="${rootId}"`).replace('Médecin', 'Pharmacien').replace('<saml2:Subject>', `<saml2:Advice>${assertion.replace(signature, '')}</saml2:Advice><saml2:Subject>`));
      expectRefused(() => verifyVihf(forged(id), ours.trust, now), /carried by two elements|digest/);
      expectRefused(() => verifyVihf(forged('_forged'), ours.trust, now), /assertion itself|names no element|not inside the signed element/);
    });

    it('refuses a DOCTYPE and entities before anything else', () => {
      const withDoctype = Buffer.from(signedCda.toString('utf8').replace('<ds:Signature', '<!DOCTYPE x [<!ENTITY e "x">]><ds:Signature'));
      expectRefused(() => verifySignedCda(withDoctype, ours.trust, now), /DOCTYPE/);
    });
  });

  it('keeps a signed TLM-CR valid for passerelle validate (on the enveloped ClinicalDocument) and for xmllint', function () {
    requireShared(this, 'ans-cisis');
    requireTool(this, 'xmllint', 'libxml2-utils');
    const kit = new AnsKit(KIT_DIR);
    try {
      const report = validateDocument(signedCda, 'signed.xml', { kit });
      expect(report.issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
      expect(report.valid).to.equal(true);
    } finally {
      kit.dispose();
    }
    const extracted = verifySignedCda(signedCda, ours.trust, now).document;
    expect(xmllintSchema(extracted).ok).to.equal(true);
  });
});
