import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import type { BuiltDocument } from '../../src/cda/build-document.js';
import type { DocumentType } from '../../src/cda/templates.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { AnsKit } from '../../src/validation/kit.js';
import { validateDocument } from '../../src/validation/validate-document.js';
import { BUILD_NOW, TEMPLATES, build, collapse, pdfInfo, pdfText, xmllintSchema } from '../support/cda.js';
import { misplacedFields } from '../support/cda-fields.js';
import { FIXTURE_NAMES, fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';

const GOLDEN_DIR = new URL('../../fixtures/cda/', import.meta.url);

interface Case {
  readonly name: string;
  readonly type: DocumentType;
  readonly textBodyAs?: 'text';
}

// Every act-report fixture as a TLM-CR; those carrying a request also as a TLM-DA; one with a
// text/plain body instead of a rendered PDF.
const CASES: readonly Case[] = [
  ...FIXTURE_NAMES.map((name) => ({ name, type: 'tlm-cr' as const })),
  ...FIXTURE_NAMES.filter((name) => fixture(name).request !== undefined).map((name) => ({ name, type: 'tlm-da' as const })),
  { name: 'teleexpertise', type: 'tlm-cr', textBodyAs: 'text' },
];
const label = (c: Case): string => `${c.name}.${c.type}${c.textBodyAs === undefined ? '' : '.text'}`;

/** The fixture's report, checked against the JSON contract on the way in (as the gateway does). */
const reportOf = (name: string): ActReport => fixture(name) as ActReport;

function buildCase(c: Case): Promise<BuiltDocument> {
  return build(reportOf(c.name), c.type, { seed: c.name, ...(c.textBodyAs === undefined ? {} : { textBodyAs: c.textBodyAs }) });
}

describe('CDA documents built from act reports', function () {
  this.timeout(60_000);
  let kit: AnsKit;
  before(function () {
    requireShared(this, 'ans-cisis');
    kit = new AnsKit(KIT_DIR);
  });
  after(() => { kit?.dispose(); });

  it('covers the cases the issue names: with and without PDF, a replacement, a minor with masking, incidents and prescriptions, both types', () => {
    const reports = CASES.map((c) => reportOf(c.name));
    expect(reports.some((r) => r.report.pdf !== undefined)).to.equal(true);
    expect(reports.some((r) => r.report.pdf === undefined)).to.equal(true);
    expect(reports.some((r) => r.replaces !== undefined)).to.equal(true);
    expect(reports.some((r) => r.sharing.masking?.hiddenFromLegalRepresentatives === true && r.patient.birthDate > '2009')).to.equal(true);
    expect(reports.some((r) => r.technicalIncidents.length > 1 && r.prescriptions.length > 1)).to.equal(true);
    expect(CASES.filter((c) => c.type === 'tlm-da')).to.not.have.length(0);
  });

  for (const c of CASES) {
    it(`${label(c)}: XSD-valid for xmllint, no failed assert in StrucMin and the volet, every field in place`, async function () {
      requireTool(this, 'xmllint', 'libxml2-utils');
      const report = reportOf(c.name);
      const built = await buildCase(c);
      const xsd = xmllintSchema(built.xml);
      expect(xsd.ok, xsd.output).to.equal(true);
      const checked = validateDocument(built.xml, `${label(c)}.xml`, { kit });
      expect(checked.volet).to.equal(TEMPLATES[c.type].volet);
      expect(checked.issues.map((i) => `${i.source} ${i.rule ?? ''} ${i.message} @${i.location ?? ''}`)).to.deep.equal([]);
      expect(misplacedFields(report, built)).to.deep.equal([]);
    });
  }

  it('embeds a received PDF byte for byte, and returns it as the PDF copy', async () => {
    const report = reportOf('teleconsultation');
    const built = await build(report, 'tlm-cr');
    const body = /<text mediaType="application\/pdf" representation="B64">([^<]+)<\/text>/.exec(built.xml.toString('utf8'));
    expect(Buffer.from(body?.[1] ?? '', 'base64').equals(Buffer.from(report.report.pdf ?? '', 'base64'))).to.equal(true);
    expect(Buffer.from(built.pdf ?? []).equals(Buffer.from(report.report.pdf ?? '', 'base64'))).to.equal(true);
  });

  it('renders a report without PDF as a PDF that poppler reads, with every traceability element', async function () {
    requireTool(this, 'pdftotext', 'poppler-utils');
    const report = reportOf('teleexpertise-minor-masked');
    const built = await build(report, 'tlm-cr');
    const text = pdfText(built.pdf ?? new Uint8Array());
    const expected = [
      report.report.title,
      ...(report.report.sections ?? []).flatMap((s) => [s.title, ...s.text.split('\n')]),
      ...report.prescriptions.map((p) => p.description),
      ...report.technicalIncidents.map((i) => i.description),
      report.act.code, '19/11/2026 09:00', '19/11/2026 09:40', 'consentement recueilli',
      report.professionals.author.familyName, report.professionals.requester?.familyName ?? '',
      report.patient.birthFamilyName, report.patient.ins?.value ?? '',
      'Produit le 22/11/2026 10:00 (UTC+01:00)',
    ];
    for (const piece of expected) expect(text, piece).to.contain(collapse(piece));
  });

  it('writes text/plain with the same content when configured so', async () => {
    const built = await build(reportOf('teleexpertise'), 'tlm-cr', { textBodyAs: 'text' });
    const body = /<text mediaType="text\/plain" representation="B64">([^<]+)<\/text>/.exec(built.xml.toString('utf8'));
    const text = Buffer.from(body?.[1] ?? '', 'base64').toString('utf8');
    expect(text).to.contain('Incidents techniques').and.contain('Consentement').and.contain(reportOf('teleexpertise').technicalIncidents[0]?.description ?? '-');
    expect(built.pdf).to.equal(undefined);
  });

  it('writes an ampersand that looks like an entity reference as the text it is', async () => {
    const report = fixture('teleexpertise');
    report.organization.name = 'CENTRE R&amp;D &eacute; & CO';
    const built = await build(report as ActReport, 'tlm-cr');
    const name = new DOMParser().parseFromString(built.xml.toString('utf8'), 'application/xml').getElementsByTagName('custodian')[0]?.getElementsByTagName('name')[0]?.textContent;
    expect(name).to.equal('CENTRE R&amp;D &eacute; & CO');
  });

  it('replaces a document: same set, next version, RPLC on the replaced id', async () => {
    const report = reportOf('teleconsultation-replacement');
    const built = await build(report, 'tlm-cr');
    const replaced = report.replaces as { documentId: { root: string }; setId: { root: string }; versionNumber: number };
    expect(built.setId).to.deep.equal(replaced.setId);
    expect(built.versionNumber).to.equal(replaced.versionNumber + 1);
    expect(built.id.root).to.not.equal(replaced.documentId.root);
    // The gateway resolves replaces.submissionId and passes the replaced document's ids.
    const resolved = await build(reportOf('teleconsultation'), 'tlm-cr', { replaced: { id: { root: '2.25.1' }, setId: { root: '2.25.2' }, versionNumber: 4 } });
    expect(resolved.versionNumber).to.equal(5);
    expect(resolved.xml.toString('utf8')).to.contain('<relatedDocument typeCode="RPLC">');
  });

  it('derives ids from the seed: same seed, same ids; another seed or type, other ids', async () => {
    const report = reportOf('teleexpertise');
    const [a, b, c, d] = await Promise.all([build(report, 'tlm-cr', { seed: 's1' }), build(report, 'tlm-cr', { seed: 's1' }), build(report, 'tlm-cr', { seed: 's2' }), build(report, 'tlm-da', { seed: 's1' })]);
    expect(a.id).to.deep.equal(b.id);
    expect(a.id.root).to.match(/^2\.25\.[1-9]\d{20,38}$/);
    expect(new Set([a.id.root, c.id.root, d.id.root, a.setId.root]).size).to.equal(4);
  });

  it('writes the document times in the configured time zone, with its offset', async () => {
    const built = await build(reportOf('teleexpertise'), 'tlm-cr', { now: new Date('2026-07-01T08:00:00Z'), timeZone: 'Indian/Reunion' });
    expect(built.xml.toString('utf8')).to.contain('<effectiveTime value="20260701120000+0400"/>');
  });

  describe('determinism (golden files in fixtures/cda/)', () => {
    for (const c of CASES) {
      it(`${label(c)} is the same bytes for the same report and clock`, async () => {
        const built = await buildCase(c);
        const again = await buildCase(c);
        expect(again.xml.equals(built.xml)).to.equal(true);
        const golden = new URL(`${label(c)}.xml`, GOLDEN_DIR);
        // UPDATE_GOLDEN=1 rewrites them after an intended change; review the diff before committing.
        if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
          mkdirSync(GOLDEN_DIR, { recursive: true });
          writeFileSync(golden, built.xml);
          if (process.env.CI === 'true') throw new Error(`golden file ${label(c)}.xml was missing`);
        }
        expect(built.xml.toString('utf8')).to.equal(readFileSync(golden, 'utf8'));
      });
    }
    it('uses the build clock for the rendered PDF dates', async function () {
      requireTool(this, 'pdfinfo', 'poppler-utils');
      const info = pdfInfo((await build(reportOf('teleexpertise'), 'tlm-cr')).pdf ?? new Uint8Array());
      expect(info).to.match(new RegExp(`CreationDate: +${BUILD_NOW.toISOString().slice(0, 19)}`));
      expect(info).to.match(/Title: +Avis de télé-expertise dermatologique/);
    });
  });
});
