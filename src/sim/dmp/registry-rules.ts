/**
 * The checks a DMP registry and repository make of a Provide and Register before storing it,
 * answered with the standard XDS error codes (ITI TF-3 Table 4.2.4.1-2): required attributes
 * and code values (XDSRegistryMetadataError), one patient per submission
 * (XDSPatientIdDoesNotMatch), a known patient with an open DMP (XDSUnknownPatientId), fresh
 * uniqueIds (XDSDuplicateUniqueIdInRegistry), documents and metadata that match
 * (XDSMissingDocument, XDSMissingDocumentMetadata, XDSRepositoryMetadataError).
 * Each problem found is reported, not just the first.
 */
import { createHash } from 'node:crypto';
import type { Code, Cx, DocumentEntry, RegistryError, SubmissionRequest } from '../../xds/model.js';
import { ASSOCIATION_TYPE, CODING_SCHEME, DMP_MASKING_CODE, HL7_CONFIDENTIALITY_LABEL, SIGNATURE_ENTRY, STATUS, XDS_ERROR } from '../../xds/vocabulary.js';

/** The class codes a DMP accepts (JDV_J57-ClassCode-DMP, ASS_X04 classes) and the signature's (IHE DSG). */
const CLASS_CODE_SYSTEM = CODING_SCHEME.CLASS_CODE;
const SIGNATURE_CLASS = SIGNATURE_ENTRY.CLASS_CODE.code;
/** Confidentiality codes of JDV_J08: HL7 Confidentiality, then the DMP masking codes. */
const CONFIDENTIALITY: Readonly<Record<string, readonly string[]>> = {
  [CODING_SCHEME.HL7_CONFIDENTIALITY]: Object.keys(HL7_CONFIDENTIALITY_LABEL),
  [CODING_SCHEME.DMP_CONFIDENTIALITY]: Object.values(DMP_MASKING_CODE).map((c) => c.code),
};
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const DTM = /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2})?)?)?)?)?$/;

/** A signature document of the submission set (IHE DSG), not a clinical document. */
export const isSignatureEntry = (entry: DocumentEntry): boolean => entry.classCode.code === SIGNATURE_CLASS;

export interface RuleContext {
  /** Whether a patient is known and has an open DMP. */
  readonly patientState: (patient: Cx) => 'active' | 'closed' | 'none';
  /** Entries already registered with a uniqueId (any status but deprecated). */
  readonly registered: (uniqueId: string) => readonly DocumentEntry[];
  readonly entryByUuid: (entryUUID: string) => DocumentEntry | undefined;
  /** The octets received for an entry, by entryUUID. */
  readonly documents: ReadonlyMap<string, Buffer>;
}

const error = (errorCode: string, codeContext: string, location?: string): RegistryError => ({ errorCode, codeContext, severity: 'Error', ...(location === undefined ? {} : { location }) });
const samePatient = (a: Cx, b: Cx): boolean => a.id === b.id && a.assigningAuthority === b.assigningAuthority;

export function checkSubmission(request: SubmissionRequest, context: RuleContext): RegistryError[] {
  const errors: RegistryError[] = [];
  const set = request.submissionSet;
  const metadata = (what: string, location: string): void => { errors.push(error(XDS_ERROR.RegistryMetadataError, what, location)); };

  if (!OID.test(set.uniqueId)) metadata('SubmissionSet.uniqueId must be an OID', set.entryUUID);
  if (!OID.test(set.sourceId)) metadata('SubmissionSet.sourceId must be an OID', set.entryUUID);
  if (!DTM.test(set.submissionTime)) metadata('SubmissionSet.submissionTime must be an HL7 DTM', set.entryUUID);
  if (set.authors.length === 0) metadata('SubmissionSet.author is required', set.entryUUID);
  checkCode(set.contentTypeCode, 'SubmissionSet.contentTypeCode', set.entryUUID, metadata);

  const state = context.patientState(set.patientId);
  if (state !== 'active') errors.push(error(XDS_ERROR.UnknownPatientId, state === 'closed' ? 'the patient\'s DMP is closed' : 'the patient has no DMP', set.entryUUID));

  if (request.documentEntries.length === 0) metadata('a submission needs at least one DocumentEntry', set.entryUUID);
  const seen = new Set<string>();
  for (const entry of request.documentEntries) {
    const where = entry.entryUUID;
    if (!samePatient(entry.patientId, set.patientId)) errors.push(error(XDS_ERROR.PatientIdDoesNotMatch, 'DocumentEntry.patientId differs from SubmissionSet.patientId', where));
    checkEntry(entry, metadata);
    if (seen.has(entry.uniqueId)) metadata('two DocumentEntries of the submission share a uniqueId', where);
    seen.add(entry.uniqueId);
    if (context.registered(entry.uniqueId).length > 0) errors.push(error(XDS_ERROR.DuplicateUniqueIdInRegistry, `the uniqueId ${entry.uniqueId} is already registered`, where));
    const content = context.documents.get(entry.entryUUID);
    if (content === undefined) {
      errors.push(error(XDS_ERROR.MissingDocument, 'no document was attached for this DocumentEntry', where));
    } else {
      if (entry.hash !== undefined && entry.hash.toLowerCase() !== createHash('sha1').update(content).digest('hex')) errors.push(error(XDS_ERROR.RepositoryMetadataError, 'DocumentEntry.hash is not the SHA-1 of the document', where));
      if (entry.size !== undefined && entry.size !== content.length) errors.push(error(XDS_ERROR.RepositoryMetadataError, 'DocumentEntry.size is not the size of the document', where));
    }
  }
  for (const id of context.documents.keys()) {
    if (!request.documentEntries.some((e) => e.entryUUID === id)) errors.push(error(XDS_ERROR.MissingDocumentMetadata, 'a document was attached without its DocumentEntry', id));
  }
  errors.push(...checkAssociations(request, context));
  return errors;
}

function checkEntry(entry: DocumentEntry, metadata: (what: string, location: string) => void): void {
  const where = entry.entryUUID;
  if (!OID.test(entry.uniqueId.split('^')[0] ?? '')) metadata('DocumentEntry.uniqueId must be an OID (optionally ^extension)', where);
  if (entry.mimeType === '') metadata('DocumentEntry.mimeType is required', where);
  if (entry.title === '') metadata('DocumentEntry.title is required', where);
  if (!DTM.test(entry.creationTime)) metadata('DocumentEntry.creationTime must be an HL7 DTM', where);
  if (entry.serviceStartTime !== undefined && !DTM.test(entry.serviceStartTime)) metadata('DocumentEntry.serviceStartTime must be an HL7 DTM', where);
  if (!/^[a-z]{2,3}(-[A-Z]{2})?$/.test(entry.languageCode)) metadata('DocumentEntry.languageCode must be a language tag', where);
  if (entry.authors.length === 0) metadata('DocumentEntry.author is required', where);
  if (entry.sourcePatientId.id === '') metadata('DocumentEntry.sourcePatientId is required', where);
  if (!OID.test(entry.patientId.assigningAuthority)) metadata('DocumentEntry.patientId needs an ISO assigning authority', where);
  for (const [name, code] of [['typeCode', entry.typeCode], ['formatCode', entry.formatCode], ['healthcareFacilityTypeCode', entry.healthcareFacilityTypeCode], ['practiceSettingCode', entry.practiceSettingCode]] as const) checkCode(code, `DocumentEntry.${name}`, where, metadata);
  const signature = isSignatureEntry(entry);
  if (!signature && (entry.classCode.codingScheme !== CLASS_CODE_SYSTEM || !/^\d{2}$/.test(entry.classCode.code))) metadata(`DocumentEntry.classCode must come from JDV_J57 (codeSystem ${CLASS_CODE_SYSTEM})`, where);
  if (entry.confidentialityCodes.length < 1 || entry.confidentialityCodes.length > 4) metadata('DocumentEntry.confidentialityCode: 1 to 4 codes', where);
  for (const c of entry.confidentialityCodes) {
    if (!(CONFIDENTIALITY[c.codingScheme] ?? []).includes(c.code)) metadata(`DocumentEntry.confidentialityCode ${c.code} is not in JDV_J08`, where);
  }
  const first = entry.confidentialityCodes[0];
  if (first !== undefined && first.codingScheme !== CODING_SCHEME.HL7_CONFIDENTIALITY) metadata('the first confidentialityCode must be the CDA\'s (N, R or V)', where);
  if (!signature && entry.legalAuthenticator === undefined) metadata('DocumentEntry.legalAuthenticator is required', where);
}

function checkCode(code: Code, name: string, where: string, metadata: (what: string, location: string) => void): void {
  if (code.code === '' || code.codingScheme === '' || code.displayName === '') metadata(`${name} needs a code, a codingScheme and a displayName`, where);
}

/** Membership of each document, the signs association, and replacements of approved documents of the same patient. */
function checkAssociations(request: SubmissionRequest, context: RuleContext): RegistryError[] {
  const errors: RegistryError[] = [];
  const set = request.submissionSet;
  const ids = new Set(request.documentEntries.map((e) => e.entryUUID));
  for (const entry of request.documentEntries) {
    if (!request.associations.some((a) => a.type === ASSOCIATION_TYPE.HAS_MEMBER && a.sourceObject === set.entryUUID && a.targetObject === entry.entryUUID)) {
      errors.push(error(XDS_ERROR.RegistryMetadataError, 'each DocumentEntry must be a member of the SubmissionSet (HasMember)', entry.entryUUID));
    }
  }
  for (const a of request.associations) {
    if (a.type !== ASSOCIATION_TYPE.RPLC) continue;
    if (!ids.has(a.sourceObject)) errors.push(error(XDS_ERROR.RegistryMetadataError, 'an RPLC association must start from a DocumentEntry of the submission', a.id));
    const target = context.entryByUuid(a.targetObject);
    if (target === undefined) errors.push(error(XDS_ERROR.UnresolvedReferenceException, `the replaced document ${a.targetObject} is not in the registry`, a.id));
    else if (target.availabilityStatus !== STATUS.APPROVED) errors.push(error(XDS_ERROR.RegistryMetadataError, 'only an approved document can be replaced', a.id));
    else if (!samePatient(target.patientId, set.patientId)) errors.push(error(XDS_ERROR.PatientIdDoesNotMatch, 'the replaced document belongs to another patient', a.id));
  }
  return errors;
}
