import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { AnsKit } from '../../src/validation/kit.js';
import { validateDocument } from '../../src/validation/validate-document.js';
import { KIT_DIR, requireShared } from '../support/shared.js';

/** Wraps a CDA as a signed CDA does (DC-GEN): ds:Signature root, the ClinicalDocument in ds:Object, on one line. */
function signed(path: string): Buffer {
  const cda = readFileSync(path, 'utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/><ds:SignatureValue/><ds:Object>${cda}</ds:Object></ds:Signature>`);
}

describe('validating a signed CDA', function () {
  this.timeout(60_000);
  let kit: AnsKit;
  before(function () {
    requireShared(this, 'ans-cisis');
    kit = new AnsKit(KIT_DIR);
  });

  it('validates the enveloped ClinicalDocument: a valid example stays valid, with a note that the signature was not verified', () => {
    const report = validateDocument(signed(`${KIT_DIR}examples/TLM-CR_2022.01.xml`), 'signed.xml', { kit });
    expect(report.issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
    expect(report.valid).to.equal(true);
    expect(report.volet).to.equal('TLM-CR_2022.01');
    expect(report.issues.map((i) => i.rule)).to.include('INPUT_SIGNED');
  });

  it('finds the same faults as in the unsigned document, at the lines of the signed file', () => {
    const path = `${KIT_DIR}mutants/TLM-CR-16-unknown-element.xml`;
    const plain = validateDocument(readFileSync(path), path, { kit }).issues.filter((i) => i.severity === 'error');
    const wrapped = validateDocument(signed(path), 'signed.xml', { kit }).issues.filter((i) => i.severity === 'error');
    expect(wrapped.map((i) => `${i.source} ${i.rule ?? ''} ${i.message}`)).to.deep.equal(plain.map((i) => `${i.source} ${i.rule ?? ''} ${i.message}`));
    // The wrapper keeps the prologue on line 1 and starts the CDA's content on line 2, as in the file it wraps.
    const xsd = wrapped.find((i) => i.source === 'xsd');
    expect(xsd?.line).to.equal((plain.find((i) => i.source === 'xsd')?.line ?? 0));
  });

  it('refuses a signature that envelops no ClinicalDocument', () => {
    const report = validateDocument(Buffer.from('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object><x/></ds:Object></ds:Signature>'), 's.xml', { kit });
    expect(report.readable).to.equal(false);
    expect(report.issues.at(-1)?.rule).to.equal('INPUT_SIGNED_WITHOUT_CDA');
  });
});
