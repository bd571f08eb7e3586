import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'chai';
import { CdaHeaderError, readCdaHeader, type HeaderProblem } from '../../src/cda/read-header.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { signCda } from '../../src/signing/signed-cda.js';
import { build } from '../support/cda.js';
import { fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { testSigner } from '../support/signing.js';

const FIXTURES = new URL('../../fixtures/cda/', import.meta.url);
const fixtureCda = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

function problemsOf(read: () => unknown): readonly HeaderProblem[] {
  try {
    read();
  } catch (error) {
    expect(error).to.be.instanceOf(CdaHeaderError);
    return (error as CdaHeaderError).problems;
  }
  throw new Error('expected a CdaHeaderError');
}

describe('reading the header of a CDA', () => {
  it('reads every document Passerelle builds, as its fixtures are', () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'));
    expect(names).to.have.length.greaterThan(5);
    for (const name of names) {
      const header = readCdaHeader(fixtureCda(name));
      expect(header.code.code, name).to.equal(name.includes('tlm-da') ? '75496-0' : '85208-7');
      expect(header.body.kind, name).to.equal(name.includes('tlm-da') ? 'structuredBody' : 'nonXMLBody');
      expect(header.signed, name).to.equal(false);
    }
  });

  it('reads the header of the ANS TLM-CR example field by field', function () {
    requireShared(this, 'ans-cisis/examples/TLM-CR_2022.01.xml');
    const h = readCdaHeader(readFileSync(`${KIT_DIR}examples/TLM-CR_2022.01.xml`));
    expect(h.id).to.deep.equal({ root: '1.3.6.1.4.1.19376.1.2.20.2022.1.1' });
    expect(h.code).to.deep.equal({ code: '85208-7', codeSystem: '2.16.840.1.113883.6.1', displayName: "Compte-rendu d'acte de télémédecine" });
    expect(h.title).to.equal('Compte-rendu de téléconsultation');
    expect(h.effectiveTime).to.equal('20200327153500+0100');
    expect(h.confidentialityCode).to.deep.equal({ code: 'N', codeSystem: '2.16.840.1.113883.5.25', displayName: 'Normal' });
    expect(h.languageCode).to.equal('fr-FR');
    expect(h.setId).to.deep.equal({ root: '1.3.6.1.4.1.19376.1.2.20.2022.1' });
    expect(h.versionNumber).to.equal('1');
    expect(h.templateIds.map((t) => t.root)).to.deep.equal(['2.16.840.1.113883.2.8.2.1', '1.2.250.1.213.1.1.1.1', '1.3.6.1.4.1.19376.1.2.20']);
    expect(h.patient.ids).to.deep.equal([{ root: '1.2.250.1.213.1.4.10', extension: '279035121518989' }, { root: '1.2.3.4.567.8.9.10', extension: '1234567890121' }]);
    expect(h.patient.name.family).to.deep.equal([{ value: 'PAT-TROIS', qualifier: 'BR' }, { value: 'PAT-TROIS', qualifier: 'CL' }]);
    expect(h.patient.name.given).to.deep.equal([{ value: 'DOMINIQUE MARIE-LOUISE' }, { value: 'DOMINIQUE', qualifier: 'BR' }, { value: 'DOMINIQUE', qualifier: 'CL' }]);
    expect(h.patient.gender.code).to.equal('F');
    expect(h.patient.birthTime).to.equal('19790328');
    const [author] = h.authors;
    expect(h.authors).to.have.length(1);
    expect(author?.time).to.equal('20200327153500+0100');
    expect(author?.assigned.id).to.deep.equal({ root: '1.2.250.1.71.4.2.1', extension: '801234567123' });
    expect(author?.assigned.code?.code).to.equal('G15_10/SM26');
    expect(author?.assigned.person).to.deep.equal({ family: [{ value: 'DUMAS' }], given: [{ value: 'Olivier' }] });
    expect(author?.assigned.organization).to.deep.include({ id: { root: '1.2.250.1.71.4.2.2', extension: '1750803447' }, name: 'GRP HOSP UNIVERSITAIRE PARIS OUEST SITE G POMPIDOU APHP' });
    expect(author?.assigned.organization?.standardIndustryClassCode?.code).to.equal('ETABLISSEMENT');
    expect(h.custodian.id).to.deep.equal({ root: '1.2.250.1.71.4.2.2', extension: '1750803447' });
    expect(h.legalAuthenticator.time).to.equal('20200327153500+0100');
    expect(h.legalAuthenticator.assigned.id.extension).to.equal('801234567123');
    expect(h.serviceEvents.map((e) => e.code?.code)).to.deep.equal(['TCG', 'TLS']);
    expect(h.serviceEvents[0]?.low).to.equal('20200327154500+0100');
    expect(h.serviceEvents[0]?.performers[0]?.assigned.organization?.standardIndustryClassCode?.code).to.equal('ETABLISSEMENT');
    expect(h.healthcareFacilityCode).to.deep.equal({ code: 'SA03', codeSystem: '1.2.250.1.71.4.2.4', displayName: 'Etablissement privé PSPH' });
    expect(h.relatedDocuments).to.deep.equal([]);
    expect(h.body).to.deep.equal({ kind: 'nonXMLBody', mediaType: 'application/pdf' });
  });

  it('reads every ANS example, level 1 and level 3, with its author function when there is one', function () {
    requireShared(this, 'ans-cisis/examples');
    const dir = `${KIT_DIR}examples/`;
    const headers = new Map(readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => [f, readCdaHeader(readFileSync(dir + f))]));
    expect(headers.size).to.be.at.least(8);
    const da = headers.get('TLM-DA_2022.01_TCG.xml');
    expect(da?.body.kind).to.equal('structuredBody');
    expect(da?.templateIds.map((t) => t.root)).to.include('1.2.250.1.213.1.1.1.38');
    expect(da?.authors[0]?.functionCode?.displayName).to.equal('Référent - Responsable du patient dans la structure de soins');
    // eP-MED documents informative events (classCode INFO) without time: only the main act needs one.
    expect(headers.get('eP-MED-DM_2024.01_PosoStruct.xml')?.serviceEvents[1]?.low).to.equal(undefined);
  });

  it('reads a signed CDA (ds:Signature enveloping the ClinicalDocument) as the document it signs', async () => {
    const built = await build(fixture('teleconsultation') as ActReport, 'tlm-cr');
    const signer = testSigner();
    try {
      const signed = signCda(built.xml, signer.identity);
      const { signed: wasSigned, ...header } = readCdaHeader(signed);
      const { signed: plain, ...unsigned } = readCdaHeader(built.xml);
      expect([wasSigned, plain]).to.deep.equal([true, false]);
      expect(header).to.deep.equal(unsigned);
    } finally {
      signer.remove();
    }
  });

  it('reads the same header whatever prefix the CDA namespace has', () => {
    const xml = fixtureCda('teleconsultation-replacement.tlm-cr.xml').toString('utf8');
    const prefixed = xml.replace('xmlns="urn:hl7-org:v3"', 'xmlns:hl7="urn:hl7-org:v3"').replace(/<(\/?)(?=[A-Za-z])/g, '<$1hl7:');
    expect(prefixed).to.contain('<hl7:ClinicalDocument').and.contain('</hl7:recordTarget>');
    const header = readCdaHeader(prefixed);
    expect(header).to.deep.equal(readCdaHeader(xml));
    expect(header.relatedDocuments).to.deep.equal([{ typeCode: 'RPLC', parentDocumentId: { root: '2.25.299354393522474069374380766618218396031' } }]);
  });

  it('reads the header of a CDA with a 4 MB base64 body and a base64 comment as of the same CDA without', () => {
    const xml = fixtureCda('teleconsultation.tlm-cr.xml').toString('utf8');
    const base64 = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64').replace(/(.{76})/g, '$1\n      ');
    const large = xml
      .replace(/(<text mediaType="application\/pdf" representation="B64">)[^<]*/, `$1${base64}`)
      .replace('<title>', `<!--${base64}--><title>`);
    const header = readCdaHeader(Buffer.from(large));
    expect(header).to.deep.equal(readCdaHeader(xml));
    expect(readCdaHeader(large)).to.deep.equal(header);
    expect(header.body).to.deep.equal({ kind: 'nonXMLBody', mediaType: 'application/pdf' });
  });

  it('decodes character references and the predefined entities once, and refuses any other entity', () => {
    const xml = fixtureCda('teleexpertise.tlm-da.xml').toString('utf8');
    expect(readCdaHeader(xml.replace(/<title>[^<]*<\/title>/, '<title>Avis &#233;crit &amp;lt;urgent&amp;gt; &#x2014; A&amp;B</title>')).title).to.equal('Avis écrit &lt;urgent&gt; — A&B');
    const problems = problemsOf(() => readCdaHeader(xml.replace(/<title>[^<]*<\/title>/, '<title>A&nbsp;B</title>')));
    expect(problems.map((p) => p.message).join()).to.contain('&nbsp; is not declared');
  });

  it('refuses a DOCTYPE before parsing, a document over the size limit, malformed XML and another root', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>';
    expect(problemsOf(() => readCdaHeader(xxe))[0]?.message).to.contain('DOCTYPE');
    const cda = fixtureCda('teleconsultation.tlm-cr.xml');
    expect(problemsOf(() => readCdaHeader(cda, { maxBytes: 1000 }))[0]?.rule).to.equal('CDA_TOO_LARGE');
    expect(problemsOf(() => readCdaHeader(cda.subarray(0, 2000)))[0]?.message).to.contain('not well-formed');
    expect(problemsOf(() => readCdaHeader(Buffer.from([0x3c, 0x61, 0xff, 0x3e]))).map((p) => p.rule)).to.deep.equal(['CDA_NOT_UTF8']);
    expect(problemsOf(() => readCdaHeader('<Envelope/>'))[0]?.message).to.contain('neither ClinicalDocument nor ds:Signature');
    expect(problemsOf(() => readCdaHeader('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object/></ds:Signature>'))[0]?.rule).to.equal('CDA_SIGNED_WITHOUT_CDA');
  });

  it('names every missing required element by its place, never by a patient value', () => {
    const xml = fixtureCda('teleconsultation.tlm-cr.xml').toString('utf8')
      .replace(/<id root="2\.25\.[0-9]+"\/>/, '')
      .replace(/<title>[^<]*<\/title>/, '')
      .replace(/<birthTime value="[0-9]+"\/>/, '')
      .replace(/<legalAuthenticator>[\s\S]*<\/legalAuthenticator>/, '')
      .replace(/<healthCareFacility>\s*<id [^>]*\/>\s*<code [^>]*\/>/, '<healthCareFacility>');
    const problems = problemsOf(() => readCdaHeader(xml));
    expect(problems.map((p) => p.location)).to.have.members([
      '/ClinicalDocument/id/@root',
      '/ClinicalDocument/title',
      '/ClinicalDocument/recordTarget/patientRole/patient/birthTime/@value',
      '/ClinicalDocument/legalAuthenticator/time/@value',
      '/ClinicalDocument/legalAuthenticator/assignedEntity/id/@root',
      '/ClinicalDocument/componentOf/encompassingEncounter/location/healthCareFacility/code/@code',
      '/ClinicalDocument/componentOf/encompassingEncounter/location/healthCareFacility/code/@codeSystem',
    ]);
    const said = problems.map((p) => p.message).join('\n');
    for (const patientValue of ['279035121518989', 'PAT-TROIS', 'DOMINIQUE', '19790328']) expect(said).not.to.contain(patientValue);
  });
});
