import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'chai';
import fontoxpath from 'fontoxpath';
import type { Node } from 'slimdom';
import { readCdaHeader } from '../../src/cda/read-header.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { signCda } from '../../src/signing/signed-cda.js';
import { parseXml } from '../../src/validation/xml-parse.js';
import { XdsMappingError, documentEntryFromCda, maskingCodes, submissionOfCda, submissionSetFor, utcDtm, type DocumentEntryOptions, type SubmissionSetOptions } from '../../src/xds/map-cda.js';
import type { DocumentEntry } from '../../src/xds/model.js';
import { signatureDocumentEntry, withSignature } from '../../src/xds/signature-entry.js';
import { ASSOCIATION_TYPE } from '../../src/xds/vocabulary.js';
import { build } from '../support/cda.js';
import { fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { testSigner } from '../support/signing.js';

const FIXTURES = new URL('../../fixtures/cda/', import.meta.url);
const fixtureCda = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const DOCUMENT: DocumentEntryOptions = { entryUUID: 'urn:uuid:0b3c1f6e-2f1a-4f4e-9a55-0d1b8b6f3a01', repositoryUniqueId: '2.999.1.1' };
const SET: SubmissionSetOptions = {
  entryUUID: 'urn:uuid:7d2f4c1a-8e3b-4c5d-9f60-1a2b3c4d5e6f',
  uniqueId: '2.25.166594870116125106148574233089962811247',
  sourceId: '2.999.1.2',
  contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' },
  submissionTime: new Date('2026-11-22T09:30:05Z'),
};
const entryOf = (cda: Buffer, options: Partial<DocumentEntryOptions> = {}): DocumentEntry => documentEntryFromCda(readCdaHeader(cda), cda, { ...DOCUMENT, ...options });

/** ASS_X04 and ASS_A11/A12 as the test knows them, written out independently of the mapping. */
const EXPECTED_CLASS: Readonly<Record<string, string>> = { '85208-7': '10', '75496-0': '10', '11502-2': '10', '18748-4': '31', '60591-5': '11', SYNTH: '11', '57833-6': '42' };
const EXPECTED_FORMAT: Readonly<Record<string, string>> = { 'application/pdf': 'urn:ihe:iti:xds-sd:pdf:2008', 'text/plain': 'urn:ihe:iti:xds-sd:text:2008', '1.2.250.1.213.1.1.1.38': 'urn:asip:ci-sis:tlm-da:2020' };

/** A CDA TS with offset as UTC DTM, by the platform's own date arithmetic. */
function utc(ts: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([+-]\d{2})(\d{2})$/.exec(ts);
  if (m === null) throw new Error(`unexpected TS ${ts}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7]}:${m[8]}`).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Every attribute of `entry` against the CDA it came from, read with XPath (fontoxpath), not with
 * the reader under test: where each value is in the header is written here a second time.
 */
function expectEntryFromCda(entry: DocumentEntry, cda: Buffer): void {
  const document = parseXml(cda.toString('utf8'), 'cda.xml') as unknown as Node;
  const options = { namespaceResolver: (prefix: string) => (prefix === 'cda' ? 'urn:hl7-org:v3' : null) };
  const doc = fontoxpath.evaluateXPathToFirstNode('//cda:ClinicalDocument', document, null, {}, options);
  const s = (xpath: string): string => fontoxpath.evaluateXPathToString(xpath, doc, null, {}, options);
  const all = (xpath: string): string[] => fontoxpath.evaluateXPathToStrings(xpath, doc, null, {}, options);

  const id = s('cda:id/@extension') === '' ? s('cda:id/@root') : `${s('cda:id/@root')}^${s('cda:id/@extension')}`;
  expect(entry.uniqueId, 'uniqueId').to.equal(id);
  expect(entry.entryUUID).to.equal(DOCUMENT.entryUUID);
  expect(entry.mimeType).to.equal('text/xml');
  expect(entry.title, 'title').to.equal(s('normalize-space(cda:title)'));
  expect(entry.typeCode, 'typeCode').to.deep.equal({ code: s('cda:code/@code'), codingScheme: s('cda:code/@codeSystem'), displayName: s('cda:code/@displayName') });
  expect(entry.classCode, 'classCode').to.deep.include({ code: EXPECTED_CLASS[s('cda:code/@code')], codingScheme: '1.2.250.1.213.1.1.4.1' });
  const mediaType = s('cda:component/cda:nonXMLBody/cda:text/@mediaType');
  const format = mediaType === '' ? all('cda:templateId/@root').map((t) => EXPECTED_FORMAT[t]).find((f) => f !== undefined) : EXPECTED_FORMAT[mediaType];
  expect(entry.formatCode.code, 'formatCode').to.equal(format);
  expect(entry.formatCode.codingScheme).to.equal(mediaType === '' ? '1.2.250.1.213.1.1.4.2.282' : '1.3.6.1.4.1.19376.1.2.3');
  expect(entry.confidentialityCodes[0], 'confidentialityCode').to.deep.include({ code: s('cda:confidentialityCode/@code'), codingScheme: s('cda:confidentialityCode/@codeSystem') });
  expect(entry.creationTime, 'creationTime').to.equal(utc(s('cda:effectiveTime/@value')));
  expect(entry.languageCode, 'languageCode').to.equal(s('cda:languageCode/@code'));
  const facility = 'cda:componentOf/cda:encompassingEncounter/cda:location/cda:healthCareFacility/cda:code';
  expect(entry.healthcareFacilityTypeCode, 'healthcareFacilityTypeCode').to.deep.equal({ code: s(`${facility}/@code`), codingScheme: s(`${facility}/@codeSystem`), displayName: s(`${facility}/@displayName`) });
  const main = 'cda:documentationOf[1]/cda:serviceEvent';
  const setting = `${main}/cda:performer[1]/cda:assignedEntity/cda:representedOrganization/cda:standardIndustryClassCode`;
  expect(entry.practiceSettingCode, 'practiceSettingCode').to.deep.equal({ code: s(`${setting}/@code`), codingScheme: s(`${setting}/@codeSystem`), displayName: s(`${setting}/@displayName`) });
  expect(entry.serviceStartTime, 'serviceStartTime').to.equal(utc(s(`${main}/cda:effectiveTime/cda:low/@value`)));
  const high = s(`${main}/cda:effectiveTime/cda:high/@value`);
  expect(entry.serviceStopTime, 'serviceStopTime').to.equal(high === '' ? undefined : utc(high));
  expect(entry.eventCodes.map((c) => `${c.codingScheme}|${c.code}`), 'eventCodeList').to.deep.equal([...new Set(all('cda:documentationOf/cda:serviceEvent/cda:code/concat(@codeSystem, "|", @code)'))]);

  const assigned = (path: string): string => `${s(`${path}/cda:id/@extension`)}^${s(`${path}/cda:assignedPerson/cda:name/cda:family`)}^${s(`${path}/cda:assignedPerson/cda:name/cda:given`)}^^^^^^&${s(`${path}/cda:id/@root`)}&ISO^D^^^IDNPS`;
  const author = 'cda:author[1]/cda:assignedAuthor';
  const organization = `${author}/cda:representedOrganization`;
  expect(entry.authors, 'authors').to.have.length(all('cda:author').length);
  const [first] = entry.authors;
  const xcn = first?.person;
  expect(`${xcn?.id ?? ''}^${xcn?.family ?? ''}^${xcn?.given ?? ''}^^^^^^&${xcn?.assigningAuthority ?? ''}&ISO^${xcn?.nameTypeCode ?? ''}^^^${xcn?.identifierTypeCode ?? ''}`, 'authorPerson').to.equal(assigned(author));
  const institution = { name: s(`${organization}/cda:name`), id: s(`${organization}/cda:id/@extension`), assigningAuthority: s(`${organization}/cda:id/@root`), identifierTypeCode: 'IDNST' };
  expect(first?.institutions, 'authorInstitution').to.deep.equal(institution.name === '' ? [] : [institution]);
  expect(first?.specialties, 'authorSpecialty').to.deep.equal([`${s(`${author}/cda:code/@code`)}^${s(`${author}/cda:code/@displayName`)}^${s(`${author}/cda:code/@codeSystem`)}`]);
  const role = s('cda:author[1]/cda:functionCode/@displayName');
  expect(first?.roles, 'authorRole').to.deep.equal(role === '' ? [] : [role]);
  const legal = entry.legalAuthenticator;
  expect(`${legal?.id ?? ''}^${legal?.family ?? ''}^${legal?.given ?? ''}^^^^^^&${legal?.assigningAuthority ?? ''}&ISO^${legal?.nameTypeCode ?? ''}^^^${legal?.identifierTypeCode ?? ''}`, 'legalAuthenticator').to.equal(assigned('cda:legalAuthenticator/cda:assignedEntity'));

  const insRoots = "('1.2.250.1.213.1.4.8', '1.2.250.1.213.1.4.9', '1.2.250.1.213.1.4.10', '1.2.250.1.213.1.4.11')";
  const patientRole = 'cda:recordTarget/cda:patientRole';
  const ins = { id: s(`${patientRole}/cda:id[@root = ${insRoots}][1]/@extension`), assigningAuthority: s(`${patientRole}/cda:id[@root = ${insRoots}][1]/@root`), identifierTypeCode: 'NH' };
  expect(entry.patientId, 'patientId').to.deep.equal(ins);
  const ipp = s(`${patientRole}/cda:id[not(@root = ${insRoots})][1]/@extension`);
  const local = ipp === '' ? ins : { id: ipp, assigningAuthority: s(`${patientRole}/cda:id[not(@root = ${insRoots})][1]/@root`), identifierTypeCode: 'PI' };
  expect(entry.sourcePatientId, 'sourcePatientId').to.deep.equal(local);
  const name = `${patientRole}/cda:patient/cda:name`;
  expect(entry.sourcePatientInfo, 'sourcePatientInfo').to.deep.equal([
    `PID-3|${ins.id}^^^&${ins.assigningAuthority}&ISO^NH`,
    ...(ipp === '' ? [] : [`PID-3|${local.id}^^^&${local.assigningAuthority}&ISO^PI`]),
    `PID-5|${s(`${name}/cda:family[@qualifier = 'BR']`)}^${s(`${name}/cda:given[@qualifier = 'BR']`)}^^^^^L`,
    `PID-7|${s(`${patientRole}/cda:patient/cda:birthTime/@value`)}`,
    `PID-8|${s(`${patientRole}/cda:patient/cda:administrativeGenderCode/@code`)}`,
  ]);
  expect(entry.hash, 'hash').to.equal(createHash('sha1').update(cda).digest('hex'));
  expect(entry.size, 'size').to.equal(cda.length);
  expect(entry.repositoryUniqueId).to.equal(DOCUMENT.repositoryUniqueId);
}

describe('the XDS metadata of a CDA', function () {
  this.timeout(60_000);

  it('maps a TLM-CR Passerelle builds, every attribute from the header it came from', async () => {
    const { xml } = await build(fixture('teleconsultation') as ActReport, 'tlm-cr');
    const entry = entryOf(xml);
    expectEntryFromCda(entry, xml);
    // Two acts documented: both are events, the first is the main one.
    expect(entry.eventCodes.map((c) => c.code)).to.deep.equal(['TCG', 'TLS']);
    expect(entry.confidentialityCodes).to.deep.equal([{ code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' }]);
  });

  it('maps the ANS TLM-CR example, every attribute from its header', function () {
    requireShared(this, 'ans-cisis/examples/TLM-CR_2022.01.xml');
    const cda = readFileSync(`${KIT_DIR}examples/TLM-CR_2022.01.xml`);
    const entry = entryOf(cda);
    expectEntryFromCda(entry, cda);
    expect(entry.creationTime).to.equal('20200327143500');
    expect(entry.classCode).to.deep.equal({ code: '10', codingScheme: '1.2.250.1.213.1.1.4.1', displayName: 'Compte rendu' });
    expect(entry.formatCode).to.deep.equal({ code: 'urn:ihe:iti:xds-sd:pdf:2008', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: 'Document à corps non structuré en Pdf/A-1' });
    expect(entry.sourcePatientId).to.deep.equal({ id: '1234567890121', assigningAuthority: '1.2.3.4.567.8.9.10', identifierTypeCode: 'PI' });
  });

  it('gives a level-3 TLM-DA the format of its template (ASS_A11), and a text body the text format (ASS_A12)', async function () {
    const { xml } = await build(fixture('teleexpertise') as ActReport, 'tlm-da');
    const da = entryOf(xml);
    expectEntryFromCda(da, xml);
    expect(da.formatCode).to.deep.equal({ code: 'urn:asip:ci-sis:tlm-da:2020', codingScheme: '1.2.250.1.213.1.1.4.2.282', displayName: "Demande d'acte de télémédecine" });
    const text = fixtureCda('teleexpertise.tlm-cr.text.xml');
    expect(entryOf(text).formatCode.code).to.equal('urn:ihe:iti:xds-sd:text:2008');
    requireShared(this, 'ans-cisis/examples/TLM-DA_2022.01_TCG.xml');
    const example = readFileSync(`${KIT_DIR}examples/TLM-DA_2022.01_TCG.xml`);
    const entry = entryOf(example);
    expectEntryFromCda(entry, example);
    expect(entry.authors[0]?.roles).to.deep.equal(['Référent - Responsable du patient dans la structure de soins']);
  });

  it('maps every ANS example it has the value sets of, level 1 and level 3', function () {
    requireShared(this, 'ans-cisis/examples');
    const dir = `${KIT_DIR}examples/`;
    const formats = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => [f, entryOf(readFileSync(dir + f)).formatCode.code]);
    expect(Object.fromEntries(formats)).to.deep.include({
      'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml': 'urn:ihe:iti:xds-sd:pdf:2008',
      'VSM_1.4_2022.01.xml': 'urn:asip:ci-sis:vsm:2012',
      'IPS-FR_2024.01.xml': 'urn:ihe:pcc:ips:2020',
      'eP-MED-DM_2024.01_PosoStruct.xml': 'urn:ihe:pharm:pre:2010',
    });
  });

  it('adds the DMP masking codes after the CDA confidentiality code, in JDV_J08 order', () => {
    const cda = fixtureCda('teleexpertise-minor-masked.tlm-cr.xml');
    const codes = entryOf(cda, { masking: { hiddenFromLegalRepresentatives: true } }).confidentialityCodes;
    expect(codes).to.deep.equal([
      { code: 'R', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Restreint' },
      { code: 'INVISIBLE_REPRESENTANTS_LEGAUX', codingScheme: '1.2.250.1.213.1.1.4.13', displayName: 'Non visible par les représentants légaux du patient' },
    ]);
    const all = entryOf(cda, { masking: { hiddenFromProfessionals: true, hiddenFromPatient: true, hiddenFromLegalRepresentatives: true } }).confidentialityCodes;
    expect(all.map((c) => c.code)).to.deep.equal(['R', 'MASQUE_PS', 'INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX']);
    expect(maskingCodes({})).to.deep.equal([]);
    expect(maskingCodes({ hiddenFromPatient: false, hiddenFromProfessionals: true }).map((c) => c.code)).to.deep.equal(['MASQUE_PS']);
  });

  it('refuses a CDA whose patient has no INS, saying where and why, without patient data', () => {
    const cda = fixtureCda('regulation.tlm-cr.xml');
    let error: unknown;
    try {
      entryOf(cda);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(XdsMappingError);
    const [problem, ...more] = (error as XdsMappingError).problems;
    expect(more).to.deep.equal([]);
    expect(problem?.rule).to.equal('XDS_PATIENT_WITHOUT_INS');
    expect(problem?.location).to.equal('/ClinicalDocument/recordTarget/patientRole/id');
    const header = readCdaHeader(cda);
    const said = (error as Error).message;
    for (const value of [...header.patient.ids.map((i) => i.extension ?? i.root), ...header.patient.name.family.map((p) => p.value), header.patient.birthTime]) expect(said).not.to.contain(value);
  });

  it('names each thing it cannot map at once: a type without class, a body without format, no practice setting', () => {
    const xml = fixtureCda('teleconsultation.tlm-cr.xml').toString('utf8')
      .replace('code="85208-7"', 'code="99999-9"')
      .replace('mediaType="application/pdf"', 'mediaType="image/png"')
      .replace(/<standardIndustryClassCode [^>]*\/>/g, '');
    let error: unknown;
    try {
      entryOf(Buffer.from(xml));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(XdsMappingError);
    const problems = (error as XdsMappingError).problems;
    expect(problems.map((p) => p.rule)).to.deep.equal(['XDS_CLASS_UNKNOWN', 'XDS_FORMAT_UNKNOWN', 'XDS_PRACTICE_SETTING_MISSING']);
    expect(problems[0]?.message).to.contain('99999-9').and.contain('ASS_X04');
    expect(problems[1]?.message).to.contain('image/png').and.contain('ASS_A12');
  });

  it("takes the practice setting of the author's organization when the main act's performer has none", () => {
    const xml = fixtureCda('teleconsultation.tlm-cr.xml').toString('utf8');
    const [head, ...acts] = xml.split('<documentationOf>');
    const withoutPerformerSetting = [head, ...acts.map((a) => a.replace(/<standardIndustryClassCode [^>]*\/>/g, ''))].join('<documentationOf>');
    const author = /<author>[\s\S]*?<standardIndustryClassCode code="([A-Z_]+)"/.exec(xml)?.[1];
    expect(entryOf(Buffer.from(withoutPerformerSetting)).practiceSettingCode.code).to.equal(author);
  });

  it('maps a signed CDA as the document it signs, with the hash and size of the signed file', async () => {
    const { xml } = await build(fixture('teleconsultation') as ActReport, 'tlm-cr');
    const signer = testSigner();
    try {
      const signed = signCda(xml, signer.identity);
      const entry = entryOf(signed);
      expectEntryFromCda(entry, signed);
      const { hash, size, ...rest } = entry;
      const { hash: plainHash, size: plainSize, ...plain } = entryOf(xml);
      expect(rest).to.deep.equal(plain);
      expect([hash, size]).not.to.deep.equal([plainHash, plainSize]);
    } finally {
      signer.remove();
    }
  });

  it('files one CDA as a submission set, its entry and a HasMember (Original), with RPLC for a replacement', () => {
    const cda = fixtureCda('teleconsultation-replacement.tlm-cr.xml');
    const request = submissionOfCda(cda, { document: DOCUMENT, submissionSet: SET, replaces: { entryUUID: 'urn:uuid:5a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' } });
    const [entry] = request.documentEntries;
    expect(request.documentEntries).to.have.length(1);
    expect(request.submissionSet).to.deep.equal({
      entryUUID: SET.entryUUID, uniqueId: SET.uniqueId, sourceId: SET.sourceId, contentTypeCode: SET.contentTypeCode,
      submissionTime: '20261122093005', patientId: entry?.patientId, authors: entry?.authors,
    });
    expect(request.associations.map(({ type, sourceObject, targetObject, slots }) => ({ type, sourceObject, targetObject, slots }))).to.deep.equal([
      { type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: SET.entryUUID, targetObject: DOCUMENT.entryUUID, slots: { SubmissionSetStatus: ['Original'] } },
      { type: ASSOCIATION_TYPE.RPLC, sourceObject: DOCUMENT.entryUUID, targetObject: 'urn:uuid:5a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', slots: {} },
    ]);
    for (const a of request.associations) expect(a.id).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A pure function: the same input gives the same request.
    expect(submissionOfCda(cda, { document: DOCUMENT, submissionSet: SET, replaces: { entryUUID: 'urn:uuid:5a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' } })).to.deep.equal(request);
    expect(submissionOfCda(cda, { document: DOCUMENT, submissionSet: SET }).associations).to.have.length(1);
    expect(() => submissionSetFor([], SET)).to.throw(RangeError);
  });

  it('adds the submission-set signature as a document of the set, linked by HasMember and signs', () => {
    const cda = fixtureCda('teleconsultation.tlm-cr.xml');
    const request = submissionOfCda(cda, { document: DOCUMENT, submissionSet: SET });
    const [main] = request.documentEntries;
    if (main === undefined) throw new Error('no entry');
    const signature = Buffer.from('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>');
    const options = { entryUUID: 'urn:uuid:c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f', uniqueId: '2.25.260022446389117178225469993211428937327', repositoryUniqueId: '2.999.1.1' };
    const entry = signatureDocumentEntry(request.submissionSet, main, signature, options);
    expect(entry).to.deep.equal({
      entryUUID: options.entryUUID, uniqueId: options.uniqueId, mimeType: 'text/xml', title: 'Source',
      classCode: { code: 'urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1', codingScheme: 'URN', displayName: 'Digital Signature' },
      typeCode: { code: 'E1762', codingScheme: 'ASTM', displayName: 'Full Document' },
      formatCode: { code: 'http://www.w3.org/2000/09/xmldsig#', codingScheme: 'URN', displayName: 'Default signature style' },
      eventCodes: [{ code: '1.2.840.10065.1.12.1.14', codingScheme: '1.2.840.10065.1.12', displayName: 'Source' }],
      confidentialityCodes: [{ code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' }],
      languageCode: 'art',
      healthcareFacilityTypeCode: main.healthcareFacilityTypeCode, practiceSettingCode: main.practiceSettingCode,
      creationTime: '20261122093005', serviceStartTime: '20261122093005', serviceStopTime: '20261122093005',
      authors: request.submissionSet.authors, legalAuthenticator: request.submissionSet.authors[0]?.person,
      patientId: main.patientId, sourcePatientId: main.patientId, sourcePatientInfo: [],
      hash: createHash('sha1').update(signature).digest('hex'), size: signature.length, repositoryUniqueId: '2.999.1.1', referenceIds: [],
    });
    const signed = withSignature(request, entry);
    expect(signed.documentEntries.map((e) => e.entryUUID)).to.deep.equal([DOCUMENT.entryUUID, options.entryUUID]);
    expect(signed.associations.slice(1).map(({ type, sourceObject, targetObject }) => ({ type, sourceObject, targetObject }))).to.deep.equal([
      { type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: SET.entryUUID, targetObject: options.entryUUID },
      { type: ASSOCIATION_TYPE.SIGNS, sourceObject: options.entryUUID, targetObject: SET.entryUUID },
    ]);
    expect(new Set(signed.associations.map((a) => a.id)).size).to.equal(3);
  });

  it('writes CDA times as UTC DTM at the precision given', () => {
    expect(utcDtm('20200327153500+0100')).to.equal('20200327143500');
    expect(utcDtm('20200101003000+0100')).to.equal('20191231233000');
    expect(utcDtm('20201231223000-0230')).to.equal('20210101010000');
    expect(utcDtm('202003271535+0200')).to.equal('202003271335');
    expect(utcDtm('20200327153500.1234+0100')).to.equal('20200327143500');
    expect(utcDtm('19790328')).to.equal('19790328');
    expect(utcDtm('20200327153500')).to.equal('20200327153500');
    expect(utcDtm('2020-03-27')).to.equal(undefined);
  });
});
