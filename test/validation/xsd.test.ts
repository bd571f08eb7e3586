import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { requireTool } from '../support/tools.js';
import { XsdSchema } from '../../src/validation/xsd.js';
import { KIT_DIR, expectedVerdicts, requireShared } from '../support/shared.js';

describe('XSD validation (libxml2-wasm) against CDA_extended.xsd', function () {
  let schema: XsdSchema;
  let xsdPath: string;
  before(function () {
    xsdPath = requireShared(this, 'ans-cisis/infrastructure/cda/CDA_extended.xsd');
    schema = XsdSchema.load(xsdPath);
  });
  after(() => {
    schema?.dispose();
  });

  it('gives the official verdict, error for error, on every example and mutant of the kit', () => {
    const cases = expectedVerdicts();
    expect(cases.length).to.be.greaterThan(30);
    for (const { file, path, verdict } of cases) {
      const issues = schema.validate(readFileSync(path), path);
      expect(issues.length === 0, `${file}: valid`).to.equal(verdict.xsd.valid);
      // The official errors read "FILE:LINE: element X: Schemas validity error : MESSAGE".
      const official = verdict.xsd.errors.map((e) => { const m = /^[^:]+:(\d+): .*? : (.*)$/s.exec(e); return `${m?.[1] ?? '?'} ${m?.[2] ?? e}`; });
      expect(issues.map((i) => `${String(i.line)} ${i.message}`), file).to.deep.equal(official);
    }
  });

  it('agrees with xmllint --noout --nonet --schema run on the same files', function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    for (const { file, path } of expectedVerdicts()) {
      let xmllintValid = true;
      try { execFileSync('xmllint', ['--noout', '--nonet', '--schema', xsdPath, path], { stdio: 'ignore' }); } catch { xmllintValid = false; }
      expect(schema.validate(readFileSync(path), path).length === 0, file).to.equal(xmllintValid);
    }
  });

  it('reads no file outside the schema folder while validating, even when a document asks', () => {
    const hostile = Buffer.from(`<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></ClinicalDocument>`);
    const issues = schema.validate(hostile, `${KIT_DIR}hostile.xml`);
    expect(issues.map((i) => i.message).join('\n')).to.not.contain('root:');
    expect(issues.length).to.be.greaterThan(0);
  });
});
