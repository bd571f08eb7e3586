import { expect } from 'chai';
import { submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import {
  XdsQueryError, adhocQueryRequestXml, adhocQueryResponseXml, parseAdhocQueryRequest, parseAdhocQueryResponse, type QueryResult, type StoredQuery,
} from '../../src/xds/query.js';
import { STATUS, STORED_QUERY } from '../../src/xds/vocabulary.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';
import { ENTRY_ID, INS, documentEntry, submission } from '../support/xds.js';

const slotValues = (xml: string, name: string): string[] => {
  const slot = new RegExp(`<rim:Slot name="\\${name}">([\\s\\S]*?)</rim:Slot>`).exec(xml)?.[1] ?? '';
  return [...slot.matchAll(/<rim:Value>([^<]*)<\/rim:Value>/g)].map((m) => (m[1] ?? '').replaceAll('&amp;', '&'));
};

/** An AdhocQueryRequest as other implementations write it: default rim namespace, one list per Value, white space. */
const request = (queryId: string, slots: string, returnType = 'LeafClass'): string => `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>
<ns3:AdhocQueryRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:ns3="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0">
  <ns3:ResponseOption returnType="${returnType}" returnComposedObjects="true"/>
  <AdhocQuery id="${queryId}">${slots}</AdhocQuery>
</ns3:AdhocQueryRequest></soap:Body></soap:Envelope>`;
const slot = (name: string, ...values: string[]): string => `<Slot name="${name}"><ValueList>${values.map((v) => `<Value>${v}</Value>`).join('')}</ValueList></Slot>`;
const PATIENT = slot('$XDSDocumentEntryPatientId', "'248039263001064^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH'");
const APPROVED = slot('$XDSDocumentEntryStatus', "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')");

const expectQueryError = (fn: () => unknown, errorCode: string, message: RegExp): void => {
  expect(fn).to.throw(XdsQueryError, message).with.property('errorCode', errorCode);
};

describe('ITI-18 Registry Stored Query', () => {
  describe('AdhocQueryRequest', () => {
    it('writes FindDocuments with the patient id quoted, the statuses and type codes as lists, asking for composed objects', () => {
      const xml = adhocQueryRequestXml({ kind: 'FindDocuments', patientId: INS, statuses: [STATUS.APPROVED, STATUS.ARCHIVED], typeCodes: [{ code: '85208-7', codingScheme: '2.16.840.1.113883.6.1', displayName: 'ignored' }] }, 'LeafClass');
      expect(xml).to.contain('<query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>');
      expect(xml).to.contain(`<rim:AdhocQuery id="${STORED_QUERY.FindDocuments}">`);
      expect(slotValues(xml, '$XDSDocumentEntryPatientId')).to.deep.equal(["'248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH'"]);
      expect(slotValues(xml, '$XDSDocumentEntryStatus')).to.deep.equal(["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')", "('urn:asip:ci-sis:2010:StatusType:Archived')"]);
      expect(slotValues(xml, '$XDSDocumentEntryTypeCode')).to.deep.equal(["('85208-7^^2.16.840.1.113883.6.1')"]);
    });

    it('writes GetDocuments by uniqueId or by entryUUID, doubling a quote inside a value', () => {
      const byId = adhocQueryRequestXml({ kind: 'GetDocuments', uniqueIds: ['1.2.3', "1.2.'4"] }, 'ObjectRef');
      expect(byId).to.contain(`<rim:AdhocQuery id="${STORED_QUERY.GetDocuments}">`).and.to.contain('returnType="ObjectRef"');
      expect(slotValues(byId, '$XDSDocumentEntryUniqueId')).to.deep.equal(["('1.2.3')", "('1.2.''4')"]);
      expect(slotValues(adhocQueryRequestXml({ kind: 'GetDocuments', entryUUIDs: [ENTRY_ID] }, 'LeafClass'), '$XDSDocumentEntryEntryUUID')).to.deep.equal([`('${ENTRY_ID}')`]);
    });

    it('refuses to write a query the registry would refuse', () => {
      expectQueryError(() => adhocQueryRequestXml({ kind: 'FindDocuments', patientId: INS, statuses: [] }, 'LeafClass'), 'XDSStoredQueryMissingParam', /\$XDSDocumentEntryStatus/);
      expectQueryError(() => adhocQueryRequestXml({ kind: 'GetDocuments' }, 'LeafClass'), 'XDSStoredQueryMissingParam', /either/);
      expectQueryError(() => adhocQueryRequestXml({ kind: 'GetDocuments', uniqueIds: ['1'], entryUUIDs: [ENTRY_ID] }, 'LeafClass'), 'XDSStoredQueryParamNumber', /either/);
    });

    it('reads back every query it writes', () => {
      const queries: [StoredQuery, 'LeafClass' | 'ObjectRef'][] = [
        [{ kind: 'FindDocuments', patientId: INS, statuses: [STATUS.APPROVED] }, 'LeafClass'],
        [{ kind: 'FindDocuments', patientId: { id: "O'BRIEN^1", assigningAuthority: '1.2.3' }, statuses: [STATUS.APPROVED, STATUS.DEPRECATED], typeCodes: [{ code: '85208-7', codingScheme: '2.16.840.1.113883.6.1', displayName: '' }, { code: 'a^b', codingScheme: 'x,y', displayName: '' }] }, 'ObjectRef'],
        [{ kind: 'GetDocuments', uniqueIds: ['1.2.3', "it's, (really) one"] }, 'LeafClass'],
        [{ kind: 'GetDocuments', entryUUIDs: [ENTRY_ID, 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666'] }, 'ObjectRef'],
      ];
      for (const [query, returnType] of queries) expect(parseAdhocQueryRequest(adhocQueryRequestXml(query, returnType))).to.deep.equal({ query, returnType });
    });

    it('reads the list syntaxes partners use: one Value holding the list, several Values, spaces, unquoted values, a SOAP envelope', () => {
      const xml = request(STORED_QUERY.FindDocuments, PATIENT
        + slot('$XDSDocumentEntryStatus', " ( 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved' , 'urn:asip:ci-sis:2010:StatusType:Archived' ) ", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')")
        + slot('$XDSDocumentEntryTypeCode', "('85208-7^^2.16.840.1.113883.6.1','11488-4^^2.16.840.1.113883.6.1')"));
      expect(parseAdhocQueryRequest(xml)).to.deep.equal({
        returnType: 'LeafClass',
        query: {
          kind: 'FindDocuments',
          patientId: INS,
          statuses: [STATUS.APPROVED, STATUS.ARCHIVED, STATUS.DEPRECATED],
          typeCodes: [{ code: '85208-7', codingScheme: '2.16.840.1.113883.6.1', displayName: '' }, { code: '11488-4', codingScheme: '2.16.840.1.113883.6.1', displayName: '' }],
        },
      });
      expect(parseAdhocQueryRequest(request(STORED_QUERY.GetDocuments, slot('$XDSDocumentEntryUniqueId', '1.2.3'))).query).to.deep.equal({ kind: 'GetDocuments', uniqueIds: ['1.2.3'] });
    });

    it('answers the XDS error code of each query it cannot run', () => {
      expectQueryError(() => parseAdhocQueryRequest(request('urn:uuid:00000000-0000-4000-8000-000000000000', PATIENT)), 'XDSUnknownStoredQuery', /not one this registry runs/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.GetAll, PATIENT)), 'XDSUnknownStoredQuery', /not one this registry runs/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, APPROVED)), 'XDSStoredQueryMissingParam', /\$XDSDocumentEntryPatientId/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, PATIENT)), 'XDSStoredQueryMissingParam', /\$XDSDocumentEntryStatus/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, slot('$XDSDocumentEntryPatientId', "('a^^^&amp;1.2&amp;ISO','b^^^&amp;1.2&amp;ISO')") + APPROVED)), 'XDSStoredQueryParamNumber', /one value, not 2/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, PATIENT + PATIENT + APPROVED)), 'XDSStoredQueryParamNumber', /more than once/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.GetDocuments, '')), 'XDSStoredQueryMissingParam', /GetDocuments needs/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.GetDocuments, slot('$XDSDocumentEntryUniqueId', "('1')") + slot('$XDSDocumentEntryEntryUUID', `('${ENTRY_ID}')`))), 'XDSStoredQueryParamNumber', /not both/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, PATIENT + APPROVED, 'RegistryObject')), 'XDSRegistryError', /returnType RegistryObject/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, slot('$XDSDocumentEntryPatientId', "'248039263001064'") + APPROVED)), 'XDSRegistryError', /not a CX/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.GetDocuments, slot('$XDSDocumentEntryUniqueId', "('1.2.3"))), 'XDSRegistryError', /not a quoted string/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.GetDocuments, slot('$XDSDocumentEntryUniqueId', "('1' '2')"))), 'XDSRegistryError', /not a quoted string/);
      expectQueryError(() => parseAdhocQueryRequest(request(STORED_QUERY.FindDocuments, PATIENT + APPROVED + slot('$XDSDocumentEntryTypeCode', "('85208-7')"))), 'XDSRegistryError', /code\^\^codingScheme/);
      expect(() => parseAdhocQueryRequest('<not-a-query/>')).to.throw(XdsFormatError, /no AdhocQueryRequest/);
    });
  });

  describe('AdhocQueryResponse', () => {
    const model = submission();
    const leafClass: QueryResult = { status: 'Success', errors: [], documentEntries: model.documentEntries, associations: model.associations, objectRefs: [] };

    it('reads back the LeafClass, ObjectRef and Failure answers it writes', () => {
      expect(parseAdhocQueryResponse(adhocQueryResponseXml(leafClass))).to.deep.equal(leafClass);
      const objectRefs: QueryResult = { status: 'Success', errors: [], documentEntries: [], associations: [], objectRefs: [ENTRY_ID] };
      expect(parseAdhocQueryResponse(adhocQueryResponseXml(objectRefs))).to.deep.equal(objectRefs);
      const failure: QueryResult = { status: 'Failure', errors: [{ errorCode: 'XDSRegistryBusy', codeContext: 'occupé', severity: 'Error', location: 'registry' }], documentEntries: [], associations: [], objectRefs: [] };
      expect(parseAdhocQueryResponse(adhocQueryResponseXml(failure))).to.deep.equal(failure);
    });

    it('reads an answer spelled otherwise, in a SOAP envelope, leaving out the SubmissionSets it may hold', () => {
      const objects = /<rim:RegistryObjectList>([\s\S]*)<\/rim:RegistryObjectList>/.exec(submitObjectsRequestXml(model))?.[1] ?? '';
      const xml = `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body><q:AdhocQueryResponse xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><RegistryObjectList xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">${objects}</RegistryObjectList></q:AdhocQueryResponse></S:Body></S:Envelope>`;
      const read = parseAdhocQueryResponse(xml);
      expect(read.documentEntries).to.deep.equal(model.documentEntries);
      expect(read.associations).to.deep.equal(model.associations);
    });

    it('reads a Failure without RegistryObjectList as an empty answer, and reports a malformed entry or an unknown status', () => {
      const bare = '<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"><rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryError" codeContext="boom"/></rs:RegistryErrorList></query:AdhocQueryResponse>';
      expect(parseAdhocQueryResponse(bare)).to.deep.equal({ status: 'Failure', errors: [{ errorCode: 'XDSRegistryError', codeContext: 'boom', severity: 'Error' }], documentEntries: [], associations: [], objectRefs: [] });
      const broken = adhocQueryResponseXml({ ...leafClass, documentEntries: [documentEntry()] }).replace(/<rim:Slot name="languageCode">[\s\S]*?<\/rim:Slot>/, '');
      expect(() => parseAdhocQueryResponse(broken)).to.throw(XdsFormatError, `DocumentEntry ${ENTRY_ID}: the slot languageCode is missing`);
      expect(() => parseAdhocQueryResponse(adhocQueryResponseXml(leafClass).replace('ResponseStatusType:Success', 'ResponseStatusType:Maybe'))).to.throw(XdsFormatError, /not a RegistryResponse status/);
    });
  });
});
