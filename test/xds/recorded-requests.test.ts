/**
 * ProvideAndRegister requests recorded from other implementations (../shared/ihe/mtom: Axis2 for the
 * NIST toolkit, WCF for a DICOM source): Passerelle's sandbox must read their ebRIM as it is, whatever
 * the prefixes, the order of objects and the place of the SubmissionSet's classification.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseProvideAndRegisterRequest, parseSubmitObjectsRequest, submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import { parseSoapMessage, resolveInclude, type ParsedMessage } from '../../src/transports/soap/mtom.js';
import type { SubmissionRequest } from '../../src/xds/model.js';
import { ASSOCIATION_TYPE } from '../../src/xds/vocabulary.js';
import { requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';
import { expectSchemaValid } from '../support/xds.js';

/** A capture read by the MTOM reader: an HTTP request (Content-Type from its header) or a bare body (Content-Type rebuilt from its first delimiter). */
function readCapture(path: string): ParsedMessage {
  const raw = readFileSync(path);
  if (raw.subarray(0, 5).toString('latin1') === 'POST ') {
    const end = raw.indexOf('\r\n\r\n');
    const contentType = /^content-type:\s*(.*?)\s*$/im.exec(raw.subarray(0, end).toString('latin1'))?.[1];
    return parseSoapMessage(contentType, raw.subarray(end + 4));
  }
  const boundary = /^--(\S+)/m.exec(raw.toString('latin1'))?.[1] ?? '';
  return parseSoapMessage(`multipart/related; boundary="${boundary}"; type="application/xop+xml"`, raw);
}

const NIST_AUTHORS = [
  { person: { family: 'Smitty', given: 'Gerald' }, institutions: [{ name: 'Cleveland Clinic' }, { name: 'Parma Community' }], roles: ['Attending'], specialties: ['Orthopedic'] },
  { person: { family: 'Dopplemeyer', given: 'Sherry' }, institutions: [{ name: 'Cleveland Clinic' }, { name: 'Berea Community' }], roles: ['Primary Surgon'], specialties: ['Orthopedic'] },
];

describe('ProvideAndRegister requests recorded from other implementations', function () {
  let dir = '';
  before(function () {
    dir = requireShared(this, 'ihe/mtom');
  });
  const read = (file: string): { message: ParsedMessage; parsed: ReturnType<typeof parseProvideAndRegisterRequest> } => {
    const message = readCapture(join(dir, file));
    return { message, parsed: parseProvideAndRegisterRequest(message.rootXml) };
  };

  it('reads the NIST Axis2 request with XOP: symbolic ids, nested author slots, the SubmissionSet classified beside its package', () => {
    const { message, parsed } = read('nist-pnrxop-Xop.txt');
    const { request, documents } = parsed;
    const [entry] = request.documentEntries;
    expect(request.documentEntries).to.have.length(1);
    expect(entry).to.include({ entryUUID: 'Document01', uniqueId: '1.42.20160705093311.6', mimeType: 'text/plain', title: 'Physical', creationTime: '20051224', languageCode: 'en-us', serviceStartTime: '200412230800', serviceStopTime: '200412230801' });
    expect(entry?.patientId).to.deep.equal({ id: 'SR7', assigningAuthority: '1.2.260' });
    expect(entry?.sourcePatientId).to.deep.equal({ id: '89765a87b', assigningAuthority: '1.3.4.5' });
    expect(entry?.sourcePatientInfo).to.deep.equal(['PID-3|pid1^^^&1.2.3&ISO', 'PID-5|Doe^John^^^', 'PID-7|19560527', 'PID-8|M', 'PID-11|100 Main St^^Metropolis^Il^44130^USA']);
    expect(entry?.authors).to.deep.equal(NIST_AUTHORS);
    expect(entry?.classCode).to.deep.equal({ code: 'DEMO-Ext Summary', codingScheme: '1.3.6.1.4.1.21367.100.1', displayName: 'Summary for External / Non Clinical Use' });
    expect(entry?.confidentialityCodes).to.deep.equal([{ code: 'V', codingScheme: '2.16.840.1.113883.5.25', displayName: 'very restricted' }]);
    expect(entry?.formatCode).to.deep.equal({ code: 'urn:ihe:rad:TEXT', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: 'urn:ihe:rad:TEXT' });
    expect(entry?.healthcareFacilityTypeCode.code).to.equal('Outpatient');
    expect(entry?.practiceSettingCode.code).to.equal('General Medicine');
    expect(entry?.typeCode.code).to.equal('XTHM-WD TYPECODE');
    expect(entry?.comments).to.equal(undefined);
    expect(request.submissionSet).to.deep.equal({
      entryUUID: 'SubmissionSet01',
      uniqueId: '1.42.20160705093311.7',
      sourceId: '1.3.6.1.4.1.21367.4',
      submissionTime: '20041225235050',
      contentTypeCode: { code: '34133-9', codingScheme: '2.16.840.1.113883.6.1', displayName: 'Summary of Episode Note' },
      patientId: { id: 'SR7', assigningAuthority: '1.2.260' },
      authors: [NIST_AUTHORS[1]],
      title: 'Physical',
      comments: 'Annual physical',
    });
    expect(request.associations).to.deep.equal([{ id: 'ID_371617681_2', type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: 'SubmissionSet01', targetObject: 'Document01', slots: { SubmissionSetStatus: ['Original'] } }]);
    expect(documents).to.deep.equal([{ entryUUID: 'Document01', include: 'cid:1.b5b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d@apache.org' }]);
    expect(resolveInclude(documents[0]?.include ?? '', message.parts).toString('utf8')).to.match(/^This is my document\.\r?\n\r?\nIt is great!/);
  });

  it('reads the same request without XOP (inline base64) and with a URL-encoded cid:', () => {
    const inline = read('nist-pnrxop-NoXop.txt').parsed;
    expect(inline.documents).to.have.length(1);
    expect(inline.documents[0]?.inline?.toString('utf8')).to.match(/^This is my document\./);
    expect(inline.request.documentEntries[0]?.authors).to.deep.equal(NIST_AUTHORS);
    const { message, parsed } = read('nist-pnrxop-encodedURL.txt');
    expect(parsed.documents[0]?.include).to.equal('cid:fdf975cc-9f08-4d94-b7f6-99f4807f3654-1@urn%3Aihe%3Aiti%3Axds-b%3A2007');
    expect(resolveInclude(parsed.documents[0]?.include ?? '', message.parts).toString('utf8')).to.match(/^This is my document\./);
  });

  it('reads the WCF request for a DICOM manifest: default namespaces, the package first, ObjectRefs, a referenceIdList', () => {
    const { request, documents } = read('nist-pnrxop-dicom.txt').parsed;
    const [entry] = request.documentEntries;
    expect(entry).to.include({ entryUUID: 'urn:uuid:f243926c-504e-4bec-8493-ee76fe8c617a', mimeType: 'application/dicom', uniqueId: '1.2.840.114158.332609592172.20160623221738902.1.0.173871' });
    expect(entry?.authors).to.deep.equal([{ person: { id: 'Lexmark Document Author' }, institutions: [], roles: [], specialties: [] }]);
    expect(entry?.classCode.code).to.equal('DEMO-H & P');
    expect(entry?.eventCodes).to.deep.equal([{ code: 'TRID1001', codingScheme: 'RSNA2008 eventCodeList', displayName: 'XRAY CHEST Orderable' }]);
    expect(entry?.referenceIds).to.deep.equal(['IDC027-a^^^&1.3.6.1.4.1.21367.13.40.111&ISO^urn:ihe:iti:xds:2013:accession']);
    expect(request.submissionSet.entryUUID).to.equal('urn:uuid:05ae92ff-4b5a-443c-832d-eb15ea538020');
    const dicom = documents[0]?.inline;
    expect(dicom?.subarray(128, 132).toString('latin1')).to.equal('DICM');
  });

  it('reads an RPLC association, and the Axis2 request with urn:uuid ids and indented values', () => {
    const replacement = read('nist-sample_mtom_message.txt').parsed.request;
    expect(replacement.associations.find((a) => a.type === ASSOCIATION_TYPE.RPLC)).to.deep.equal({ id: 'ID_1081841537_3', type: ASSOCIATION_TYPE.RPLC, sourceObject: 'Document01', targetObject: 'urn:uuid:934e4ab6-6e61-471a-b265-da54ddf06bed', slots: {} });
    expect(replacement.documentEntries[0]?.creationTime).to.equal('20061224');
    const { message, parsed } = read('nist-http-mtom-pnr.txt');
    expect(parsed.request.documentEntries[0]?.entryUUID).to.equal('urn:uuid:102439f8-5881-4b36-8b42-ef73ae560c04');
    expect(parsed.request.documentEntries[0]?.eventCodes.map((c) => c.code)).to.deep.equal(['T-D4909', 'T-62002']);
    expect(resolveInclude(parsed.documents[0]?.include ?? '', message.parts).toString('utf8')).to.match(/^Four score and seven years ago/);
  });

  it('writes what it read from each capture as a valid SubmitObjectsRequest that reads back the same', function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    requireShared(this, 'ihe/schema/lcm.xsd');
    const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
    expect(files).to.have.length(6);
    for (const file of files) {
      const request: SubmissionRequest = read(file).parsed.request;
      const xml = submitObjectsRequestXml(request);
      expectSchemaValid(xml, 'lcm', file);
      expect(parseSubmitObjectsRequest(xml), file).to.deep.equal(request);
    }
  });
});
