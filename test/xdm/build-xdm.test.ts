import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { unzipSync } from 'fflate';
import { readCdaHeader } from '../../src/cda/read-header.js';
import { parseSubmitObjectsRequest } from '../../src/xds/ebrim.js';
import { XdsMappingError, submissionOfCda } from '../../src/xds/map-cda.js';
import { ASSOCIATION_TYPE } from '../../src/xds/vocabulary.js';
import { PDF_COPY_FORMAT_CODE, buildXdmZip, xdmPackageOfCda, type XdmPackageOptions } from '../../src/xdm/build-xdm.js';
import { readXdmZip } from '../../src/xdm/read-xdm.js';
import { XdmError } from '../../src/xdm/xdm-error.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';
import { expectSchemaValid } from '../support/xds.js';

const fixtureCda = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../../fixtures/cda/${name}`, import.meta.url)));
/** The PDF a level-1 CDA carries in its nonXMLBody: the PDF copy a sender attaches beside it. */
const embeddedPdf = (cda: Buffer): Buffer => Buffer.from(/<text[^>]*mediaType="application\/pdf"[^>]*>([^<]*)</.exec(cda.toString('utf8'))?.[1]?.replace(/\s+/g, '') ?? '', 'base64');
const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

/** Ids in order, so that two builds of the same input are the same package. */
function sequentialUuids(): () => string {
  let n = 0;
  return () => `urn:uuid:00000000-0000-4000-8000-${(n += 1).toString(16).padStart(12, '0')}`;
}

const CDA = fixtureCda('teleconsultation.tlm-cr.xml');
const PDF = embeddedPdf(CDA);
const OPTIONS: XdmPackageOptions = {
  sourceId: '2.999.1.2',
  contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' },
  now: new Date('2026-03-27T14:36:12Z'),
};
const METADATA = 'IHE_XDM/SUBSET01/METADATA.XML';

describe('building an XDM archive (IHE_XDM.ZIP)', () => {
  const pkg = xdmPackageOfCda(CDA, { ...OPTIONS, pdf: PDF, entryUUID: sequentialUuids() });
  const zip = buildXdmZip(pkg, { producer: { name: 'Passerelle', version: '0.1.0' }, contact: 'passerelle@hopital-test.mssante.fr' });
  const files = unzipSync(zip);
  const text = (name: string): string => Buffer.from(files[name] ?? []).toString('utf8');

  it('lays out INDEX.HTM, README.TXT, IHE_XDM/SUBSET01/METADATA.XML, the CDA and its PDF, as fflate\'s own unzip reads them', () => {
    expect(Object.keys(files)).to.deep.equal(['INDEX.HTM', 'README.TXT', 'IHE_XDM/', 'IHE_XDM/SUBSET01/', METADATA, 'IHE_XDM/SUBSET01/DOC0001.XML', 'IHE_XDM/SUBSET01/DOC0002.PDF']);
    expect(Buffer.from(files['IHE_XDM/SUBSET01/DOC0001.XML'] ?? []).equals(CDA)).to.equal(true);
    expect(Buffer.from(files['IHE_XDM/SUBSET01/DOC0002.PDF'] ?? []).equals(PDF)).to.equal(true);
    expect(PDF.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
  });

  it('writes a METADATA.XML that xmllint validates against lcm.xsd', function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    requireShared(this, 'ihe/schema/lcm.xsd');
    expectSchemaValid(text(METADATA), 'lcm', METADATA);
  });

  it('names each document\'s file in its URI slot, with the SHA-1 and size of that file', () => {
    const request = parseSubmitObjectsRequest(text(METADATA));
    expect(request.documentEntries.map((e) => e.uri)).to.deep.equal(['DOC0001.XML', 'DOC0002.PDF']);
    for (const entry of request.documentEntries) {
      const file = files[`IHE_XDM/SUBSET01/${entry.uri ?? ''}`] ?? new Uint8Array();
      expect(entry.hash, entry.uri).to.equal(sha1(file));
      expect(entry.size, entry.uri).to.equal(file.length);
    }
  });

  it('maps the CDA as for the DMP, without a repositoryUniqueId unless one is given', () => {
    const request = parseSubmitObjectsRequest(text(METADATA));
    const [entry] = request.documentEntries;
    const dmp = submissionOfCda(CDA, {
      document: { entryUUID: entry?.entryUUID ?? '', repositoryUniqueId: '2.999.1.1' },
      submissionSet: { entryUUID: request.submissionSet.entryUUID, uniqueId: request.submissionSet.uniqueId, sourceId: OPTIONS.sourceId, contentTypeCode: OPTIONS.contentTypeCode, submissionTime: OPTIONS.now },
    }).documentEntries[0];
    if (dmp === undefined) throw new Error('the DMP submission has its DocumentEntry');
    const { repositoryUniqueId, ...dmpWithoutRepository } = dmp;
    expect(repositoryUniqueId).to.equal('2.999.1.1');
    expect(entry).to.deep.equal({ ...dmpWithoutRepository, uri: 'DOC0001.XML' });
    expect(request.submissionSet).to.include({ sourceId: '2.999.1.2', submissionTime: '20260327143612' });
    expect(request.submissionSet.patientId).to.deep.equal({ id: '279035121518989', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' });
    const withRepository = xdmPackageOfCda(CDA, { ...OPTIONS, repositoryUniqueId: '1.2.250.1.213.1.1.9.77' });
    expect(withRepository.documents[0]?.entry.repositoryUniqueId).to.equal('1.2.250.1.213.1.1.9.77');
  });

  it('describes the PDF copy by a second DocumentEntry: the CDA\'s patient, type and authors, application/pdf, its own uniqueId, an XFRM to the CDA', () => {
    const request = parseSubmitObjectsRequest(text(METADATA));
    const [cda, pdf] = request.documentEntries;
    expect(pdf).to.include({ mimeType: 'application/pdf', uri: 'DOC0002.PDF', title: cda?.title, creationTime: cda?.creationTime });
    expect(pdf?.formatCode).to.deep.equal(PDF_COPY_FORMAT_CODE);
    expect(pdf?.typeCode).to.deep.equal(cda?.typeCode);
    expect(pdf?.patientId).to.deep.equal(cda?.patientId);
    expect(pdf?.authors).to.deep.equal(cda?.authors);
    expect(pdf?.uniqueId).to.match(/^2\.25\.\d+$/).and.not.equal(cda?.uniqueId);
    expect(xdmPackageOfCda(CDA, { ...OPTIONS, pdf: PDF }).documents[1]?.entry.uniqueId, 'the same CDA gives its PDF the same uniqueId').to.equal(pdf?.uniqueId);
    const set = request.submissionSet.entryUUID;
    expect(request.associations.map((a) => [a.type, a.sourceObject, a.targetObject])).to.deep.equal([
      [ASSOCIATION_TYPE.HAS_MEMBER, set, cda?.entryUUID],
      [ASSOCIATION_TYPE.HAS_MEMBER, set, pdf?.entryUUID],
      [ASSOCIATION_TYPE.XFRM, pdf?.entryUUID, cda?.entryUUID],
    ]);
  });

  it('writes a CDA alone when no PDF is given', () => {
    const alone = unzipSync(buildXdmZip(xdmPackageOfCda(CDA, OPTIONS)));
    expect(Object.keys(alone).filter((n) => n.startsWith('IHE_XDM/SUBSET01/') && !n.endsWith('/'))).to.deep.equal([METADATA, 'IHE_XDM/SUBSET01/DOC0001.XML']);
    const request = parseSubmitObjectsRequest(Buffer.from(alone[METADATA] ?? []).toString('utf8'));
    expect(request.documentEntries).to.have.length(1);
    expect(request.associations.map((a) => a.type)).to.deep.equal([ASSOCIATION_TYPE.HAS_MEMBER]);
  });

  it('says in README.TXT which software made the archive and whom to contact, and lists the documents in INDEX.HTM', () => {
    const readme = text('README.TXT');
    expect(readme).to.contain('Application : Passerelle 0.1.0').and.contain('Contact : passerelle@hopital-test.mssante.fr').and.contain('IHE_XDM/SUBSET01/DOC0002.PDF');
    expect(readme).to.contain('Créé le : 2026-03-27T14:36:12Z').and.contain('\r\n');
    const index = text('INDEX.HTM');
    expect(index).to.contain('<a href="IHE_XDM/SUBSET01/DOC0001.XML">DOC0001.XML</a>').and.contain('<a href="README.TXT">');
    expect(index).to.contain('Compte-rendu d&#39;acte de télémédecine').and.contain(`${String(PDF.length)} octets`);
  });

  it('puts no patient data in INDEX.HTM or README.TXT: no name, INS, local id or birth date', () => {
    const header = readCdaHeader(CDA);
    const patientValues = [
      ...header.patient.ids.flatMap((id) => (id.extension === undefined ? [] : [id.extension])),
      ...header.patient.name.family.map((p) => p.value),
      ...header.patient.name.given.map((p) => p.value),
      header.patient.birthTime,
    ];
    expect(patientValues).to.include.members(['279035121518989', 'PAT-TROIS', '19790328']);
    for (const name of ['INDEX.HTM', 'README.TXT']) for (const value of patientValues) expect(text(name), `${name} holds ${value}`).not.to.contain(value);
    expect(text(METADATA), 'METADATA.XML identifies the patient').to.contain('279035121518989');
  });

  it('writes the same bytes for the same package, in any time zone', () => {
    const build = (): Buffer => buildXdmZip(xdmPackageOfCda(CDA, { ...OPTIONS, pdf: PDF, entryUUID: sequentialUuids() }), { producer: { name: 'Passerelle', version: '0.1.0' }, contact: 'passerelle@hopital-test.mssante.fr' });
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      const east = build();
      process.env.TZ = 'America/Cayenne';
      expect(build().equals(east)).to.equal(true);
      expect(east.equals(zip)).to.equal(true);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('reads back what it writes: full metadata, every document found with its hash and size as declared', () => {
    const [subset, ...others] = readXdmZip(zip).subsets;
    expect(others).to.have.length(0);
    expect(subset?.path).to.equal('IHE_XDM/SUBSET01');
    expect(subset?.submission).to.deep.equal(parseSubmitObjectsRequest(text(METADATA)));
    expect(subset?.checks.map((c) => [c.file, c.sizeMatches, c.hashMatches, c.problems])).to.deep.equal([
      ['IHE_XDM/SUBSET01/DOC0001.XML', true, true, []],
      ['IHE_XDM/SUBSET01/DOC0002.PDF', true, true, []],
    ]);
    expect(subset?.documents.get(pkg.documents[0]?.entry.entryUUID ?? '')?.equals(CDA)).to.equal(true);
  });

  it('builds the ANS TLM-CR example (level 1, with its PDF) into an archive whose metadata validate', function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    requireShared(this, 'ihe/schema/lcm.xsd');
    const example = readFileSync(requireShared(this, 'ans-cisis/examples/TLM-CR_2022.01.xml'));
    const built = unzipSync(buildXdmZip(xdmPackageOfCda(example, { ...OPTIONS, pdf: embeddedPdf(example) })));
    const metadata = Buffer.from(built[METADATA] ?? []).toString('utf8');
    expectSchemaValid(metadata, 'lcm', `${KIT_DIR}examples/TLM-CR_2022.01.xml ${METADATA}`);
    expect(parseSubmitObjectsRequest(metadata).documentEntries.map((e) => [e.uniqueId, e.uri])).to.deep.include(['1.3.6.1.4.1.19376.1.2.20.2022.1.1', 'DOC0001.XML']);
  });

  it('refuses a CDA its metadata cannot be mapped from, naming the place in the CDA', () => {
    expect(() => xdmPackageOfCda(fixtureCda('regulation.tlm-cr.xml'), OPTIONS)).to.throw(XdsMappingError, '/ClinicalDocument/recordTarget/patientRole/id');
  });

  it('refuses a package whose documents and entries do not correspond, or whose file names are not 8.3 upper case', () => {
    const [cda, pdf] = pkg.documents;
    if (cda === undefined || pdf === undefined) throw new Error('the package has its two documents');
    const problems = (documents: typeof pkg.documents): string[] => {
      try {
        buildXdmZip({ ...pkg, documents });
      } catch (error) {
        if (error instanceof XdmError) return error.problems.map((p) => `${p.code}: ${p.message}`);
        throw error;
      }
      return [];
    };
    expect(problems([cda])).to.deep.equal([`invalid-package: the DocumentEntry ${pdf.entry.entryUUID} has no document`]);
    expect(problems([cda, { ...pdf, fileName: 'doc0002.pdf' }])).to.deep.equal(['invalid-package: the file name doc0002.pdf is not an 8.3 upper-case name other than METADATA.XML']);
    expect(problems([cda, { ...pdf, fileName: 'DOC0001.XML' }])).to.include('invalid-package: two documents are named DOC0001.XML');
    expect(problems([cda, cda, pdf])).to.include('invalid-package: a DocumentEntry has more than one document');
  });
});
