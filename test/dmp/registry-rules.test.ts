/**
 * The DMP sandbox's metadata rules on submissions the gateway's client would never send: each
 * broken rule gives its standard XDS error code, and every problem is reported, not the first.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ActReport } from '../../src/domain/act-report.js';
import { checkSubmission, type RuleContext } from '../../src/sim/dmp/registry-rules.js';
import { association, submissionOfCda } from '../../src/xds/map-cda.js';
import type { DocumentEntry, SubmissionRequest } from '../../src/xds/model.js';
import { ASSOCIATION_TYPE, STATUS, XDS_ERROR } from '../../src/xds/vocabulary.js';
import { build } from '../support/cda.js';
import { fixture } from '../support/fixtures.js';

const uuid = (): string => `urn:uuid:${randomUUID()}`;

describe('the DMP sandbox registry rules', () => {
  let cda: Buffer;
  let valid: SubmissionRequest;
  let entry: DocumentEntry;

  before(async () => {
    cda = (await build(fixture('teleconsultation') as ActReport, 'tlm-cr')).xml;
    valid = submissionOfCda(cda, {
      document: { entryUUID: uuid(), repositoryUniqueId: '2.999.1.1' },
      submissionSet: { entryUUID: uuid(), uniqueId: '2.25.1234', sourceId: '2.999.1.2', contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation externe' }, submissionTime: new Date('2026-11-22T10:00:00Z') },
    });
    entry = valid.documentEntries[0]!;
  });

  const context = (over: Partial<RuleContext> = {}): RuleContext => ({
    patientState: () => 'active',
    registered: () => [],
    entryByUuid: () => undefined,
    documents: new Map([[entry.entryUUID, cda]]),
    ...over,
  });
  const codes = (request: SubmissionRequest, over: Partial<RuleContext> = {}): string[] => checkSubmission(request, context(over)).map((e) => e.errorCode);

  it('accepts the submission the gateway builds from a TLM-CR', () => {
    expect(checkSubmission(valid, context())).to.deep.equal([]);
  });

  it('answers XDSPatientIdDoesNotMatch when a DocumentEntry names another patient than the submission set', () => {
    const other = { ...entry, patientId: { ...entry.patientId, id: '180019999999977' } };
    expect(codes({ ...valid, documentEntries: [other] })).to.deep.equal([XDS_ERROR.PatientIdDoesNotMatch]);
  });

  it('answers XDSRegistryMetadataError for each missing or wrongly coded attribute, all of them', () => {
    const broken: DocumentEntry = {
      ...entry,
      creationTime: '2026-11-22',
      classCode: { ...entry.classCode, codingScheme: '1.2.3' },
      confidentialityCodes: [{ code: 'X', codingScheme: '2.16.840.1.113883.5.25', displayName: 'X' }],
      authors: [],
    };
    const errors = checkSubmission({ ...valid, documentEntries: [broken] }, context());
    expect(errors.map((e) => e.errorCode)).to.deep.equal(Array(4).fill(XDS_ERROR.RegistryMetadataError));
    expect(errors.map((e) => e.codeContext).join('\n')).to.match(/creationTime/).and.match(/classCode/).and.match(/confidentialityCode X/).and.match(/author/);
  });

  it('answers XDSUnknownPatientId for a patient without a DMP or with a closed one', () => {
    expect(codes(valid, { patientState: () => 'none' })).to.deep.equal([XDS_ERROR.UnknownPatientId]);
    expect(codes(valid, { patientState: () => 'closed' })).to.deep.equal([XDS_ERROR.UnknownPatientId]);
  });

  it('answers XDSDuplicateUniqueIdInRegistry for a uniqueId already registered', () => {
    expect(codes(valid, { registered: () => [entry] })).to.deep.equal([XDS_ERROR.DuplicateUniqueIdInRegistry]);
  });

  it('answers XDSMissingDocument, XDSMissingDocumentMetadata and XDSRepositoryMetadataError for documents that do not match their metadata', () => {
    expect(codes(valid, { documents: new Map() })).to.deep.equal([XDS_ERROR.MissingDocument]);
    expect(codes(valid, { documents: new Map([[entry.entryUUID, cda], [uuid(), cda]]) })).to.deep.equal([XDS_ERROR.MissingDocumentMetadata]);
    const altered = Buffer.concat([cda, Buffer.from(' ')]);
    expect(codes(valid, { documents: new Map([[entry.entryUUID, altered]]) })).to.deep.equal([XDS_ERROR.RepositoryMetadataError, XDS_ERROR.RepositoryMetadataError]);
  });

  it('refuses a replacement of a document it does not hold, not approved, or of another patient', () => {
    const target = { ...entry, entryUUID: uuid(), availabilityStatus: STATUS.APPROVED };
    const replacing = { ...valid, associations: [...valid.associations, association(ASSOCIATION_TYPE.RPLC, entry.entryUUID, target.entryUUID)] };
    expect(codes(replacing)).to.deep.equal([XDS_ERROR.UnresolvedReferenceException]);
    expect(codes(replacing, { entryByUuid: () => target })).to.deep.equal([]);
    expect(codes(replacing, { entryByUuid: () => ({ ...target, availabilityStatus: STATUS.DEPRECATED }) })).to.deep.equal([XDS_ERROR.RegistryMetadataError]);
    expect(codes(replacing, { entryByUuid: () => ({ ...target, patientId: { ...target.patientId, id: '180019999999977' } }) })).to.deep.equal([XDS_ERROR.PatientIdDoesNotMatch]);
  });

  it('requires each DocumentEntry to be a member of the submission set', () => {
    expect(codes({ ...valid, associations: valid.associations.filter((a) => a.type !== ASSOCIATION_TYPE.HAS_MEMBER) })).to.deep.equal([XDS_ERROR.RegistryMetadataError]);
  });
});
