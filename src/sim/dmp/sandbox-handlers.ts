/**
 * The DMP sandbox's answer to each transaction, as a function of the parsed request and the
 * sandbox store: ITI-41 on `repository` (checked by registry-rules.ts and the signatures, then
 * stored), ITI-43 on `repository`, ITI-18 and ITI-57 on `registry`, TD0.2 on `patients`.
 * Every answer is a body XML and, for MTOM answers, its parts; faults are the server's business.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignatureError } from '../../signing/signature-xml.js';
import type { TrustStore } from '../../signing/trust-store.js';
import { verifySubmissionSetSignature } from '../../signing/xades.js';
import { TD02_RESPONSE_ACTION, parsePatientStatusQuery, patientStatusResponseXml } from '../../transports/dmp/patient-status.js';
import { resolveInclude, type MimePart, type ParsedMessage } from '../../transports/soap/mtom.js';
import { formatDtm, parseCx } from '../../xds/hl7v2.js';
import { XdsFormatError } from '../../xds/xml-read.js';
import { parseProvideAndRegisterRequest, parseSubmitObjectsRequest } from '../../xds/ebrim.js';
import type { Cx, DocumentEntry, RegistryError, SubmissionRequest } from '../../xds/model.js';
import { adhocQueryResponseXml, parseAdhocQueryRequest, XdsQueryError } from '../../xds/query.js';
import { registryResponseXml } from '../../xds/registry-response.js';
import { parseRetrieveDocumentSetRequest, retrieveDocumentSetResponseXml, type RetrievedDocumentRef } from '../../xds/retrieve.js';
import { ACTION, ASSOCIATION_TYPE, STATUS, XDS_ERROR } from '../../xds/vocabulary.js';
import { checkSubmission, isSignatureEntry } from './registry-rules.js';
import { patientKey, type SandboxStore } from './sandbox-store.js';

export interface Answer {
  readonly action: string;
  readonly bodyXml: string;
  /** Present for MTOM answers (ITI-41, ITI-43). */
  readonly parts?: readonly MimePart[];
}

export interface HandlerContext {
  readonly store: SandboxStore;
  /** CAs the XAdES submission-set signatures must chain to. */
  readonly trust: TrustStore;
  readonly repositoryUniqueId: string;
  readonly now: () => Date;
  /** The patient the VIHF names (resource-id), when it names one. */
  readonly vihfPatient?: string;
}

const failure = (errors: RegistryError[]): string => registryResponseXml({ status: 'Failure', errors });
const error = (errorCode: string, codeContext: string, location?: string): RegistryError => ({ errorCode, codeContext, severity: 'Error', ...(location === undefined ? {} : { location }) });

function patientState(store: SandboxStore, patient: Cx): 'active' | 'closed' | 'none' {
  // A patient the sandbox was not told about has an open DMP: any test identity can be fed.
  return store.patient(patientKey(patient.id, patient.assigningAuthority))?.dmp ?? 'active';
}

/** The XDS error an answer to a failed request carries, shaped for its transaction. */
export function registryErrorAnswer(action: string, errors: RegistryError[]): Answer {
  switch (action) {
    case ACTION.ITI_18: return { action: ACTION.ITI_18_RESPONSE, bodyXml: adhocQueryResponseXml({ status: 'Failure', errors, documentEntries: [], associations: [], objectRefs: [] }) };
    case ACTION.ITI_43: return { action: ACTION.ITI_43_RESPONSE, bodyXml: retrieveDocumentSetResponseXml({ status: 'Failure', errors, documents: [] }), parts: [] };
    case ACTION.ITI_57: return { action: ACTION.ITI_57_RESPONSE, bodyXml: failure(errors) };
    default: return { action: ACTION.ITI_41_RESPONSE, bodyXml: failure(errors), parts: [] };
  }
}

export function provideAndRegister(rootXml: string, message: ParsedMessage, context: HandlerContext): Answer {
  const { request, documents } = parseProvideAndRegisterRequest(rootXml);
  const contents = new Map<string, Buffer>();
  for (const d of documents) {
    const content = d.include !== undefined ? resolveInclude(d.include, message.parts) : d.inline;
    if (content !== undefined) contents.set(d.entryUUID, content);
  }
  const errors = checkSubmission(request, {
    patientState: (p) => patientState(context.store, p),
    registered: (uniqueId) => context.store.entriesByUniqueId(uniqueId).filter((e) => e.availabilityStatus !== STATUS.DEPRECATED),
    entryByUuid: (id) => context.store.entryByUuid(id),
    documents: contents,
  });
  errors.push(...checkVihfPatient(request.submissionSet.patientId, context));
  errors.push(...checkSignature(request, contents, context));
  if (errors.length > 0) return registryErrorAnswer(ACTION.ITI_41, errors);
  context.store.register({
    submissionSet: request.submissionSet,
    // checkSubmission has reported any entry without its document.
    documents: request.documentEntries.map((entry) => {
      const content = contents.get(entry.entryUUID) ?? Buffer.alloc(0);
      return { entry: { ...entry, repositoryUniqueId: context.repositoryUniqueId, hash: entry.hash ?? sha1(content), size: entry.size ?? content.length }, content };
    }),
    associations: request.associations,
    deprecate: request.associations.filter((a) => a.type === ASSOCIATION_TYPE.RPLC).map((a) => a.targetObject),
  });
  return { action: ACTION.ITI_41_RESPONSE, bodyXml: registryResponseXml({ status: 'Success', errors: [] }), parts: [] };
}

const sha1 = (content: Buffer): string => createHash('sha1').update(content).digest('hex');

function checkVihfPatient(patient: Cx, context: HandlerContext): RegistryError[] {
  if (context.vihfPatient === undefined) return [];
  let named: Cx | undefined;
  try {
    named = parseCx(context.vihfPatient);
  } catch (e) {
    if (!(e instanceof XdsFormatError)) throw e;
  }
  const same = named !== undefined && named.id === patient.id && named.assigningAuthority === patient.assigningAuthority;
  return same ? [] : [error(XDS_ERROR.PatientIdDoesNotMatch, 'the VIHF names another patient than the submission set')];
}

/**
 * The DMP requires the submission set signed (IHE DSG): one signature document whose Manifest
 * references the submission set and every other document with its digest.
 */
function checkSignature(request: SubmissionRequest, contents: ReadonlyMap<string, Buffer>, context: HandlerContext): RegistryError[] {
  const signatures = request.documentEntries.filter(isSignatureEntry);
  const signed = request.documentEntries.filter((e) => !isSignatureEntry(e));
  const [signature, ...more] = signatures;
  if (signature === undefined || more.length > 0) return [error(XDS_ERROR.RegistryMetadataError, 'the submission set must carry exactly one signature document (IHE DSG, XAdES)')];
  if (!request.associations.some((a) => a.type === ASSOCIATION_TYPE.SIGNS && a.sourceObject === signature.entryUUID && a.targetObject === request.submissionSet.entryUUID)) {
    return [error(XDS_ERROR.RegistryMetadataError, 'the signature document must sign the submission set (association signs)', signature.entryUUID)];
  }
  const bytes = contents.get(signature.entryUUID);
  if (bytes === undefined) return [];
  try {
    verifySubmissionSetSignature(bytes, {
      submissionSetUniqueId: request.submissionSet.uniqueId,
      documents: signed.flatMap((e) => {
        const content = contents.get(e.entryUUID);
        return content === undefined ? [] : [{ uniqueId: e.uniqueId, content, xml: e.mimeType === 'text/xml' }];
      }),
    }, context.trust, context.now());
    return [];
  } catch (e) {
    if (e instanceof SignatureError) return [error(XDS_ERROR.RepositoryMetadataError, `the submission-set signature does not verify: ${e.message}`, signature.entryUUID)];
    throw e;
  }
}

export function storedQuery(rootXml: string, context: HandlerContext): Answer {
  let parsed;
  try {
    parsed = parseAdhocQueryRequest(rootXml);
  } catch (e) {
    if (e instanceof XdsQueryError) return registryErrorAnswer(ACTION.ITI_18, [error(e.errorCode, e.message)]);
    throw e;
  }
  const { query, returnType } = parsed;
  let entries: DocumentEntry[];
  if (query.kind === 'FindDocuments') {
    entries = context.store.entriesOfPatient(patientKey(query.patientId.id, query.patientId.assigningAuthority), query.statuses);
    const typeCodes = query.typeCodes ?? [];
    if (typeCodes.length > 0) entries = entries.filter((e) => typeCodes.some((t) => t.code === e.typeCode.code && t.codingScheme === e.typeCode.codingScheme));
  } else {
    entries = [
      ...(query.uniqueIds ?? []).flatMap((u) => context.store.entriesByUniqueId(u)),
      ...(query.entryUUIDs ?? []).flatMap((id) => { const e = context.store.entryByUuid(id); return e === undefined ? [] : [e]; }),
    ];
  }
  entries = entries.filter((e) => e.availabilityStatus !== STATUS.DELETED);
  const result = returnType === 'LeafClass'
    ? { status: 'Success' as const, errors: [], documentEntries: entries, associations: [], objectRefs: [] }
    : { status: 'Success' as const, errors: [], documentEntries: [], associations: [], objectRefs: entries.map((e) => e.entryUUID) };
  return { action: ACTION.ITI_18_RESPONSE, bodyXml: adhocQueryResponseXml(result) };
}

export function retrieve(rootXml: string, context: HandlerContext): Answer {
  const requests = parseRetrieveDocumentSetRequest(rootXml);
  const errors: RegistryError[] = [];
  const documents: RetrievedDocumentRef[] = [];
  const parts: MimePart[] = [];
  for (const r of requests) {
    if (r.repositoryUniqueId !== context.repositoryUniqueId) {
      errors.push(error(XDS_ERROR.UnknownRepositoryId, `this repository is ${context.repositoryUniqueId}`, r.repositoryUniqueId));
      continue;
    }
    const content = context.store.content(r.documentUniqueId);
    const entry = context.store.entriesByUniqueId(r.documentUniqueId).find((e) => e.availabilityStatus !== STATUS.DELETED);
    if (content === undefined || entry === undefined) {
      errors.push(error(XDS_ERROR.DocumentUniqueIdError, 'no such document in this repository', r.documentUniqueId));
      continue;
    }
    const contentId = `document-${String(parts.length + 1)}-${randomUUID()}@sandbox`;
    parts.push({ contentId, contentType: entry.mimeType, content });
    documents.push({ repositoryUniqueId: r.repositoryUniqueId, documentUniqueId: r.documentUniqueId, mimeType: entry.mimeType, contentId });
  }
  const status = errors.length === 0 ? 'Success' : documents.length === 0 ? 'Failure' : 'PartialSuccess';
  return { action: ACTION.ITI_43_RESPONSE, bodyXml: retrieveDocumentSetResponseXml({ status, errors, documents }), parts };
}

/** ITI-57: availability status changes, and new metadata versions (masking, visibility). */
export function updateDocumentSet(rootXml: string, context: HandlerContext): Answer {
  const request = parseSubmitObjectsRequest(rootXml);
  const set = request.submissionSet;
  const errors: RegistryError[] = [];
  const statusChanges: { entry: DocumentEntry; status: string }[] = [];
  for (const a of request.associations.filter((x) => x.type === ASSOCIATION_TYPE.UPDATE_AVAILABILITY_STATUS)) {
    const target = context.store.entryByUuid(a.targetObject);
    const original = a.slots.OriginalStatus?.[0];
    const next = a.slots.NewStatus?.[0];
    if (target === undefined) errors.push(error(XDS_ERROR.UnresolvedReferenceException, `no registry object ${a.targetObject}`, a.id));
    else if (target.patientId.id !== set.patientId.id || target.patientId.assigningAuthority !== set.patientId.assigningAuthority) errors.push(error(XDS_ERROR.PatientIdDoesNotMatch, 'the document belongs to another patient', a.id));
    else if (original !== target.availabilityStatus) errors.push(error(XDS_ERROR.MetadataUpdateOperationError, 'OriginalStatus is not the document\'s current status', a.id));
    else if (next === undefined || ![STATUS.APPROVED, STATUS.ARCHIVED, STATUS.DELETED].includes(next as never)) errors.push(error(XDS_ERROR.MetadataUpdateOperationError, 'NewStatus must be Approved, Archived or Deleted', a.id));
    else statusChanges.push({ entry: target, status: next });
  }
  const versions: { previous: DocumentEntry; next: DocumentEntry }[] = [];
  for (const entry of request.documentEntries) {
    const member = request.associations.find((a) => a.type === ASSOCIATION_TYPE.HAS_MEMBER && a.targetObject === entry.entryUUID);
    const previousVersion = member?.slots.PreviousVersion?.[0];
    const current = entry.logicalId === undefined ? undefined : context.store.entriesByUniqueId(entry.uniqueId).find((e) => e.logicalId === entry.logicalId && e.availabilityStatus !== STATUS.DEPRECATED);
    if (current === undefined || previousVersion === undefined) errors.push(error(XDS_ERROR.MetadataUpdateError, 'a metadata update names the current version (logicalId, PreviousVersion) of a registered document', entry.entryUUID));
    else if (current.version !== previousVersion) errors.push(error(XDS_ERROR.MetadataVersionError, `the current version is ${current.version ?? '1'}`, entry.entryUUID));
    else if (entry.patientId.id !== current.patientId.id || entry.patientId.assigningAuthority !== current.patientId.assigningAuthority) errors.push(error(XDS_ERROR.PatientIdDoesNotMatch, 'a metadata update cannot change the patient', entry.entryUUID));
    else versions.push({ previous: current, next: { ...entry, hash: current.hash, size: current.size, repositoryUniqueId: current.repositoryUniqueId } as DocumentEntry });
  }
  if (statusChanges.length === 0 && versions.length === 0 && errors.length === 0) errors.push(error(XDS_ERROR.MetadataUpdateOperationError, 'the request changes nothing'));
  if (errors.length > 0) return registryErrorAnswer(ACTION.ITI_57, errors);
  for (const c of statusChanges) context.store.setStatus(c.entry, c.status);
  for (const v of versions) context.store.addVersion(v.previous, v.next, set);
  return { action: ACTION.ITI_57_RESPONSE, bodyXml: registryResponseXml({ status: 'Success', errors: [] }) };
}

export function patientStatus(rootXml: string, context: HandlerContext): Answer {
  const patient = parsePatientStatusQuery(rootXml);
  const state = patient === undefined ? 'none' : patientState(context.store, patient);
  return { action: TD02_RESPONSE_ACTION, bodyXml: patientStatusResponseXml({ state, messageId: randomUUID(), creationTime: formatDtm(context.now()) }) };
}
