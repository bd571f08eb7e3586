/**
 * Parity with the official ANS pipeline (the ISO skeleton compiled by Saxon-HE): for every example
 * and mutant of the kit, and every schematron the pipeline applied to it, the same failed-assert
 * messages (as a multiset, white space collapsed) and the same number of fired rules.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { SchematronEngine } from '../../src/validation/schematron/engine.js';
import { loadSchematron } from '../../src/validation/schematron/loader.js';
import { parseXml } from '../../src/validation/xml-parse.js';
import { KIT_DIR, expectedVerdicts, requireShared } from '../support/shared.js';

describe('the Schematron engine on the ANS kit', function () {
  this.timeout(120_000);
  const engines = new Map<string, SchematronEngine>();
  const engine = (relative: string): SchematronEngine => {
    let e = engines.get(relative);
    if (e === undefined) {
      e = new SchematronEngine(loadSchematron(pathToFileURL(`${KIT_DIR}schematrons/${relative}`)));
      engines.set(relative, e);
    }
    return e;
  };

  before(function () {
    requireShared(this, 'ans-cisis/schematrons');
  });

  it('reproduces the official failed asserts and fired-rule counts on every example and mutant', () => {
    const differences: string[] = [];
    let compared = 0;
    for (const { file, path, verdict } of expectedVerdicts()) {
      const document = parseXml(readFileSync(path, 'utf8'), file);
      for (const [schematron, official] of Object.entries(verdict.schematron)) {
        compared++;
        const result = engine(schematron).validate(document);
        const failed = result.findings.filter((f) => f.kind === 'assert').map((f) => f.message).sort();
        const expected = [...official.failed].sort();
        const missing = expected.filter((m, i) => expected.indexOf(m) === i && failed.filter((x) => x === m).length < expected.filter((x) => x === m).length);
        const extra = failed.filter((m, i) => failed.indexOf(m) === i && expected.filter((x) => x === m).length < failed.filter((x) => x === m).length);
        for (const m of missing) differences.push(`${file} / ${schematron}: missing "${m}"`);
        for (const m of extra) differences.push(`${file} / ${schematron}: unexpected "${m}"`);
        if (result.firedRules !== official.fired) differences.push(`${file} / ${schematron}: fired ${result.firedRules} rules, the official pipeline ${official.fired}`);
        for (const e of result.findings.filter((f) => f.kind === 'error')) differences.push(`${file} / ${schematron}: ${e.message}`);
      }
    }
    expect(compared).to.be.greaterThan(60);
    expect(differences, differences.join('\n')).to.deep.equal([]);
  });

  it('finds every example of the kit free of failed asserts', () => {
    for (const { file, path, verdict } of expectedVerdicts().filter((c) => c.path.includes('/examples/'))) {
      const document = parseXml(readFileSync(path, 'utf8'), file);
      for (const schematron of Object.keys(verdict.schematron)) {
        expect(engine(schematron).validate(document).findings.filter((f) => f.kind === 'assert').map((f) => f.message), `${file} / ${schematron}`).to.deep.equal([]);
      }
    }
  });

  it('locates each failed assert on the element it fired on, with its line', () => {
    const path = `${KIT_DIR}mutants/TLM-CR-03-realm-us.xml`;
    const result = engine('profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch').validate(parseXml(readFileSync(path, 'utf8'), path));
    const finding = result.findings.find((f) => f.kind === 'assert');
    expect(finding?.location).to.match(/^\/ClinicalDocument\[1\]/);
    expect(finding?.line).to.be.a('number').and.greaterThan(0);
  });
});
