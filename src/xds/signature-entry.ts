/**
 * The submission-set signature as one more document of the submission (TD2; IHE DSG; french-specs
 * §3.4 and its addendum, after DRIMbox's DocumentEntry.java and ProvideAndRegisterRequest.java):
 * its DocumentEntry, and the associations that make it the signature of the submission set.
 *
 * Its codes say what it is (vocabulary.ts SIGNATURE_ENTRY); what it is about — the patient, the
 * care setting, who submits — comes from the document it travels with and from the submission set.
 */
import { createHash } from 'node:crypto';
import { association, hasMember } from './map-cda.js';
import type { DocumentEntry, SubmissionRequest, SubmissionSet } from './model.js';
import { ASSOCIATION_TYPE, SIGNATURE_ENTRY } from './vocabulary.js';

export interface SignatureEntryOptions {
  readonly entryUUID: string;
  /** An OID (ITI TF-3 4.2.3.2.26). */
  readonly uniqueId: string;
  readonly repositoryUniqueId: string;
}

export function signatureDocumentEntry(set: SubmissionSet, main: DocumentEntry, signature: Buffer, options: SignatureEntryOptions): DocumentEntry {
  const [author] = set.authors;
  return {
    entryUUID: options.entryUUID,
    uniqueId: options.uniqueId,
    mimeType: SIGNATURE_ENTRY.MIME_TYPE,
    title: SIGNATURE_ENTRY.TITLE,
    typeCode: SIGNATURE_ENTRY.TYPE_CODE,
    classCode: SIGNATURE_ENTRY.CLASS_CODE,
    formatCode: SIGNATURE_ENTRY.FORMAT_CODE,
    confidentialityCodes: [SIGNATURE_ENTRY.CONFIDENTIALITY_CODE],
    eventCodes: [SIGNATURE_ENTRY.EVENT_CODE],
    healthcareFacilityTypeCode: main.healthcareFacilityTypeCode,
    practiceSettingCode: main.practiceSettingCode,
    // The signature is made when the set is submitted: that is its creation and its service time.
    creationTime: set.submissionTime,
    serviceStartTime: set.submissionTime,
    serviceStopTime: set.submissionTime,
    languageCode: SIGNATURE_ENTRY.LANGUAGE_CODE,
    authors: set.authors,
    // The one who submits answers for the signature (DRIMbox: the submission set's author person).
    ...(author?.person === undefined ? {} : { legalAuthenticator: author.person }),
    patientId: set.patientId,
    // Not a document about the patient as the source system knows them: the INS is its only id.
    sourcePatientId: set.patientId,
    sourcePatientInfo: [],
    hash: createHash('sha1').update(signature).digest('hex'),
    size: signature.length,
    repositoryUniqueId: options.repositoryUniqueId,
    referenceIds: [],
  };
}

/** `request` with the signature entry, its HasMember, and `signs` from the signature to the submission set. */
export function withSignature(request: SubmissionRequest, signatureEntry: DocumentEntry): SubmissionRequest {
  const setUUID = request.submissionSet.entryUUID;
  return {
    ...request,
    documentEntries: [...request.documentEntries, signatureEntry],
    associations: [
      ...request.associations,
      hasMember(setUUID, signatureEntry.entryUUID),
      association(ASSOCIATION_TYPE.SIGNS, signatureEntry.entryUUID, setUUID),
    ],
  };
}
