/**
 * The DMP client: the four XDS.b transactions a DMP-compatible software uses (french-specs §3.4),
 * each split into build → send → parse. Building and parsing are pure (src/xds, src/signing);
 * only `exchange` does I/O. RegistryErrors come back as data with their classification; transport
 * failures and SOAP faults are thrown as TransportError, classified once.
 */
import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:https';
import { PasserelleError } from '../../domain/errors.js';
import type { SigningIdentity } from '../../signing/identity.js';
import { signVihf } from '../../signing/vihf.js';
import { XADES_PROFILES, signSubmissionSet, type XadesProfile } from '../../signing/xades.js';
import { formatDtm } from '../../xds/hl7v2.js';
import { provideAndRegisterRequestXml, submitObjectsRequestXml } from '../../xds/ebrim.js';
import { association, documentInvalid, maskingCodes, submissionOfCda, type DmpMasking } from '../../xds/map-cda.js';
import type { Code, Cx, DocumentEntry, RegistryResponse, SubmissionRequest, SubmissionSet } from '../../xds/model.js';
import { adhocQueryRequestXml, parseAdhocQueryResponse, type QueryResult, type StoredQuery } from '../../xds/query.js';
import { parseRegistryResponse } from '../../xds/registry-response.js';
import { parseRetrieveDocumentSetResponse, retrieveDocumentSetRequestXml } from '../../xds/retrieve.js';
import { signatureDocumentEntry, withSignature } from '../../xds/signature-entry.js';
import { availabilityStatusUpdate, metadataUpdate } from '../../xds/update.js';
import { ACTION, ASSOCIATION_TYPE, STATUS } from '../../xds/vocabulary.js';
import type { VihfConfig } from '../../config/config.js';
import { parseSoapEnvelope, soapEnvelope, type ParsedEnvelope } from '../soap/envelope.js';
import { postSoap, type Timeouts } from '../soap/http-client.js';
import { buildMtom, parseSoapMessage, resolveInclude, type MimePart, type ParsedMessage } from '../soap/mtom.js';
import { httpStatusError, soapFaultError } from '../soap/transport-error.js';
import { classifyRegistryResponse, type Verdict } from './classify.js';
import { uuidOidOf } from './ids.js';
import { TD02_ACTION, feedingDecision, parsePatientStatusResponse, patientStatusQueryXml, type DmpState, type FeedingDecision } from './patient-status.js';
import { vihfAttributes } from './vihf-context.js';

export interface DmpClientOptions {
  /** Base URL of the DMP services, without the service name. */
  readonly baseUrl: string;
  /** Mutual-TLS agent holding the ORG AUTH_CLI identity and the trust store. */
  readonly agent: Agent;
  readonly timeouts: Timeouts;
  readonly maxResponseBytes: number;
  /** ORG SIGN identity: VIHF and submission-set signatures. */
  readonly signer: SigningIdentity;
  readonly vihf: VihfConfig;
  readonly structureId: string;
  readonly vihfValiditySeconds: number;
  readonly xadesProfile?: XadesProfile;
  readonly repositoryUniqueId: string;
  readonly sourceId: string;
  readonly contentTypeCode: Code;
  /** `td0.2`: ask the DMP whether the patient's DMP is open before feeding it; `skip`: the platform knows. */
  readonly patientCheck?: 'td0.2' | 'skip';
  readonly clock?: () => Date;
}

/** The DMP's three services a document travels through (french-specs §3.6). */
type Service = 'registry' | 'repository' | 'patients';

export interface RegistryOutcome {
  readonly response: RegistryResponse;
  readonly verdict: Verdict;
}

export interface FilingOutcome extends RegistryOutcome {
  readonly documentEntry: DocumentEntry;
  readonly submissionSet: SubmissionSet;
  /** entryUUID of the document this one replaces (found by ITI-18 first). */
  readonly replacedEntryUUID?: string;
}

export interface FileOptions {
  readonly masking?: DmpMasking;
  /** uniqueId of the document this one replaces (RPLC). */
  readonly replacesUniqueId?: string;
}

/** What the report says about the DMP (ActReport.sharing), for `feed`. */
export interface FeedingRequest extends FileOptions {
  readonly requested: boolean;
  readonly patientObjects: boolean;
}

export type FeedingOutcome =
  | { readonly fed: false; readonly decision: FeedingDecision }
  | { readonly fed: true; readonly filing: FilingOutcome };

export interface RetrievedDocumentContent extends RegistryOutcome {
  readonly document?: { readonly content: Buffer; readonly mimeType: string };
}

/** The target of an ITI-57 status change: archive, unarchive, delete (TD3.3c, TD3.3d). */
export type DocumentStatusChange = 'archive' | 'unarchive' | 'delete';
const NEW_STATUS: Readonly<Record<DocumentStatusChange, string>> = { archive: STATUS.ARCHIVED, unarchive: STATUS.APPROVED, delete: STATUS.DELETED };

const SOAP_XML = 'application/soap+xml; charset=UTF-8';
const urnUuid = (): string => `urn:uuid:${randomUUID()}`;
/** The XML declaration of a signed VIHF is not part of what it signs; the envelope has its own. */
const withoutDeclaration = (xml: Buffer): string => xml.toString('utf8').replace(/^<\?xml[^>]*\?>\s*/, '');

export class DmpClient {
  private readonly clock: () => Date;

  constructor(private readonly options: DmpClientOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Feeds the DMP when it should be: asked for by the report, not objected to by the patient, and
   * (unless the check is configured off) the patient's DMP open according to TD0.2. Nothing is
   * sent to the DMP for a report that does not ask for it or whose patient objects.
   */
  async feed(cda: Buffer, request: FeedingRequest): Promise<FeedingOutcome> {
    const early = feedingDecision({ requested: request.requested, patientObjects: request.patientObjects, dmp: 'not-checked' });
    if (!early.feed) return { fed: false, decision: early };
    const prepared = this.prepare(cda, request.masking, this.clock());
    if (this.options.patientCheck !== 'skip') {
      const decision = feedingDecision({ requested: true, patientObjects: false, dmp: await this.patientStatus(prepared.entry.patientId) });
      if (!decision.feed) return { fed: false, decision };
    }
    return { fed: true, filing: await this.submit(cda, prepared, request.replacesUniqueId) };
  }

  /** ITI-41 (TD2): files a CDA with the signed submission set; with `replacesUniqueId`, as its new version (TD2.1). */
  file(cda: Buffer, options: FileOptions = {}): Promise<FilingOutcome> {
    return this.submit(cda, this.prepare(cda, options.masking, this.clock()), options.replacesUniqueId);
  }

  /** The submission of a CDA, mapped from its header; a CDA that cannot be mapped is document-invalid. */
  private prepare(cda: Buffer, masking: DmpMasking | undefined, now: Date): { submission: SubmissionRequest; entry: DocumentEntry; now: Date } {
    let submission: SubmissionRequest;
    try {
      submission = submissionOfCda(cda, {
        document: { entryUUID: urnUuid(), repositoryUniqueId: this.options.repositoryUniqueId, ...(masking === undefined ? {} : { masking }) },
        submissionSet: this.submissionSetOptions(now),
      });
    } catch (error) {
      throw documentInvalid(error, 'the document to file') ?? error;
    }
    const [entry] = submission.documentEntries;
    if (entry === undefined) throw new Error('the submission of a CDA has its DocumentEntry');
    return { submission, entry, now };
  }

  private async submit(cda: Buffer, prepared: { submission: SubmissionRequest; entry: DocumentEntry; now: Date }, replacesUniqueId: string | undefined): Promise<FilingOutcome> {
    const { entry, now } = prepared;
    let { submission } = prepared;
    // A new version replaces the approved entry of its parent, found by ITI-18 first (TD2.1).
    const replaced = replacesUniqueId === undefined ? undefined : await this.approvedEntry(replacesUniqueId, entry.patientId);
    if (replaced !== undefined) submission = { ...submission, associations: [...submission.associations, association(ASSOCIATION_TYPE.RPLC, entry.entryUUID, replaced.entryUUID)] };
    const signatureEntryUUID = urnUuid();
    const signature = signSubmissionSet({
      submissionSetUniqueId: submission.submissionSet.uniqueId,
      documents: [{ uniqueId: entry.uniqueId, content: cda, xml: true }],
      signatureId: `SIG-${signatureEntryUUID.slice('urn:uuid:'.length)}`,
    }, this.options.signer, now, this.options.xadesProfile ?? XADES_PROFILES.dmp);
    const signatureEntry = signatureDocumentEntry(submission.submissionSet, entry, signature, { entryUUID: signatureEntryUUID, uniqueId: uuidOidOf(signatureEntryUUID), repositoryUniqueId: this.options.repositoryUniqueId });
    const signed = withSignature(submission, signatureEntry);
    const documentPart: MimePart = { contentId: 'document-1@passerelle', contentType: 'text/xml', content: cda };
    const signaturePart: MimePart = { contentId: 'signature-1@passerelle', contentType: 'text/xml', content: signature };
    const body = provideAndRegisterRequestXml(signed, [{ entryUUID: entry.entryUUID, contentId: documentPart.contentId }, { entryUUID: signatureEntry.entryUUID, contentId: signaturePart.contentId }]);
    const parts = [documentPart, signaturePart];
    const reply = await this.exchange('repository', ACTION.ITI_41, body, entry.patientId, parts);
    const response = parseRegistryResponse(reply.rootXml);
    return { response, verdict: classifyRegistryResponse(response), documentEntry: entry, submissionSet: signed.submissionSet, ...(replaced === undefined ? {} : { replacedEntryUUID: replaced.entryUUID }) };
  }

  /**
   * The DMP's entry for this very document, when its registry already holds it: found by ITI-18
   * GetDocuments on the CDA's uniqueId and compared by hash and size, so that a second attempt
   * after a lost answer (or the DMP's XDSDuplicateUniqueIdInRegistry) counts as filed only when
   * what is registered is what would have been sent. Undefined when the DMP does not have it.
   */
  async registeredEntry(cda: Buffer): Promise<DocumentEntry | undefined> {
    const { entry } = this.prepare(cda, undefined, this.clock());
    const result = await this.getDocuments([entry.uniqueId], entry.patientId);
    if (result.verdict.outcome !== 'success') {
      throw new PasserelleError(result.verdict.outcome === 'retryable' ? 'partner-unavailable' : 'partner-rejected', `the DMP did not answer the query for ${entry.uniqueId}: ${result.verdict.errorCode ?? result.status}`);
    }
    const registered = result.documentEntries.find((e) => e.uniqueId === entry.uniqueId);
    if (registered === undefined) return undefined;
    if (registered.hash !== undefined && registered.hash.toLowerCase() !== entry.hash?.toLowerCase()) {
      throw new PasserelleError('partner-rejected', `the DMP holds another document under the uniqueId ${entry.uniqueId} (its hash differs)`);
    }
    return registered;
  }

  /** TD0.2: whether the patient has a DMP, and whether it is open. */
  async patientStatus(patientId: Cx): Promise<DmpState> {
    const query = patientStatusQueryXml({ patientId, messageId: urnUuid(), creationTime: formatDtm(this.clock()), senderId: this.options.sourceId });
    const reply = await this.exchange('patients', TD02_ACTION, query, patientId);
    return parsePatientStatusResponse(reply.rootXml);
  }

  /** ITI-18 (TD3.1): a stored query, LeafClass (full metadata). */
  async query(query: StoredQuery, patientId?: Cx): Promise<QueryResult & { readonly verdict: Verdict }> {
    const reply = await this.exchange('registry', ACTION.ITI_18, adhocQueryRequestXml(query, 'LeafClass'), patientId ?? (query.kind === 'FindDocuments' ? query.patientId : undefined));
    const result = parseAdhocQueryResponse(reply.rootXml);
    return { ...result, verdict: classifyRegistryResponse(result) };
  }

  /** FindDocuments of one patient (TD3.1a), approved documents by default. */
  findDocuments(patientId: Cx, statuses: readonly string[] = [STATUS.APPROVED]): Promise<QueryResult & { readonly verdict: Verdict }> {
    return this.query({ kind: 'FindDocuments', patientId, statuses }, patientId);
  }

  /** GetDocuments by uniqueId (TD3.1b: the entryUUID of a uniqueId). */
  getDocuments(uniqueIds: readonly string[], patientId?: Cx): Promise<QueryResult & { readonly verdict: Verdict }> {
    return this.query({ kind: 'GetDocuments', uniqueIds }, patientId);
  }

  /** ITI-43 (TD3.2): one document's octets, as the repository holds them. */
  async retrieve(uniqueId: string, patientId?: Cx, repositoryUniqueId = this.options.repositoryUniqueId): Promise<RetrievedDocumentContent> {
    const reply = await this.exchange('repository', ACTION.ITI_43, retrieveDocumentSetRequestXml([{ repositoryUniqueId, documentUniqueId: uniqueId }]), patientId, []);
    const parsed = parseRetrieveDocumentSetResponse(reply.rootXml);
    const found = parsed.documents.find((d) => d.documentUniqueId === uniqueId);
    const response: RegistryResponse = { status: parsed.status, errors: parsed.errors };
    if (found === undefined) return { response, verdict: classifyRegistryResponse(response) };
    const content = found.include !== undefined ? resolveInclude(found.include, reply.parts) : found.inline;
    if (content === undefined) throw new PasserelleError('partner-rejected', 'the DMP answered a DocumentResponse without its Document');
    return { response, verdict: classifyRegistryResponse(response), document: { content, mimeType: found.mimeType } };
  }

  /**
   * ITI-57 metadata update (TD3.3a, TD3.3b): the document's confidentiality codes become its CDA
   * code followed by the masking codes asked for — masked to professionals, invisible to the
   * patient or to the legal representatives; an empty masking unmasks.
   */
  async updateMasking(uniqueId: string, patientId: Cx, masking: DmpMasking): Promise<RegistryOutcome> {
    const current = await this.approvedEntry(uniqueId, patientId);
    const [cdaCode] = current.confidentialityCodes;
    if (cdaCode === undefined) throw new PasserelleError('partner-rejected', `the DMP's metadata of ${uniqueId} have no confidentialityCode`);
    const version = current.version ?? '1';
    const entry: DocumentEntry = {
      ...current,
      entryUUID: urnUuid(),
      logicalId: current.logicalId ?? current.entryUUID,
      version: String(Number(version) + 1),
      confidentialityCodes: [cdaCode, ...maskingCodes(masking)],
    };
    const request = metadataUpdate({ submissionSet: this.updateSubmissionSet(current), entry, previousVersion: version, associationId: urnUuid() });
    return this.registryUpdate(request, patientId);
  }

  /** ITI-57 availability status change: archive or unarchive (TD3.3d), delete (TD3.3c). */
  async changeStatus(uniqueId: string, patientId: Cx, change: DocumentStatusChange): Promise<RegistryOutcome> {
    const statuses = change === 'unarchive' ? [STATUS.ARCHIVED] : [STATUS.APPROVED, STATUS.ARCHIVED];
    const current = await this.entryWithStatus(uniqueId, patientId, statuses);
    const request = availabilityStatusUpdate({
      submissionSet: this.updateSubmissionSet(current),
      targetEntryUUID: current.entryUUID,
      originalStatus: current.availabilityStatus ?? STATUS.APPROVED,
      newStatus: NEW_STATUS[change],
      associationId: urnUuid(),
    });
    return this.registryUpdate(request, patientId);
  }

  private async registryUpdate(request: SubmissionRequest, patientId: Cx): Promise<RegistryOutcome> {
    const reply = await this.exchange('registry', ACTION.ITI_57, submitObjectsRequestXml(request), patientId);
    const response = parseRegistryResponse(reply.rootXml);
    return { response, verdict: classifyRegistryResponse(response) };
  }

  private approvedEntry(uniqueId: string, patientId: Cx): Promise<DocumentEntry> {
    return this.entryWithStatus(uniqueId, patientId, [STATUS.APPROVED]);
  }

  /** The current metadata of a document, found by ITI-18 GetDocuments (TD3.1b). */
  private async entryWithStatus(uniqueId: string, patientId: Cx, statuses: readonly string[]): Promise<DocumentEntry> {
    const result = await this.getDocuments([uniqueId], patientId);
    if (result.verdict.outcome !== 'success') {
      throw new PasserelleError(result.verdict.outcome === 'retryable' ? 'partner-unavailable' : 'partner-rejected', `the DMP did not answer the query for ${uniqueId}: ${result.verdict.errorCode ?? result.status}`);
    }
    const entry = result.documentEntries.find((e) => e.uniqueId === uniqueId && statuses.includes(e.availabilityStatus ?? STATUS.APPROVED));
    if (entry === undefined) throw new PasserelleError('partner-rejected', `the DMP holds no document ${uniqueId} with status ${statuses.map((s) => s.slice(s.lastIndexOf(':') + 1)).join(' or ')}`);
    return entry;
  }

  private submissionSetOptions(now: Date) {
    const entryUUID = urnUuid();
    return { entryUUID, uniqueId: uuidOidOf(entryUUID), sourceId: this.options.sourceId, contentTypeCode: this.options.contentTypeCode, submissionTime: now };
  }

  /** The submission set of an ITI-57 update: the document's patient and authors. */
  private updateSubmissionSet(entry: DocumentEntry): SubmissionSet {
    const o = this.submissionSetOptions(this.clock());
    return {
      entryUUID: o.entryUUID,
      uniqueId: o.uniqueId,
      sourceId: o.sourceId,
      submissionTime: formatDtm(o.submissionTime),
      contentTypeCode: o.contentTypeCode,
      patientId: entry.patientId,
      authors: entry.authors,
    };
  }

  /**
   * One SOAP 1.2 exchange with a DMP service: the signed VIHF in WS-Security, MTOM when parts are
   * given (ITI-41, ITI-43), plain SOAP otherwise (ITI-18, ITI-57). SOAP faults and HTTP errors
   * are thrown, classified; a RegistryResponse, whatever its status, is returned.
   */
  private async exchange(service: Service, action: string, bodyXml: string, patientId: Cx | undefined, parts?: readonly MimePart[]): Promise<{ rootXml: string; parts: ParsedMessage['parts'] }> {
    const url = `${this.options.baseUrl}/${service}`;
    const vihf = signVihf(vihfAttributes(this.options.vihf, this.options.structureId, patientId), this.options.signer, { now: this.clock(), validitySeconds: this.options.vihfValiditySeconds });
    const envelope = soapEnvelope({ action, to: url, messageId: urnUuid(), security: withoutDeclaration(vihf), bodyXml });
    const message = parts === undefined
      ? { contentType: `${SOAP_XML}; action="${action}"`, body: Buffer.from(envelope, 'utf8') }
      : buildMtom({ rootXml: envelope, action, parts });
    const reply = await postSoap({ url, agent: this.options.agent, contentType: message.contentType, action, body: message.body, timeouts: this.options.timeouts, maxResponseBytes: this.options.maxResponseBytes });
    const ok = reply.status >= 200 && reply.status < 300;
    let parsed: ParsedMessage;
    let soap: ParsedEnvelope;
    try {
      parsed = parseSoapMessage(reply.contentType, reply.body);
      soap = parseSoapEnvelope(parsed.rootXml);
    } catch (error) {
      // An error page instead of a SOAP fault: the HTTP status says what happened.
      if (!ok) throw httpStatusError(reply.status, reply.contentType);
      throw error;
    }
    if (soap.fault !== undefined) throw soapFaultError(soap.fault, reply.status);
    if (!ok) throw httpStatusError(reply.status, reply.contentType);
    return { rootXml: parsed.rootXml, parts: parsed.parts };
  }
}

