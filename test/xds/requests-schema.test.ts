/**
 * Every XML message Passerelle writes for the DMP, and every one the sandbox answers with, judged by
 * xmllint against the IHE schemas of ../shared/ihe/schema (french-specs §3.4; issue 6).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { provideAndRegisterRequestXml, submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import { submissionOfCda } from '../../src/xds/map-cda.js';
import { adhocQueryRequestXml, adhocQueryResponseXml } from '../../src/xds/query.js';
import { registryResponseXml } from '../../src/xds/registry-response.js';
import { retrieveDocumentSetRequestXml, retrieveDocumentSetResponseXml } from '../../src/xds/retrieve.js';
import { signatureDocumentEntry, withSignature } from '../../src/xds/signature-entry.js';
import { availabilityStatusUpdate, metadataUpdate } from '../../src/xds/update.js';
import { STATUS } from '../../src/xds/vocabulary.js';
import { requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';
import {
  ENTRY_ID, INS, REPOSITORY_ID, documentEntry, expectSchemaValid, hasMember, reconstituteXop, submission, submissionArbitrary, submissionSet, xmllintXds,
} from '../support/xds.js';

const CDA_DIR = new URL('../../fixtures/cda/', import.meta.url);
const MASQUE_PS = { code: 'MASQUE_PS', codingScheme: '1.2.250.1.213.1.1.4.13', displayName: 'Masqué aux professionnels de santé' };

describe('the XDS messages Passerelle writes, against the IHE schemas (xmllint)', function () {
  before(function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    requireShared(this, 'ihe/schema/lcm.xsd');
  });

  it('the judge is not vacuous: xmllint refuses a SubmitObjectsRequest whose elements are out of order, and the optimized XOP form', () => {
    const xml = submitObjectsRequestXml(submission());
    const swapped = xml.replace(/(<rim:Name>[\s\S]*?<\/rim:Name>)(\s*)(<rim:Description>[\s\S]*?<\/rim:Description>)/, '$3$2$1');
    expect(swapped).not.to.equal(xml);
    expect(xmllintXds(swapped, 'lcm').valid).to.equal(false);
    const pnr = provideAndRegisterRequestXml(submission({ folders: [], associations: [] }), [{ entryUUID: ENTRY_ID, contentId: 'cda@passerelle' }]);
    const optimized = xmllintXds(pnr, 'repository');
    expect(optimized.valid).to.equal(false);
    expect(optimized.output).to.match(/Document.*Element content is not allowed|xop/i);
  });

  describe('lcm.xsd: SubmitObjectsRequest (ITI-42 metadata, ITI-57)', () => {
    it('a submission with a DocumentEntry, a Folder and their Associations', () => {
      expectSchemaValid(submitObjectsRequestXml(submission()), 'lcm');
    });

    it('a minimal submission: a SubmissionSet alone, its optional attributes absent', () => {
      const { title: _title, comments: _comments, ...bare } = submissionSet({ authors: [] });
      expectSchemaValid(submitObjectsRequestXml({ submissionSet: bare, documentEntries: [], folders: [], associations: [] }), 'lcm');
    });

    it('the submission of each CDA of fixtures/cda as the mapping gives it, with the submission-set signature entry', () => {
      // The regulation report's patient has no INS: the mapping refuses it (the DMP files INS-identified patients only).
      const files = readdirSync(CDA_DIR).filter((f) => f.endsWith('.xml') && !f.startsWith('regulation.')).sort();
      expect(files.length).to.be.greaterThan(5);
      for (const file of files) {
        const cda = readFileSync(new URL(file, CDA_DIR));
        const request = submissionOfCda(cda, {
          document: { entryUUID: ENTRY_ID, repositoryUniqueId: REPOSITORY_ID, masking: { hiddenFromProfessionals: true } },
          submissionSet: { entryUUID: 'urn:uuid:3b3e2a57-5b1a-4f7e-9d2c-6a1f4c8e0b01', uniqueId: '1.2.250.1.213.1.1.9.4242.2', sourceId: '1.2.250.1.213.1.1.9.4242', contentTypeCode: { code: '04', codingScheme: '1.2.250.1.213.1.1.4.6', displayName: 'Hospitalisation de jour' }, submissionTime: new Date('2026-03-27T14:36:12Z') },
          replaces: { entryUUID: 'urn:uuid:0e0e0e0e-1111-4222-8333-444455556666' },
        });
        const [main] = request.documentEntries;
        if (main === undefined) throw new Error(`${file}: no entry`);
        const signature = signatureDocumentEntry(request.submissionSet, main, Buffer.from('<ds:Signature/>'), { entryUUID: 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666', uniqueId: '1.2.250.1.213.1.1.9.4242.3', repositoryUniqueId: REPOSITORY_ID });
        expectSchemaValid(submitObjectsRequestXml(withSignature(request, signature)), 'lcm', file);
      }
    });

    it('ITI-57: delete and archive as status changes, masking as a new version', () => {
      const set = submissionSet();
      for (const newStatus of [STATUS.DELETED, STATUS.ARCHIVED]) {
        expectSchemaValid(submitObjectsRequestXml(availabilityStatusUpdate({ submissionSet: set, targetEntryUUID: ENTRY_ID, originalStatus: STATUS.APPROVED, newStatus, associationId: 'urn:uuid:b1000000-0000-4000-8000-000000000001' })), 'lcm', newStatus);
      }
      const entry = documentEntry({ entryUUID: 'urn:uuid:c1000000-0000-4000-8000-000000000001', logicalId: ENTRY_ID, confidentialityCodes: [{ code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' }, MASQUE_PS] });
      expectSchemaValid(submitObjectsRequestXml(metadataUpdate({ submissionSet: set, entry, previousVersion: '1', associationId: 'urn:uuid:b1000000-0000-4000-8000-000000000002' })), 'lcm', 'metadata update');
    });

    it('any model (property, a few runs: xmllint is a process per run)', () => {
      fc.assert(fc.property(submissionArbitrary, (model) => {
        const { valid, output } = xmllintXds(submitObjectsRequestXml(model), 'lcm');
        if (!valid) throw new Error(output);
      }), { numRuns: 25 });
    });
  });

  describe('XDS.b_DocumentRepository.xsd: ITI-41 and ITI-43', () => {
    it('ProvideAndRegisterDocumentSetRequest, as its XOP infoset (each xop:Include replaced by its part in base64)', () => {
      const model = submission({ documentEntries: [documentEntry(), documentEntry({ entryUUID: 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666', uniqueId: '1.2.3.4' })], associations: [hasMember('urn:uuid:a1000000-0000-4000-8000-000000000001', ENTRY_ID)] });
      const xml = provideAndRegisterRequestXml(model, [
        { entryUUID: ENTRY_ID, contentId: 'cda.1@passerelle' },
        { entryUUID: 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666', contentId: 'signature.2@passerelle' },
      ]);
      expectSchemaValid(reconstituteXop(xml, new Map([['cda.1@passerelle', Buffer.from('<ClinicalDocument/>')], ['signature.2@passerelle', Buffer.from('<ds:Signature/>')]])), 'repository');
    });

    it('RetrieveDocumentSetRequest, with and without HomeCommunityId', () => {
      expectSchemaValid(retrieveDocumentSetRequestXml([
        { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.250.1.213.1.1.9.4242.20260327.1' },
        { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.3.4', homeCommunityId: 'urn:oid:1.2.250.1.213.1.1.9' },
      ]), 'repository');
    });

    it('RetrieveDocumentSetResponse: success with documents as XOP infoset, partial success, failure without documents', () => {
      const documents = [
        { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.3', mimeType: 'text/xml', contentId: 'doc.1@sandbox', homeCommunityId: 'urn:oid:1.2.250.1.213.1.1.9' },
        { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.4', mimeType: 'application/pdf', contentId: 'doc.2@sandbox' },
      ];
      const parts = new Map([['doc.1@sandbox', Buffer.from('<ClinicalDocument/>')], ['doc.2@sandbox', Buffer.from('%PDF-1.4')]]);
      expectSchemaValid(reconstituteXop(retrieveDocumentSetResponseXml({ status: 'Success', errors: [], documents }), parts), 'repository', 'success');
      expectSchemaValid(reconstituteXop(retrieveDocumentSetResponseXml({
        status: 'PartialSuccess', errors: [{ errorCode: 'XDSDocumentUniqueIdError', codeContext: 'document 1.2.5 unknown', severity: 'Error', location: '1.2.5' }], documents,
      }), parts), 'repository', 'partial success');
      expectSchemaValid(retrieveDocumentSetResponseXml({ status: 'Failure', errors: [{ errorCode: 'XDSRepositoryBusy', codeContext: 'busy', severity: 'Error' }], documents: [] }), 'repository', 'failure');
    });
  });

  describe('query.xsd: ITI-18', () => {
    it('AdhocQueryRequest FindDocuments (with and without type codes) and GetDocuments (by uniqueId and by entryUUID), LeafClass and ObjectRef', () => {
      const typeCode = { code: '85208-7', codingScheme: '2.16.840.1.113883.6.1', displayName: '' };
      expectSchemaValid(adhocQueryRequestXml({ kind: 'FindDocuments', patientId: INS, statuses: [STATUS.APPROVED, STATUS.ARCHIVED] }, 'LeafClass'), 'query', 'FindDocuments');
      expectSchemaValid(adhocQueryRequestXml({ kind: 'FindDocuments', patientId: INS, statuses: [STATUS.APPROVED], typeCodes: [typeCode] }, 'ObjectRef'), 'query', 'FindDocuments by type');
      expectSchemaValid(adhocQueryRequestXml({ kind: 'GetDocuments', uniqueIds: ['1.2.3', "1.2.'4"] }, 'LeafClass'), 'query', 'GetDocuments by uniqueId');
      expectSchemaValid(adhocQueryRequestXml({ kind: 'GetDocuments', entryUUIDs: [ENTRY_ID] }, 'ObjectRef'), 'query', 'GetDocuments by entryUUID');
    });

    it('AdhocQueryResponse: LeafClass with entries and associations, ObjectRef, Failure with errors', () => {
      const model = submission();
      expectSchemaValid(adhocQueryResponseXml({ status: 'Success', errors: [], documentEntries: model.documentEntries, associations: model.associations, objectRefs: [] }), 'query', 'LeafClass');
      expectSchemaValid(adhocQueryResponseXml({ status: 'Success', errors: [], documentEntries: [], associations: [], objectRefs: [ENTRY_ID, 'urn:uuid:7a7a7a7a-1111-4222-8333-444455556666'] }), 'query', 'ObjectRef');
      expectSchemaValid(adhocQueryResponseXml({ status: 'Failure', errors: [{ errorCode: 'XDSStoredQueryMissingParam', codeContext: 'FindDocuments needs $XDSDocumentEntryPatientId', severity: 'Error' }], documentEntries: [], associations: [], objectRefs: [] }), 'query', 'Failure');
    });
  });

  describe('rs.xsd: RegistryResponse (ITI-41, ITI-57)', () => {
    it('Success, PartialSuccess with a warning, Failure with located errors', () => {
      expectSchemaValid(registryResponseXml({ status: 'Success', errors: [] }), 'rs', 'Success');
      expectSchemaValid(registryResponseXml({ status: 'PartialSuccess', errors: [{ errorCode: 'XDSRegistryError', codeContext: 'slot ignorée', severity: 'Warning' }] }), 'rs', 'PartialSuccess');
      expectSchemaValid(registryResponseXml({
        status: 'Failure',
        errors: [
          { errorCode: 'XDSPatientIdDoesNotMatch', codeContext: 'patientId of the DocumentEntry differs\nfrom that of the SubmissionSet', severity: 'Error', location: ENTRY_ID },
          { errorCode: 'XDSDuplicateUniqueIdInRegistry', codeContext: 'uniqueId 1.2.3 already registered', severity: 'Error' },
        ],
      }), 'rs', 'Failure');
    });
  });
});
