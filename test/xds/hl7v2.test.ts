import { expect } from 'chai';
import fc from 'fast-check';
import { escapeHl7, formatCe, formatCx, formatXcn, formatXon, parseCx, parseXcn, parseXon, unescapeHl7 } from '../../src/xds/hl7v2.js';
import type { Cx, Xcn, Xon } from '../../src/xds/model.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';

/** Text that may hold every HL7 v2 delimiter and escape letter, plus anything else. */
const tricky = fc.oneof(
  fc.string({ unit: fc.constantFrom('^', '&', '~', '|', '\\', 'E', 'F', 'S', 'T', 'R', 'a', ' ', 'é'), minLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1 }),
);
const oid = fc.array(fc.nat({ max: 99999 }), { minLength: 2, maxLength: 8 }).map((arcs) => `1.${arcs.join('.')}`);

describe('HL7 v2 data types of XDS metadata', () => {
  it('writes the INS as the DMP expects a CX, and reads it back', () => {
    const ins: Cx = { id: '279035121518989', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' };
    expect(formatCx(ins)).to.equal('279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH');
    expect(parseCx('279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH')).to.deep.equal(ins);
  });

  it('writes a professional as XCN and a structure as XON in the shapes of french-specs §3.1', () => {
    const person: Xcn = { id: '801234567890', family: 'NOM', given: 'Prénom', assigningAuthority: '1.2.250.1.71.4.2.1', nameTypeCode: 'D', identifierTypeCode: 'IDNPS' };
    expect(formatXcn(person)).to.equal('801234567890^NOM^Prénom^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS');
    const structure: Xon = { name: 'CENTRE HOSPITALIER', id: '1750803447', assigningAuthority: '1.2.250.1.71.4.2.2', identifierTypeCode: 'IDNST' };
    expect(formatXon(structure)).to.equal('CENTRE HOSPITALIER^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750803447');
    expect(formatCe({ code: 'G15_10/SM26', displayName: 'Médecin - Qualifié en Médecine Générale (SM)', codeSystem: '1.2.250.1.213.1.1.4.5' }))
      .to.equal('G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5');
  });

  it('escapes the delimiters inside a value, so that a name with & or ^ stays one component', () => {
    expect(escapeHl7('A^B&C~D|E\\F')).to.equal('A\\S\\B\\T\\C\\R\\D\\F\\E\\E\\F');
    const xcn = formatXcn({ id: '1', family: "D'ALMEIDA & FILS", given: 'Jean^Paul' });
    expect(xcn).to.equal("1^D'ALMEIDA \\T\\ FILS^Jean\\S\\Paul");
    expect(parseXcn(xcn)).to.deep.equal({ id: '1', family: "D'ALMEIDA & FILS", given: 'Jean^Paul' });
    expect(unescapeHl7('\\X0D\\')).to.equal('\\X0D\\');
  });

  it('omits trailing empty components and reads identifiers written by other systems', () => {
    expect(formatXcn({ id: '801234567890' })).to.equal('801234567890');
    expect(formatCx({ id: 'IPP1', assigningAuthority: '1.2.3' })).to.equal('IPP1^^^&1.2.3&ISO');
    expect(parseCx('IPP1^^^HOPITAL&1.2.3&ISO^PI^^')).to.deep.equal({ id: 'IPP1', assigningAuthority: '1.2.3', identifierTypeCode: 'PI' });
    expect(parseXon('CLINIQUE')).to.deep.equal({ name: 'CLINIQUE' });
  });

  it('refuses what is not a CX, XCN or XON, naming every problem', () => {
    const problems = (f: () => unknown): readonly string[] => {
      try {
        f();
      } catch (error) {
        expect(error).to.be.instanceOf(XdsFormatError);
        return (error as XdsFormatError).problems;
      }
      throw new Error('expected an XdsFormatError');
    };
    expect(problems(() => parseCx('^^^'))).to.have.length(2);
    expect(problems(() => parseCx('123^^^&1.2.3&DNS^PI')).join()).to.contain('not ISO');
    expect(problems(() => parseXcn('^^Jean')).join()).to.contain('XCN.1');
    expect(problems(() => parseXon('^^^^^&1.2.3&ISO')).join()).to.contain('XON.1');
  });

  it('reads back every CX it writes, whatever characters the values hold', () => {
    fc.assert(fc.property(
      fc.record({ id: tricky, assigningAuthority: oid, identifierTypeCode: tricky }, { requiredKeys: ['id', 'assigningAuthority'] }),
      (cx) => { expect(parseCx(formatCx(cx))).to.deep.equal(cx); },
    ));
  });

  it('reads back every XCN it writes', () => {
    fc.assert(fc.property(
      fc.record({ id: tricky, family: tricky, given: tricky, assigningAuthority: oid, nameTypeCode: fc.constantFrom('D', 'U'), identifierTypeCode: fc.constantFrom('IDNPS', 'NH', 'RI') }, { requiredKeys: ['id'] }),
      (xcn) => { expect(parseXcn(formatXcn(xcn))).to.deep.equal(xcn); },
    ));
  });

  it('reads back every XON it writes', () => {
    fc.assert(fc.property(
      fc.record({ name: tricky, id: tricky, assigningAuthority: oid, identifierTypeCode: fc.constant('IDNST') }, { requiredKeys: ['name'] }),
      (xon) => { expect(parseXon(formatXon(xon))).to.deep.equal(xon); },
    ));
  });

  it('unescapes exactly what it escapes', () => {
    fc.assert(fc.property(tricky, (value) => {
      const escaped = escapeHl7(value);
      expect(escaped).not.to.match(/[\^&~|]/);
      expect(unescapeHl7(escaped)).to.equal(value);
    }));
  });
});
