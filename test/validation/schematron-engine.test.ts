import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { SchematronEngine } from '../../src/validation/schematron/engine.js';
import { selectorOf, targetNamesOf } from '../../src/validation/schematron/match-patterns.js';
import { loadSchematron, SchematronLoadError } from '../../src/validation/schematron/loader.js';
import { validateDocument } from '../../src/validation/validate-document.js';
import { parseXml } from '../../src/validation/xml-parse.js';

const SCH = 'http://purl.oclc.org/dsdl/schematron';

describe('the Schematron engine', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'passerelle-sch-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const run = (schema: string, xml: string, phase?: string) => new SchematronEngine(loadSchematron(pathToFileURL(file('main.sch', schema)), phase === undefined ? {} : { phase })).validate(parseXml(xml, 'doc.xml'));

  it('fires only the first matching rule of a pattern on a node, but every pattern', () => {
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2">
      <pattern><rule context="b[@x]"><assert test="false()">first</assert></rule><rule context="b"><assert test="false()">second</assert></rule></pattern>
      <pattern><rule context="b"><assert test="false()">other pattern</assert></rule></pattern></schema>`, '<a><b x="1"/><b/></a>');
    expect(result.findings.map((f) => f.message).sort()).to.deep.equal(['first', 'other pattern', 'other pattern', 'second']);
    expect(result.firedRules).to.equal(4);
  });

  it('applies the default phase, or the phase asked for', () => {
    const schema = `<schema xmlns="${SCH}" queryBinding="xslt2" defaultPhase="one">
      <phase id="one"><active pattern="p1"/></phase><phase id="two"><active pattern="p2"/></phase>
      <pattern id="p1"><rule context="a"><report test="true()">p1</report></rule></pattern>
      <pattern id="p2"><rule context="a"><report test="true()">p2</report></rule></pattern></schema>`;
    expect(run(schema, '<a/>').findings.map((f) => f.message)).to.deep.equal(['p1']);
    expect(run(schema, '<a/>', 'two').findings.map((f) => f.message)).to.deep.equal(['p2']);
    expect(run(schema, '<a/>', '#ALL').findings.map((f) => f.message)).to.deep.equal(['p1', 'p2']);
  });

  it('instantiates abstract patterns with their parameters, and abstract rules through extends, from included files', () => {
    file('abstract.sch', `<pattern xmlns="${SCH}" abstract="true" id="hasChild"><rule context="$parent"><extends rule="base"/><assert test="$child">missing <value-of select="'$child'"/> in <name/></assert></rule></pattern>`);
    file('base.sch', `<rule xmlns="${SCH}" abstract="true" id="base"><assert test="not(@bad)">bad attribute on <name/></assert></rule>`);
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><include href="abstract.sch"/><pattern><include href="base.sch"/></pattern>
      <pattern is-a="hasChild" id="a-has-b"><param name="parent" value="a"/><param name="child" value="b"/></pattern></schema>`, '<a bad="1"><c/></a>');
    expect(result.findings.map((f) => f.message).sort()).to.deep.equal(['bad attribute on a', 'missing b in a']);
  });

  it('sees schema and pattern lets everywhere (as the ISO skeleton does) and rule lets in their rule', () => {
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><let name="g" value="count(//b)"/>
      <pattern><let name="p" value="'from pattern 1'"/><rule context="a"><let name="n" value="count(b)"/><report test="$n = $g">all <value-of select="$n"/> b</report></rule></pattern>
      <pattern><rule context="a"><report test="true()"><value-of select="$p"/></report></rule></pattern></schema>`, '<a><b/><b/></a>');
    expect(result.findings.map((f) => f.message)).to.deep.equal(['all 2 b', 'from pattern 1']);
  });

  it('resolves doc() against the schematron and reads value sets with it', () => {
    file('codes.xml', '<codes><code v="OK"/></codes>');
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><pattern><rule context="c"><assert test="@v = doc('codes.xml')//code/@v">unknown code <value-of select="@v"/></assert></rule></pattern></schema>`, '<r><c v="OK"/><c v="KO"/></r>');
    expect(result.findings.map((f) => f.message)).to.deep.equal(['unknown code KO']);
  });

  it('provides matches() with flags and resolve-QName(), which fontoxpath lacks', () => {
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><ns prefix="x" uri="urn:x"/><ns prefix="xsi" uri="http://www.w3.org/2001/XMLSchema-instance"/>
      <pattern><rule context="x:v"><report test="matches(@lang, '^FR-fr$', 'i')">case-insensitive</report>
      <report test="resolve-QName(@xsi:type, .) = QName('urn:x', 'ST')">typed ST</report></rule></pattern></schema>`,
    '<r xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="urn:x"><v lang="fr-FR" xsi:type="p:ST"/></r>');
    expect(result.findings.map((f) => f.message)).to.deep.equal(['case-insensitive', 'typed ST']);
  });

  it('keeps the kind and role of each failed check, from which its severity derives', () => {
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><pattern><rule context="a">
      <assert test="false()">an error</assert><assert role="warning" test="false()">a warning</assert><report test="true()">a report</report></rule></pattern></schema>`, '<a/>');
    expect(result.findings.map((f) => `${f.kind}:${f.role ?? '-'}`)).to.deep.equal(['assert:-', 'assert:warning', 'report:-']);
  });

  it('reports a test it cannot evaluate and goes on with the other rules', () => {
    const result = run(`<schema xmlns="${SCH}" queryBinding="xslt2"><pattern>
      <rule context="a"><assert test="unknown-function(.)">never</assert><assert test="false()">still checked</assert></rule></pattern></schema>`, '<a/>');
    expect(result.findings.map((f) => f.kind)).to.deep.equal(['error', 'assert']);
    expect(result.findings[0]?.message).to.contain('could not be evaluated').and.contain('unknown-function');
  });

  it('refuses an extends of an unknown abstract rule, and a missing phase', () => {
    expect(() => run(`<schema xmlns="${SCH}"><pattern><rule context="a"><extends rule="nope"/></rule></pattern></schema>`, '<a/>')).to.throw(SchematronLoadError, /unknown abstract rule "nope"/);
    expect(() => run(`<schema xmlns="${SCH}" defaultPhase="missing"><pattern id="p"/></schema>`, '<a/>')).to.throw(SchematronLoadError, /no phase "missing"/);
  });

  it('turns a match pattern into a selector that reads leading names from the element index', () => {
    expect(selectorOf('cda:author').selector).to.equal('$passerelle-elements-author[self::cda:author]');
    expect(selectorOf('/').selector).to.equal('/');
    expect(selectorOf('//a[@x]/b | /c').selector).to.equal('$passerelle-elements-a[@x]/b | /c');
    expect(selectorOf('a[1]/b').selector).to.equal('//a[1]/b');
    expect(targetNamesOf("x:a[x:b/@c='1']/x:d | e")).to.deep.equal(['d', 'e']);
    expect(targetNamesOf('*[@a]')).to.equal(undefined);
  });

  it('runs the built-in rules when no kit is given, and only them', () => {
    const report = validateDocument(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="FR"/></ClinicalDocument>'), 'min.xml');
    expect(report.valid).to.equal(false);
    expect(new Set(report.issues.map((i) => i.source))).to.deep.equal(new Set(['builtin']));
  });
});
