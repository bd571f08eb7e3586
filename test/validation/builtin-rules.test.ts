import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { checkHeader } from '../../src/validation/builtin/header-rules.js';
import { AnsKit } from '../../src/validation/kit.js';
import { parseXml } from '../../src/validation/xml-parse.js';
import { KIT_DIR, expectedVerdicts, requireShared } from '../support/shared.js';

/** The fault of each mutant, by the number in its name, and the built-in rule that must catch it. */
const COVERED: Readonly<Record<string, string>> = {
  '00': 'CISIS-HDR-INS-TRAITS',
  '01': 'CISIS-HDR-INS-TRAITS',
  '02': 'CISIS-HDR-LEGAL-AUTHENTICATOR',
  '03': 'CISIS-HDR-REALM',
  '04': 'CISIS-HDR-TEMPLATE-CISIS',
  '05': 'CISIS-HDR-CODE-JDV_J07',
  '06': 'CISIS-HDR-CONFIDENTIALITY',
  '07': 'CISIS-HDR-LANGUAGE',
  '08': 'CISIS-HDR-SETID',
  '09': 'CISIS-HDR-TITLE',
  '10': 'CISIS-HDR-PATIENT-BIRTHTIME',
  '12': 'CISIS-TLM-NGAP',
  'TLM-CR-13': 'CISIS-BODY-MEDIA-TYPE',
};
// Not covered: 16 (an unknown element: the XSD's job) and TLM-DA-13 (a media type deep in a
// level-3 entry, outside the header).

describe('the built-in CI-SIS rules', function () {
  let kit: AnsKit;
  before(function () {
    requireShared(this, 'ans-cisis');
    kit = new AnsKit(KIT_DIR);
  });

  it('pass every example of the kit, level 1 and level 3', () => {
    for (const { file, path } of expectedVerdicts().filter((c) => c.path.includes('/examples/'))) {
      const issues = checkHeader(parseXml(readFileSync(path, 'utf8'), file), kit.valueSets()).filter((i) => i.severity === 'error');
      expect(issues.map((i) => `${i.rule ?? ''} ${i.message}`), file).to.deep.equal([]);
    }
  });

  it('flag every mutant whose fault they cover, with the rule meant for it, on the right element', () => {
    let checked = 0;
    for (const { file, path } of expectedVerdicts().filter((c) => c.path.includes('/mutants/'))) {
      const number = /-(\d\d)-/.exec(file)?.[1] ?? '';
      const rule = COVERED[file.slice(0, 9)] ?? (number === '13' ? undefined : COVERED[number]);
      if (rule === undefined) continue;
      const issues = checkHeader(parseXml(readFileSync(path, 'utf8'), file), kit.valueSets());
      const found = issues.find((i) => i.rule === rule);
      expect(found, `${file}: expected ${rule}, got ${issues.map((i) => i.rule ?? '').join(', ') || 'nothing'}`).to.not.equal(undefined);
      expect(found?.location, file).to.match(/^\/ClinicalDocument\[1\]/);
      expect(found?.hint, file).to.be.a('string');
      checked++;
    }
    expect(checked).to.equal(25);
  });

  it('run without a kit, checking the shape of the document code but not its value set', () => {
    const path = `${KIT_DIR}mutants/TLM-CR-05-bad-doc-type.xml`;
    expect(checkHeader(parseXml(readFileSync(path, 'utf8'), path)).map((i) => i.rule)).to.not.include('CISIS-HDR-CODE-JDV_J07');
  });

  it('check the INS key that the kit does not', () => {
    const path = `${KIT_DIR}examples/TLM-CR_2022.01.xml`;
    const text = readFileSync(path, 'utf8').replace('extension="279035121518989"', 'extension="279035121518988"');
    expect(checkHeader(parseXml(text, path)).map((i) => i.rule)).to.include('CISIS-HDR-INS-KEY');
  });

  it('name a root element that is not a ClinicalDocument', () => {
    const issues = checkHeader(parseXml('<Bundle xmlns="http://hl7.org/fhir"/>', 'x'));
    expect(issues[0]?.rule).to.equal('CISIS-ROOT');
    expect(issues[0]?.message).to.contain('{http://hl7.org/fhir}Bundle');
  });
});
