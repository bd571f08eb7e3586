import { expect } from 'chai';
import fc from 'fast-check';
import type { ActReport } from '../../src/domain/act-report.js';
import { DEFAULT_NGAP_ACT_CODES } from '../../src/domain/act.js';
import { luhnValid, nirKey } from '../../src/domain/identifiers.js';
import { ActReportValidator } from '../../src/intake/act-report-validator.js';
import { AnsKit } from '../../src/validation/kit.js';
import { validateDocument } from '../../src/validation/validate-document.js';
import { BUILD_NOW, build, xmllintSchema } from '../support/cda.js';
import { misplacedFields } from '../support/cda-fields.js';
import { FIXTURE_NAMES, fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';

// Names as the INS writes them (upper case, accents, apostrophes, hyphens, spaces) and given
// names as people use them.
const syllable = fc.constantFrom('MA', 'RÉ', 'LÈ', 'ÇO', 'DU', 'BŒ', 'ÂN', 'GUÉ', 'NOËL', 'ÎLE', 'ÜR', 'TH');
const word = fc.array(syllable, { minLength: 1, maxLength: 3 }).map((s) => s.join(''));
const familyName = fc.tuple(fc.constantFrom('', "D'", "L'", 'DE '), fc.array(word, { minLength: 1, maxLength: 3 }), fc.constantFrom('-', ' ')).map(([prefix, words, sep]) => `${prefix}${words.join(sep)}`);
const givenNames = fc.array(fc.tuple(word, fc.boolean()).map(([w, compound]) => (compound ? `${w}-${w}` : w)), { minLength: 1, maxLength: 4 });
/** Free text with the characters XML must escape, accents and line breaks. */
const freeText = fc.array(fc.constantFrom('Avis', 'posé', '<', '>', '&', '"', "l'œdème", 'é', 'T° 38,5', '\n', 'à J+3', '€', '—', 'µg', '≥'), { minLength: 1, maxLength: 30 }).map((parts) => parts.join(' ').trim() || 'Avis');

/** Birth places: mainland, Corsica (2A/2B, with the NIR's letters), abroad (NIA, department 99). */
const birthPlace = fc.constantFrom(
  { department: '75', commune: '056', nia: false },
  { department: '69', commune: '123', nia: false },
  { department: '2A', commune: '004', nia: false },
  { department: '2B', commune: '033', nia: false },
  { department: '99', commune: '350', nia: true },
);

const patient = fc.record({
  sex: fc.constantFrom('M' as const, 'F' as const),
  year: fc.integer({ min: 1930, max: 2024 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  place: birthPlace,
  order: fc.integer({ min: 1, max: 999 }),
  family: familyName,
  given: givenNames,
  used: fc.option(fc.tuple(familyName, word), { nil: undefined }),
}).map((p) => {
  const sexDigit = p.place.nia ? (p.sex === 'M' ? '7' : '8') : p.sex === 'M' ? '1' : '2';
  const body = `${sexDigit}${String(p.year % 100).padStart(2, '0')}${String(p.month).padStart(2, '0')}${p.place.department}${p.place.commune}${String(p.order).padStart(3, '0')}`;
  const nir = `${body}${String(nirKey(body)).padStart(2, '0')}`;
  const first = p.given[0] ?? 'MARIE';
  return {
    ins: { value: nir, oid: p.place.nia ? '1.2.250.1.213.1.4.9' : '1.2.250.1.213.1.4.10' },
    identityStatus: 'QUALIFIED' as const,
    birthFamilyName: p.family,
    birthGivenNames: p.given.join(' '),
    firstBirthGivenName: first,
    sex: p.sex,
    birthDate: `${String(p.year)}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`,
    birthPlaceCode: `${p.place.department}${p.place.commune}`,
    ...(p.used === undefined ? {} : { usedFamilyName: p.used[0], usedGivenName: p.used[1] }),
  };
});

/** An IdNat_PS: 8 followed by an RPPS number whose Luhn key is right. */
const rppsIdNat = fc.integer({ min: 1_000_000_000, max: 1_999_999_999 }).map((n) => {
  const body = `1${String(n).slice(1)}`;
  for (let key = 0; key < 10; key++) if (luhnValid(`${body}${String(key)}`)) return `8${body}${String(key)}`;
  throw new Error('unreachable: one Luhn key fits');
});

const report = fc.record({
  base: fc.constantFrom(...FIXTURE_NAMES.filter((n) => !n.includes('replacement'))),
  patient,
  authorId: rppsIdNat,
  authorFamily: familyName,
  otherActs: fc.array(fc.record({ ngap: fc.boolean(), code: fc.constantFrom(...DEFAULT_NGAP_ACT_CODES.map((c) => c.code)), minute: fc.integer({ min: 0, max: 30 }) }), { maxLength: 12 }),
  prescriptions: fc.array(fc.record({ kind: fc.constantFrom('MEDICATION' as const, 'BIOLOGY' as const, 'IMAGING' as const, 'CARE' as const), description: freeText }), { maxLength: 15 }),
  incidents: fc.array(fc.record({ kind: fc.constantFrom('CONNECTION_LOST' as const, 'AUDIO' as const, 'OTHER' as const), description: freeText }), { maxLength: 5 }),
  text: freeText,
  treatments: fc.option(fc.array(fc.record({ description: freeText, dosage: fc.option(freeText, { nil: undefined }) }), { maxLength: 5 }), { nil: undefined }),
}).map((g): ActReport => {
  const r = fixture(g.base);
  r.patient = g.patient;
  r.professionals.author = { ...r.professionals.author, idNatPs: g.authorId, familyName: g.authorFamily };
  // The report's text, not its PDF, so that the rendering runs on the generated text.
  r.report = { title: `Compte rendu ${g.authorFamily}`, text: g.text };
  const start = new Date(r.act.start as string).getTime();
  r.actsPerformed = g.otherActs.map((a) => ({
    code: a.ngap ? { code: a.code, displayName: a.code, codeSystem: '1.2.250.1.215.200.3.3' } : { code: 'YYYY010', displayName: 'Acte CCAM', codeSystem: '1.2.250.1.213.2.5' },
    at: new Date(start + a.minute * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  }));
  r.prescriptions = g.prescriptions;
  r.technicalIncidents = g.incidents;
  r.request = { reason: g.text, ...(g.treatments === undefined ? {} : { treatments: g.treatments }) };
  return r as ActReport;
});

describe('CDA documents built from generated act reports (fast-check)', function () {
  this.timeout(180_000);
  let kit: AnsKit;
  before(function () {
    requireShared(this, 'ans-cisis');
    requireTool(this, 'xmllint', 'libxml2-utils');
    kit = new AnsKit(KIT_DIR);
  });
  after(() => { kit?.dispose(); });

  it('accepts each generated report at intake, and builds documents that pass xmllint and the kit with every field in place', async () => {
    const validator = new ActReportValidator(() => ({ now: BUILD_NOW, clockSkewMs: 0, maxPdfBytes: 10 * 1024 * 1024, ngapActCodes: DEFAULT_NGAP_ACT_CODES }));
    await fc.assert(
      fc.asyncProperty(report, async (r) => {
        const intake = validator.validate(r);
        expect(intake.ok ? [] : intake.violations).to.deep.equal([]);
        const types = r.professionals.requester === undefined ? (['tlm-cr'] as const) : (['tlm-cr', 'tlm-da'] as const);
        for (const type of types) {
          const built = await build(r, type);
          const xsd = xmllintSchema(built.xml);
          expect(xsd.ok, xsd.output).to.equal(true);
          const checked = validateDocument(built.xml, `${type}.xml`, { kit });
          expect(checked.issues.map((i) => `${i.source} ${i.rule ?? ''} ${i.message}`)).to.deep.equal([]);
          expect(misplacedFields(r, built)).to.deep.equal([]);
        }
      }),
      { numRuns: 25 },
    );
  });
});
