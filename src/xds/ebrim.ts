/**
 * The one place the XDS model (model.ts) becomes ebRIM 3.0 and back, as ITI TF-3 §4.2.3 and the
 * tables of §4.2.5 lay it out: a DocumentEntry is a rim:ExtrinsicObject, a SubmissionSet or a Folder
 * a rim:RegistryPackage classified by its ClassificationNode, coded attributes are Classifications
 * (nodeRepresentation = code, Slot codingScheme, Name = display name), identifiers are
 * ExternalIdentifiers, plain attributes are Slots.
 *
 * Writing is deterministic: the same model gives the same bytes (objects, slots, classifications and
 * identifiers always in the same order, ids derived from the model). Reading accepts any prefix, any
 * order of attributes and elements, Classifications and ExternalIdentifiers nested in their object or
 * beside it (ebRIM allows both; NIST and WCF partners put the SubmissionSet's node beside it), and
 * reports every missing or repeated attribute the model needs in one XdsFormatError.
 */
import { createHash } from 'node:crypto';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { formatCx, formatXcn, formatXon, parseCx, parseXcn, parseXon } from './hl7v2.js';
import type { Association, Author, Code, DocumentEntry, Folder, SubmissionRequest, SubmissionSet, Xcn } from './model.js';
import {
  DOCUMENT_ENTRY, EXTERNAL_IDENTIFIER_NAME, FOLDER, NS, OBJECT_TYPE, SLOT, SUBMISSION_SET,
} from './vocabulary.js';
import { XdsFormatError, childrenNamed, findMessage, firstChild, readXml, type ReadXmlOptions, type XmlElement } from './xml-read.js';

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Every kind of registry object a RegistryObjectList carries (a submission, or a query answer). */
export interface RegistryObjects {
  readonly submissionSets: readonly SubmissionSet[];
  readonly folders: readonly Folder[];
  readonly documentEntries: readonly DocumentEntry[];
  readonly associations: readonly Association[];
  /** rim:ObjectRef ids (ObjectRef query answers; ignored in submissions). */
  readonly objectRefs: readonly string[];
}

/** A document of a ProvideAndRegister request, sent as an MTOM part: `xop:Include href="cid:{contentId}"`. */
export interface DocumentAttachment {
  readonly entryUUID: string;
  /** The part's Content-ID without angle brackets. */
  readonly contentId: string;
}

/** lcm:SubmitObjectsRequest, a standalone document (ITI-42 metadata, ITI-57, `passerelle xds metadata`). */
export function submitObjectsRequestXml(request: SubmissionRequest): string {
  const writer = new RimWriter();
  const document = xmlDocument();
  writer.submitObjectsRequest(document, request);
  return writer.end(document);
}

/**
 * xdsb:ProvideAndRegisterDocumentSetRequest (ITI-41): the SubmitObjectsRequest, then one xdsb:Document
 * per DocumentEntry, each an xop:Include of its MTOM part (ITI TF-2b §3.41.4.1: every DocumentEntry
 * of the submission has exactly one document, and every document one DocumentEntry; a repository
 * answers XDSMissingDocument or XDSMissingDocumentMetadata otherwise).
 */
export function provideAndRegisterRequestXml(request: SubmissionRequest, documents: readonly DocumentAttachment[]): string {
  const entries = new Set(request.documentEntries.map((e) => e.entryUUID));
  const attached = new Set(documents.map((d) => d.entryUUID));
  const mismatches = [
    ...documents.filter((d) => !entries.has(d.entryUUID)).map((d) => `the document ${d.entryUUID} has no DocumentEntry in the submission`),
    ...[...entries].filter((id) => !attached.has(id)).map((id) => `the DocumentEntry ${id} has no document`),
    ...(attached.size === documents.length ? [] : ['a DocumentEntry has more than one document']),
  ];
  if (mismatches.length > 0) throw new XdsFormatError(mismatches);
  const writer = new RimWriter();
  const document = xmlDocument();
  const root = xmlElement(document, NS.XDS_B, 'xdsb:ProvideAndRegisterDocumentSetRequest', { 'xmlns:lcm': NS.LCM, 'xmlns:xop': NS.XOP });
  writer.submitObjectsRequest(root, request);
  for (const d of documents) xmlElement(xmlElement(root, NS.XDS_B, 'xdsb:Document', { id: d.entryUUID }), NS.XOP, 'xop:Include', { href: cidUrl(d.contentId) });
  return writer.end(document);
}

/**
 * Writes `objects` as a rim:RegistryObjectList under `parent` (query.ts reuses it for AdhocQueryResponse).
 * Throws an XdsFormatError when a value does not fit ebRIM (a title over 1024 characters…).
 */
export function writeRegistryObjectList(parent: XMLBuilder, objects: RegistryObjects): void {
  const writer = new RimWriter();
  writer.registryObjectList(parent, objects);
  writer.throwProblems();
}

/** RFC 2392: a Content-ID as a cid: URL, with the characters a URL cannot hold %-encoded. */
export function cidUrl(contentId: string): string {
  return `cid:${contentId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/gu, (c) => encodeURIComponent(c))}`;
}

/** rim.xsd LongName (slot values, identifiers, codes) and FreeFormText (LocalizedString values). */
const LONG_NAME_CHARS = 256;
const FREE_FORM_TEXT_CHARS = 1024;
/** rim.xsd String16: VersionInfo versionName. */
const VERSION_NAME_CHARS = 16;

/**
 * Language of the display names and titles Passerelle writes other than a document's own: the DMP's
 * metadata and its value sets (NOS) are French (french-specs §3.1: languageCode fr-FR).
 */
const METADATA_LANGUAGE = 'fr-FR';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * rim.xsd requires an id on every Classification and ExternalIdentifier. Passerelle derives them:
 * name-based UUIDs (RFC 4122 §4.3, version 5, SHA-1) of the owning object's id and the place of the
 * Classification in it. Not symbolic ids ("cla1", as DRIMbox writes and the DMP accepts): every
 * registry keeps a urn:uuid id as given, while symbolic ones must be replaced by the registry
 * (rim.xsd IdentifiableType), and one that did not would store the same "cla1" for every submission. Not random UUIDs: the same model then gives the same bytes, so that golden
 * files and retries compare equal. Unique as long as entryUUIDs are, which XDS requires anyway.
 */
const DERIVED_ID_NAMESPACE = Buffer.from('916a016155224db38c33f837c1aa82da', 'hex');

export function derivedId(owner: string, role: string, index: number): string {
  const hash = createHash('sha1').update(DERIVED_ID_NAMESPACE).update(`${owner}\n${role}\n${index}`, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Writes ebRIM and collects the values ebRIM cannot carry, to throw them all at once. */
class RimWriter {
  private readonly problems: string[] = [];

  submitObjectsRequest(parent: XMLBuilder, request: SubmissionRequest): void {
    const element = xmlElement(parent, NS.LCM, 'lcm:SubmitObjectsRequest', { 'xmlns:rim': NS.RIM });
    this.registryObjectList(element, {
      submissionSets: [request.submissionSet],
      folders: request.folders,
      documentEntries: request.documentEntries,
      associations: request.associations,
      objectRefs: [],
    });
  }

  /** SubmissionSets, Folders (each followed by the Classification that makes it one), DocumentEntries, Associations, ObjectRefs. */
  registryObjectList(parent: XMLBuilder, objects: RegistryObjects): void {
    const list = xmlElement(parent, NS.RIM, 'rim:RegistryObjectList');
    for (const set of objects.submissionSets) this.submissionSet(list, set);
    for (const folder of objects.folders) this.folder(list, folder);
    for (const entry of objects.documentEntries) this.documentEntry(list, entry);
    for (const association of objects.associations) this.association(list, association);
    for (const id of objects.objectRefs) xmlElement(list, NS.RIM, 'rim:ObjectRef', { id });
  }

  end(document: XMLBuilder): string {
    this.throwProblems();
    return serializeXml(document);
  }

  throwProblems(): void {
    if (this.problems.length > 0) throw new XdsFormatError(this.problems);
  }

  /** ITI TF-3 §4.2.3.2 and Table 4.2.5-1. Slots in the order of that section's table, Classifications by scheme. */
  private documentEntry(list: XMLBuilder, e: DocumentEntry): void {
    const where = `DocumentEntry ${e.entryUUID}`;
    const element = xmlElement(list, NS.RIM, 'rim:ExtrinsicObject', {
      id: e.entryUUID,
      ...(e.logicalId === undefined ? {} : { lid: e.logicalId }),
      mimeType: this.fit(e.mimeType, LONG_NAME_CHARS, `${where}: mimeType`),
      objectType: DOCUMENT_ENTRY.OBJECT_TYPE_STABLE,
      ...(e.availabilityStatus === undefined ? {} : { status: e.availabilityStatus }),
    });
    this.slot(element, SLOT.CREATION_TIME, [e.creationTime], where);
    this.slot(element, SLOT.LANGUAGE_CODE, [e.languageCode], where);
    this.optionalSlot(element, SLOT.SERVICE_START_TIME, e.serviceStartTime, where);
    this.optionalSlot(element, SLOT.SERVICE_STOP_TIME, e.serviceStopTime, where);
    this.slot(element, SLOT.SOURCE_PATIENT_ID, [formatCx(e.sourcePatientId)], where);
    if (e.sourcePatientInfo.length > 0) this.slot(element, SLOT.SOURCE_PATIENT_INFO, e.sourcePatientInfo, where);
    this.optionalSlot(element, SLOT.HASH, e.hash, where);
    this.optionalSlot(element, SLOT.SIZE, e.size === undefined ? undefined : String(e.size), where);
    this.optionalSlot(element, SLOT.REPOSITORY_UNIQUE_ID, e.repositoryUniqueId, where);
    this.optionalSlot(element, SLOT.LEGAL_AUTHENTICATOR, e.legalAuthenticator === undefined ? undefined : formatXcn(e.legalAuthenticator), where);
    if (e.referenceIds.length > 0) this.slot(element, SLOT.REFERENCE_ID_LIST, e.referenceIds, where);
    this.optionalSlot(element, SLOT.URI, e.uri, where);
    this.localized(element, 'rim:Name', e.title, e.languageCode, `${where}: title`);
    if (e.comments !== undefined) this.localized(element, 'rim:Description', e.comments, e.languageCode, `${where}: comments`);
    if (e.version !== undefined) xmlElement(element, NS.RIM, 'rim:VersionInfo', { versionName: this.fit(e.version, VERSION_NAME_CHARS, `${where}: version`) });

    const owner = e.entryUUID;
    e.authors.forEach((author, i) => { this.author(element, DOCUMENT_ENTRY.AUTHOR, owner, author, i, where); });
    this.code(element, DOCUMENT_ENTRY.CLASS_CODE, owner, e.classCode, 0, where);
    e.confidentialityCodes.forEach((c, i) => { this.code(element, DOCUMENT_ENTRY.CONFIDENTIALITY_CODE, owner, c, i, where); });
    e.eventCodes.forEach((c, i) => { this.code(element, DOCUMENT_ENTRY.EVENT_CODE_LIST, owner, c, i, where); });
    this.code(element, DOCUMENT_ENTRY.FORMAT_CODE, owner, e.formatCode, 0, where);
    this.code(element, DOCUMENT_ENTRY.HEALTHCARE_FACILITY_TYPE_CODE, owner, e.healthcareFacilityTypeCode, 0, where);
    this.code(element, DOCUMENT_ENTRY.PRACTICE_SETTING_CODE, owner, e.practiceSettingCode, 0, where);
    this.code(element, DOCUMENT_ENTRY.TYPE_CODE, owner, e.typeCode, 0, where);
    this.externalIdentifier(element, DOCUMENT_ENTRY.PATIENT_ID, owner, formatCx(e.patientId), EXTERNAL_IDENTIFIER_NAME.DOCUMENT_ENTRY_PATIENT_ID, where);
    this.externalIdentifier(element, DOCUMENT_ENTRY.UNIQUE_ID, owner, e.uniqueId, EXTERNAL_IDENTIFIER_NAME.DOCUMENT_ENTRY_UNIQUE_ID, where);
  }

  /** ITI TF-3 §4.2.3.3 and Table 4.2.5-2; the Classification to the SubmissionSet node follows the package (TF-3 examples). */
  private submissionSet(list: XMLBuilder, s: SubmissionSet): void {
    const where = `SubmissionSet ${s.entryUUID}`;
    const element = xmlElement(list, NS.RIM, 'rim:RegistryPackage', {
      id: s.entryUUID,
      objectType: OBJECT_TYPE.REGISTRY_PACKAGE,
      ...(s.availabilityStatus === undefined ? {} : { status: s.availabilityStatus }),
    });
    this.slot(element, SLOT.SUBMISSION_TIME, [s.submissionTime], where);
    if (s.title !== undefined) this.localized(element, 'rim:Name', s.title, METADATA_LANGUAGE, `${where}: title`);
    if (s.comments !== undefined) this.localized(element, 'rim:Description', s.comments, METADATA_LANGUAGE, `${where}: comments`);
    s.authors.forEach((author, i) => { this.author(element, SUBMISSION_SET.AUTHOR, s.entryUUID, author, i, where); });
    this.code(element, SUBMISSION_SET.CONTENT_TYPE_CODE, s.entryUUID, s.contentTypeCode, 0, where);
    this.externalIdentifier(element, SUBMISSION_SET.UNIQUE_ID, s.entryUUID, s.uniqueId, EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_UNIQUE_ID, where);
    this.externalIdentifier(element, SUBMISSION_SET.SOURCE_ID, s.entryUUID, s.sourceId, EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_SOURCE_ID, where);
    this.externalIdentifier(element, SUBMISSION_SET.PATIENT_ID, s.entryUUID, formatCx(s.patientId), EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_PATIENT_ID, where);
    this.nodeClassification(list, SUBMISSION_SET.CLASSIFICATION_NODE, s.entryUUID);
  }

  /** ITI TF-3 §4.2.3.4 and Table 4.2.5-3. */
  private folder(list: XMLBuilder, f: Folder): void {
    const where = `Folder ${f.entryUUID}`;
    const element = xmlElement(list, NS.RIM, 'rim:RegistryPackage', {
      id: f.entryUUID,
      objectType: OBJECT_TYPE.REGISTRY_PACKAGE,
      ...(f.availabilityStatus === undefined ? {} : { status: f.availabilityStatus }),
    });
    this.optionalSlot(element, SLOT.LAST_UPDATE_TIME, f.lastUpdateTime, where);
    this.localized(element, 'rim:Name', f.title, METADATA_LANGUAGE, `${where}: title`);
    f.codes.forEach((c, i) => { this.code(element, FOLDER.CODE_LIST, f.entryUUID, c, i, where); });
    this.externalIdentifier(element, FOLDER.PATIENT_ID, f.entryUUID, formatCx(f.patientId), EXTERNAL_IDENTIFIER_NAME.FOLDER_PATIENT_ID, where);
    this.externalIdentifier(element, FOLDER.UNIQUE_ID, f.entryUUID, f.uniqueId, EXTERNAL_IDENTIFIER_NAME.FOLDER_UNIQUE_ID, where);
    this.nodeClassification(list, FOLDER.CLASSIFICATION_NODE, f.entryUUID);
  }

  /** ITI TF-3 §4.2.2: slots in the order the model gives them (OriginalStatus before NewStatus…). */
  private association(list: XMLBuilder, a: Association): void {
    const element = xmlElement(list, NS.RIM, 'rim:Association', {
      id: a.id,
      associationType: a.type,
      sourceObject: a.sourceObject,
      targetObject: a.targetObject,
      objectType: OBJECT_TYPE.ASSOCIATION,
    });
    for (const [name, values] of Object.entries(a.slots)) this.slot(element, name, values, `Association ${a.id}`);
  }

  /** ITI TF-3 §4.2.3.1.4: the author Classification has an empty nodeRepresentation and its attributes as slots. */
  private author(parent: XMLBuilder, scheme: string, owner: string, author: Author, index: number, where: string): void {
    const element = xmlElement(parent, NS.RIM, 'rim:Classification', {
      id: derivedId(owner, scheme, index),
      classificationScheme: scheme,
      classifiedObject: owner,
      nodeRepresentation: '',
      objectType: OBJECT_TYPE.CLASSIFICATION,
    });
    if (author.person !== undefined) this.slot(element, SLOT.AUTHOR_PERSON, [formatXcn(author.person)], where);
    if (author.institutions.length > 0) this.slot(element, SLOT.AUTHOR_INSTITUTION, author.institutions.map(formatXon), where);
    if (author.roles.length > 0) this.slot(element, SLOT.AUTHOR_ROLE, author.roles, where);
    if (author.specialties.length > 0) this.slot(element, SLOT.AUTHOR_SPECIALTY, author.specialties, where);
  }

  /** ITI TF-3 §4.2.3.1.2: a coded attribute. */
  private code(parent: XMLBuilder, scheme: string, owner: string, code: Code, index: number, where: string): void {
    const element = xmlElement(parent, NS.RIM, 'rim:Classification', {
      id: derivedId(owner, scheme, index),
      classificationScheme: scheme,
      classifiedObject: owner,
      nodeRepresentation: this.fit(code.code, LONG_NAME_CHARS, `${where}: code`),
      objectType: OBJECT_TYPE.CLASSIFICATION,
    });
    this.slot(element, SLOT.CODING_SCHEME, [code.codingScheme], where);
    this.localized(element, 'rim:Name', code.displayName, METADATA_LANGUAGE, `${where}: display name of ${code.code}`);
  }

  private externalIdentifier(parent: XMLBuilder, scheme: string, owner: string, value: string, name: string, where: string): void {
    const identifier = xmlElement(parent, NS.RIM, 'rim:ExternalIdentifier', {
      id: derivedId(owner, scheme, 0),
      identificationScheme: scheme,
      objectType: OBJECT_TYPE.EXTERNAL_IDENTIFIER,
      registryObject: owner,
      value: this.fit(value, LONG_NAME_CHARS, `${where}: ${name}`),
    });
    xmlElement(xmlElement(identifier, NS.RIM, 'rim:Name'), NS.RIM, 'rim:LocalizedString', { value: name });
  }

  private nodeClassification(list: XMLBuilder, node: string, owner: string): void {
    xmlElement(list, NS.RIM, 'rim:Classification', {
      id: derivedId(owner, node, 0),
      classificationNode: node,
      classifiedObject: owner,
      objectType: OBJECT_TYPE.CLASSIFICATION,
    });
  }

  private slot(parent: XMLBuilder, name: string, values: readonly string[], where: string): void {
    const valueList = xmlElement(xmlElement(parent, NS.RIM, 'rim:Slot', { name }), NS.RIM, 'rim:ValueList');
    for (const value of values) xmlText(xmlElement(valueList, NS.RIM, 'rim:Value'), this.fit(value, LONG_NAME_CHARS, `${where}: slot ${name}`));
  }

  private optionalSlot(parent: XMLBuilder, name: string, value: string | undefined, where: string): void {
    if (value !== undefined) this.slot(parent, name, [value], where);
  }

  private localized(parent: XMLBuilder, element: string, value: string, language: string, where: string): void {
    xmlElement(xmlElement(parent, NS.RIM, element), NS.RIM, 'rim:LocalizedString', { 'xml:lang': language, charset: 'UTF-8', value: this.fit(value, FREE_FORM_TEXT_CHARS, where) });
  }

  /** The value, noting a problem when it is longer than the ebRIM type allows (the XML would not validate). */
  private fit(value: string, maxChars: number, where: string): string {
    // XSD lengths count characters (code points), not UTF-16 units; the common short case needs no count.
    const length = value.length > maxChars ? Array.from(value).length : value.length;
    if (length > maxChars) this.problems.push(`${where} is ${length} characters long, over the ${maxChars} ebRIM allows`);
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// XML writing shared by the XDS writers (ebrim, registry-response, query, retrieve)
// ---------------------------------------------------------------------------------------------

/**
 * XML 1.0 §3.3.3 reads a literal tab, newline or carriage return in an attribute value as a space,
 * and §2.11 a carriage return in text as a newline; xmlbuilder2 writes them literally, so a title
 * or an error message on two lines would reach the partner on one. They pass through xmlbuilder2 as
 * three Unicode noncharacters (reserved for a program's internal use: Unicode §23.7) and become
 * character references once the document is written.
 */
const PLACEHOLDER: ReadonlyMap<string, string> = new Map([['\t', '\uFDD0'], ['\n', '\uFDD1'], ['\r', '\uFDD2']]);
const REFERENCE: ReadonlyMap<string, string> = new Map([['\uFDD0', '&#x9;'], ['\uFDD1', '&#xA;'], ['\uFDD2', '&#xD;']]);
const PLACEHOLDERS = /[\uFDD0-\uFDD2]/gu;
const HAS_PLACEHOLDER = /[\uFDD0-\uFDD2]/u;

function placeheld(value: string, pattern: RegExp): string {
  if (HAS_PLACEHOLDER.test(value)) {
    throw new XdsFormatError(['a value holds a Unicode noncharacter (U+FDD0 to U+FDD2), which XDS metadata cannot carry']);
  }
  // xmlbuilder2 leaves an `&` that starts something like an entity reference (`&amp;`, `&nbsp;`) as
  // written, so a value holding "&amp;" would be read as "&", and "&x;" would not even be XML.
  // Escaped here, every `&` reaches it as `&amp;`, which it keeps.
  return value.replaceAll('&', '&amp;').replace(pattern, (c) => PLACEHOLDER.get(c) ?? c);
}

/** A new XML document (UTF-8), for xmlElement and serializeXml. */
export function xmlDocument(): XMLBuilder {
  return create({ version: '1.0', encoding: 'UTF-8' });
}

/**
 * A child element `prefix:name` in `namespace`, its attributes written so that every character
 * survives; `xmlns:p` attributes declare prefixes (on a root, so that the prefixes it uses are declared once).
 */
export function xmlElement(parent: XMLBuilder, namespace: string, name: string, attributes: Readonly<Record<string, string>> = {}): XMLBuilder {
  const element = parent.ele(namespace, name);
  for (const [key, value] of Object.entries(attributes)) {
    const protectedValue = placeheld(value, /[\t\n\r]/gu);
    if (key === 'xml:lang') element.att(XML_NS, key, protectedValue);
    else if (key.startsWith('xmlns:')) element.att(XMLNS_NS, key, protectedValue);
    else element.att(key, protectedValue);
  }
  return element;
}

/** Text content that keeps its carriage returns. */
export function xmlText(element: XMLBuilder, text: string): void {
  element.txt(placeheld(text, /\r/gu));
}

/** The document as text, indented, checked well-formed by xmlbuilder2. */
export function serializeXml(document: XMLBuilder): string {
  return document.end({ prettyPrint: true, wellFormed: true }).replace(PLACEHOLDERS, (c) => REFERENCE.get(c) ?? c);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** The SubmitObjectsRequest at the root, in a SOAP Body, or in a ProvideAndRegisterDocumentSetRequest (ITI-41, ITI-42, ITI-57). */
export function parseSubmitObjectsRequest(xml: string, options: ReadXmlOptions = {}): SubmissionRequest {
  const request = findMessage(readXml(xml, options), ['SubmitObjectsRequest'], ['ProvideAndRegisterDocumentSetRequest']);
  return readSubmitObjectsRequest(request);
}

/** A document as the ITI-41 request carries it: an xop:Include to resolve against the MTOM parts, or inline base64. */
export interface ReceivedDocument {
  readonly entryUUID: string;
  /** The xop:Include href, as written (`cid:…`, possibly %-encoded). */
  readonly include?: string;
  readonly inline?: Buffer;
}

export function parseProvideAndRegisterRequest(xml: string, options: ReadXmlOptions = {}): { request: SubmissionRequest; documents: ReceivedDocument[] } {
  const pnr = findMessage(readXml(xml, options), ['ProvideAndRegisterDocumentSetRequest']);
  const submit = firstChild(pnr, 'SubmitObjectsRequest');
  const problems: string[] = [];
  const documents = childrenNamed(pnr, 'Document').flatMap((d, i) => {
    const document = readDocumentContent(d, `Document ${i + 1}`, problems);
    const entryUUID = d.attributes.id;
    if (entryUUID === undefined || entryUUID === '') {
      problems.push(`Document ${i + 1}: the id attribute is missing`);
      return [];
    }
    return document === undefined ? [] : [{ entryUUID, ...document }];
  });
  if (submit === undefined) problems.push('ProvideAndRegisterDocumentSetRequest: no SubmitObjectsRequest');
  let request: SubmissionRequest | undefined;
  try {
    if (submit !== undefined) request = readSubmitObjectsRequest(submit);
  } catch (error) {
    if (!(error instanceof XdsFormatError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || request === undefined) throw new XdsFormatError(problems);
  return { request, documents };
}

/** The content of an xdsb:Document (ITI-41) or a DocumentResponse's Document (ITI-43): xop:Include or base64 text. */
export function readDocumentContent(element: XmlElement, where: string, problems: string[]): { include: string } | { inline: Buffer } | undefined {
  const include = firstChild(element, 'Include');
  if (include !== undefined) {
    const href = include.attributes.href;
    if (href === undefined || href === '') {
      problems.push(`${where}: the xop:Include has no href`);
      return undefined;
    }
    return { include: href };
  }
  const base64 = element.text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    problems.push(`${where}: the content is neither an xop:Include nor base64`);
    return undefined;
  }
  return { inline: Buffer.from(base64, 'base64') };
}

/** The objects of a RegistryObjectList (query answers); an XdsFormatError names every problem. */
export function parseRegistryObjectList(list: XmlElement): RegistryObjects {
  const problems: string[] = [];
  const objects = readRegistryObjects(list, problems);
  if (problems.length > 0) throw new XdsFormatError(problems);
  return objects;
}

function readSubmitObjectsRequest(request: XmlElement): SubmissionRequest {
  const problems: string[] = [];
  const list = firstChild(request, 'RegistryObjectList');
  if (list === undefined) throw new XdsFormatError(['SubmitObjectsRequest: no RegistryObjectList']);
  const objects = readRegistryObjects(list, problems);
  const [submissionSet, ...others] = objects.submissionSets;
  if (submissionSet === undefined && !problems.some((p) => p.startsWith('SubmissionSet '))) problems.push('SubmitObjectsRequest: no SubmissionSet (a RegistryPackage classified as urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd)');
  if (others.length > 0) problems.push(`SubmitObjectsRequest: ${objects.submissionSets.length} SubmissionSets, expected one`);
  if (problems.length > 0 || submissionSet === undefined) throw new XdsFormatError(problems);
  return { submissionSet, documentEntries: objects.documentEntries, folders: objects.folders, associations: objects.associations };
}

/** Classifications and ExternalIdentifiers of each object, wherever they stand in the list. */
interface Attached {
  readonly classifications: Map<string, XmlElement[]>;
  readonly identifiers: Map<string, XmlElement[]>;
}

function readRegistryObjects(list: XmlElement, problems: string[]): RegistryObjects {
  const attached: Attached = { classifications: new Map(), identifiers: new Map() };
  const add = (map: Map<string, XmlElement[]>, owner: string | undefined, element: XmlElement): void => {
    if (owner === undefined) return;
    map.set(owner, [...(map.get(owner) ?? []), element]);
  };
  for (const top of list.children) {
    if (top.name === 'Classification') add(attached.classifications, top.attributes.classifiedObject, top);
    else if (top.name === 'ExternalIdentifier') add(attached.identifiers, top.attributes.registryObject, top);
    for (const nested of top.children) {
      // rim.xsd requires classifiedObject and registryObject; a nested one without belongs to its parent.
      if (nested.name === 'Classification') add(attached.classifications, nested.attributes.classifiedObject ?? top.attributes.id, nested);
      else if (nested.name === 'ExternalIdentifier') add(attached.identifiers, nested.attributes.registryObject ?? top.attributes.id, nested);
    }
  }

  const submissionSets: SubmissionSet[] = [];
  const folders: Folder[] = [];
  const documentEntries: DocumentEntry[] = [];
  const associations: Association[] = [];
  const objectRefs: string[] = [];
  list.children.forEach((element, index) => {
    const id = element.attributes.id;
    if (element.name === 'ObjectRef') {
      if (id !== undefined) objectRefs.push(id);
      return;
    }
    if (!['ExtrinsicObject', 'RegistryPackage', 'Association'].includes(element.name)) return;
    if (id === undefined || id === '') {
      problems.push(`${element.name} ${index + 1} of the RegistryObjectList: the id attribute is missing`);
      return;
    }
    if (element.name === 'ExtrinsicObject') {
      const entry = new ObjectReader(element, 'DocumentEntry', id, attached, problems).documentEntry();
      if (entry !== undefined) documentEntries.push(entry);
    } else if (element.name === 'Association') {
      const association = new ObjectReader(element, 'Association', id, attached, problems).association();
      if (association !== undefined) associations.push(association);
    } else {
      const nodes = new Set((attached.classifications.get(id) ?? []).map((c) => c.attributes.classificationNode));
      const isSet = nodes.has(SUBMISSION_SET.CLASSIFICATION_NODE);
      if (isSet === nodes.has(FOLDER.CLASSIFICATION_NODE)) {
        problems.push(`RegistryPackage ${id}: classified ${isSet ? 'both as a SubmissionSet and as a Folder' : 'neither as a SubmissionSet nor as a Folder'}`);
      } else if (isSet) {
        const set = new ObjectReader(element, 'SubmissionSet', id, attached, problems).submissionSet();
        if (set !== undefined) submissionSets.push(set);
      } else {
        const folder = new ObjectReader(element, 'Folder', id, attached, problems).folder();
        if (folder !== undefined) folders.push(folder);
      }
    }
  });
  return { submissionSets, folders, documentEntries, associations, objectRefs };
}

/** Reads one registry object, noting every problem under its name and id. */
class ObjectReader {
  private readonly where: string;
  private readonly slots: Map<string, string[]>;
  private readonly classifications: readonly XmlElement[];
  private readonly identifiers: readonly XmlElement[];
  private readonly problems: string[];
  private readonly element: XmlElement;
  private readonly firstProblem: number;

  /** `kind` names the object in problems: DocumentEntry, SubmissionSet, Folder, Association. */
  constructor(element: XmlElement, kind: string, private readonly id: string, attached: Attached, problems: string[]) {
    this.element = element;
    this.where = `${kind} ${id}`;
    this.problems = problems;
    this.firstProblem = problems.length;
    this.slots = readSlots(element, this.where, problems);
    this.classifications = attached.classifications.get(id) ?? [];
    this.identifiers = attached.identifiers.get(id) ?? [];
  }

  documentEntry(): DocumentEntry | undefined {
    const a = this.element.attributes;
    if (a.objectType !== DOCUMENT_ENTRY.OBJECT_TYPE_STABLE) {
      this.problem(a.objectType === undefined ? 'the objectType attribute is missing' : `the objectType ${a.objectType} is not a stable DocumentEntry's`);
    }
    const mimeType = a.mimeType;
    if (mimeType === undefined || mimeType === '') this.problem('the mimeType attribute is missing');
    const creationTime = this.single(SLOT.CREATION_TIME, true);
    const languageCode = this.single(SLOT.LANGUAGE_CODE, true);
    const serviceStartTime = this.single(SLOT.SERVICE_START_TIME, false);
    const serviceStopTime = this.single(SLOT.SERVICE_STOP_TIME, false);
    const sourcePatientId = this.parsed(SLOT.SOURCE_PATIENT_ID, this.single(SLOT.SOURCE_PATIENT_ID, true), parseCx);
    const hash = this.single(SLOT.HASH, false);
    const size = this.size();
    const repositoryUniqueId = this.single(SLOT.REPOSITORY_UNIQUE_ID, false);
    const uri = this.uri();
    const legalAuthenticator = this.parsed(SLOT.LEGAL_AUTHENTICATOR, this.single(SLOT.LEGAL_AUTHENTICATOR, false), parseXcn);
    const title = this.localized('Name', true);
    const comments = this.localized('Description', false);
    const version = firstChild(this.element, 'VersionInfo')?.attributes.versionName;
    const one = (scheme: string, label: string): Code | undefined => this.codes(scheme, label, 1, 1)[0];
    const typeCode = one(DOCUMENT_ENTRY.TYPE_CODE, 'typeCode');
    const classCode = one(DOCUMENT_ENTRY.CLASS_CODE, 'classCode');
    const formatCode = one(DOCUMENT_ENTRY.FORMAT_CODE, 'formatCode');
    const healthcareFacilityTypeCode = one(DOCUMENT_ENTRY.HEALTHCARE_FACILITY_TYPE_CODE, 'healthcareFacilityTypeCode');
    const practiceSettingCode = one(DOCUMENT_ENTRY.PRACTICE_SETTING_CODE, 'practiceSettingCode');
    const confidentialityCodes = this.codes(DOCUMENT_ENTRY.CONFIDENTIALITY_CODE, 'confidentialityCode', 1, Infinity);
    const eventCodes = this.codes(DOCUMENT_ENTRY.EVENT_CODE_LIST, 'eventCodeList', 0, Infinity);
    const authors = this.authors(DOCUMENT_ENTRY.AUTHOR);
    const patientId = this.parsed(EXTERNAL_IDENTIFIER_NAME.DOCUMENT_ENTRY_PATIENT_ID, this.identifier(DOCUMENT_ENTRY.PATIENT_ID, EXTERNAL_IDENTIFIER_NAME.DOCUMENT_ENTRY_PATIENT_ID), parseCx);
    const uniqueId = this.identifier(DOCUMENT_ENTRY.UNIQUE_ID, EXTERNAL_IDENTIFIER_NAME.DOCUMENT_ENTRY_UNIQUE_ID);
    if (this.failed() || mimeType === undefined || creationTime === undefined || languageCode === undefined || sourcePatientId === undefined || title === undefined
      || typeCode === undefined || classCode === undefined || formatCode === undefined || healthcareFacilityTypeCode === undefined || practiceSettingCode === undefined
      || patientId === undefined || uniqueId === undefined) return undefined;
    return {
      entryUUID: this.id,
      ...optional('logicalId', a.lid),
      ...optional('version', version),
      uniqueId,
      ...optional('availabilityStatus', a.status),
      mimeType,
      title,
      ...optional('comments', comments),
      typeCode,
      classCode,
      formatCode,
      confidentialityCodes,
      eventCodes,
      healthcareFacilityTypeCode,
      practiceSettingCode,
      creationTime,
      ...optional('serviceStartTime', serviceStartTime),
      ...optional('serviceStopTime', serviceStopTime),
      languageCode,
      authors,
      ...optional('legalAuthenticator', legalAuthenticator),
      patientId,
      sourcePatientId,
      sourcePatientInfo: this.slots.get(SLOT.SOURCE_PATIENT_INFO) ?? [],
      ...optional('hash', hash),
      ...optional('size', size),
      ...optional('repositoryUniqueId', repositoryUniqueId),
      referenceIds: this.slots.get(SLOT.REFERENCE_ID_LIST) ?? [],
      ...optional('uri', uri),
    };
  }

  submissionSet(): SubmissionSet | undefined {
    const submissionTime = this.single(SLOT.SUBMISSION_TIME, true);
    const title = this.localized('Name', false);
    const comments = this.localized('Description', false);
    const authors = this.authors(SUBMISSION_SET.AUTHOR);
    const contentTypeCode = this.codes(SUBMISSION_SET.CONTENT_TYPE_CODE, 'contentTypeCode', 1, 1)[0];
    const uniqueId = this.identifier(SUBMISSION_SET.UNIQUE_ID, EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_UNIQUE_ID);
    const sourceId = this.identifier(SUBMISSION_SET.SOURCE_ID, EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_SOURCE_ID);
    const patientId = this.parsed(EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_PATIENT_ID, this.identifier(SUBMISSION_SET.PATIENT_ID, EXTERNAL_IDENTIFIER_NAME.SUBMISSION_SET_PATIENT_ID), parseCx);
    if (this.failed() || submissionTime === undefined || contentTypeCode === undefined || uniqueId === undefined || sourceId === undefined || patientId === undefined) return undefined;
    return {
      entryUUID: this.id,
      uniqueId,
      sourceId,
      submissionTime,
      contentTypeCode,
      patientId,
      authors,
      ...optional('title', title),
      ...optional('comments', comments),
      ...optional('availabilityStatus', this.element.attributes.status),
    };
  }

  folder(): Folder | undefined {
    const lastUpdateTime = this.single(SLOT.LAST_UPDATE_TIME, false);
    const title = this.localized('Name', true);
    const codes = this.codes(FOLDER.CODE_LIST, 'codeList', 0, Infinity);
    const uniqueId = this.identifier(FOLDER.UNIQUE_ID, EXTERNAL_IDENTIFIER_NAME.FOLDER_UNIQUE_ID);
    const patientId = this.parsed(EXTERNAL_IDENTIFIER_NAME.FOLDER_PATIENT_ID, this.identifier(FOLDER.PATIENT_ID, EXTERNAL_IDENTIFIER_NAME.FOLDER_PATIENT_ID), parseCx);
    if (this.failed() || title === undefined || uniqueId === undefined || patientId === undefined) return undefined;
    return {
      entryUUID: this.id,
      uniqueId,
      title,
      patientId,
      codes,
      ...optional('lastUpdateTime', lastUpdateTime),
      ...optional('availabilityStatus', this.element.attributes.status),
    };
  }

  association(): Association | undefined {
    const a = this.element.attributes;
    const required = (name: string): string | undefined => {
      const value = a[name];
      if (value === undefined || value === '') this.problem(`the ${name} attribute is missing`);
      return value;
    };
    const type = required('associationType');
    const sourceObject = required('sourceObject');
    const targetObject = required('targetObject');
    if (this.failed() || type === undefined || sourceObject === undefined || targetObject === undefined) return undefined;
    return { id: this.id, type, sourceObject, targetObject, slots: Object.fromEntries(this.slots) };
  }

  private problem(message: string): void {
    this.problems.push(`${this.where}: ${message}`);
  }

  private failed(): boolean {
    return this.problems.length > this.firstProblem;
  }

  /** The one value of a slot; a problem when it is repeated, or missing and `required`. */
  private single(name: string, required: boolean): string | undefined {
    const values = this.slots.get(name);
    if (values === undefined || values.length === 0) {
      if (required) this.problem(`the slot ${name} is missing`);
      return undefined;
    }
    if (values.length > 1) this.problem(`the slot ${name} has ${values.length} values, expected one`);
    return values[0];
  }

  private size(): number | undefined {
    const text = this.single(SLOT.SIZE, false);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) {
      this.problem('the slot size is not an integer');
      return undefined;
    }
    return Number(text);
  }

  /** The URI slot (uriOfSlotValues); several values that are not numbered pieces are a problem. */
  private uri(): string | undefined {
    const values = this.slots.get(SLOT.URI) ?? [];
    const uri = uriOfSlotValues(values);
    if (uri === undefined && values.length > 1) this.problem(`the slot ${SLOT.URI} has ${values.length} values that are not numbered pieces (n|…) of one URI`);
    return uri;
  }

  /** The HL7 v2 value read by `parse`; its problems are named after `what`, never quoting the value (it may be a patient's). */
  private parsed<T>(what: string, text: string | undefined, parse: (text: string) => T): T | undefined {
    if (text === undefined) return undefined;
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof XdsFormatError)) throw error;
      for (const p of error.problems) this.problem(`${what}: ${p}`);
      return undefined;
    }
  }

  /** The first LocalizedString of Name or Description (other languages are not kept). */
  private localized(element: 'Name' | 'Description', required: boolean): string | undefined {
    const value = localizedValue(this.element, element);
    if (value === undefined && required) this.problem(`the ${element} (${element === 'Name' ? 'title' : 'comments'}) is missing`);
    return value;
  }

  /** The value of the one ExternalIdentifier of `scheme`. */
  private identifier(scheme: string, name: string): string | undefined {
    const found = this.identifiers.filter((i) => i.attributes.identificationScheme === scheme);
    if (found.length !== 1) {
      this.problem(found.length === 0 ? `no ${name} ExternalIdentifier (${scheme})` : `${found.length} ${name} ExternalIdentifiers, expected one`);
      return undefined;
    }
    const value = found[0]?.attributes.value;
    if (value === undefined || value === '') this.problem(`the ${name} ExternalIdentifier has no value`);
    return value === '' ? undefined : value;
  }

  /** The coded Classifications of `scheme`, between `min` and `max` of them. */
  private codes(scheme: string, label: string, min: number, max: number): Code[] {
    const found = this.classifications.filter((c) => c.attributes.classificationScheme === scheme);
    if (found.length < min || found.length > max) {
      this.problem(max === 1 ? `${found.length === 0 ? 'no' : found.length} ${label} Classification${found.length === 0 ? '' : 's'}, expected one` : `no ${label} Classification, expected at least ${min}`);
    }
    return found.flatMap((c) => {
      const code = c.attributes.nodeRepresentation;
      const schemes = readSlots(c, `${this.where}: ${label}`, this.problems).get(SLOT.CODING_SCHEME) ?? [];
      if (code === undefined || code === '') this.problem(`a ${label} Classification has no nodeRepresentation (code)`);
      if (schemes.length !== 1) this.problem(`a ${label} Classification has ${schemes.length} codingScheme values, expected one`);
      const codingScheme = schemes[0];
      if (code === undefined || code === '' || codingScheme === undefined) return [];
      return [{ code, codingScheme, displayName: localizedValue(c, 'Name') ?? '' }];
    });
  }

  private authors(scheme: string): Author[] {
    return this.classifications.filter((c) => c.attributes.classificationScheme === scheme).map((c) => {
      const slots = readSlots(c, `${this.where}: author`, this.problems);
      const persons = slots.get(SLOT.AUTHOR_PERSON) ?? [];
      if (persons.length > 1) this.problem(`an author has ${persons.length} authorPerson values, expected at most one`);
      const person: Xcn | undefined = this.parsed(SLOT.AUTHOR_PERSON, persons[0], parseXcn);
      const institutions = (slots.get(SLOT.AUTHOR_INSTITUTION) ?? []).flatMap((text) => {
        const xon = this.parsed(SLOT.AUTHOR_INSTITUTION, text, parseXon);
        return xon === undefined ? [] : [xon];
      });
      return {
        ...optional('person', person),
        institutions,
        roles: slots.get(SLOT.AUTHOR_ROLE) ?? [],
        specialties: slots.get(SLOT.AUTHOR_SPECIALTY) ?? [],
      };
    });
  }
}

/**
 * The URI of a DocumentEntry from its URI slot's values: one value, or the numbered pieces `1|…`,
 * `2|…` of one URI, put back together in their order (undefined when neither). ebRIM 2.1 limited a
 * Slot value to 128 characters, and the XDS.a editions of ITI TF-3 split a longer URI so; XDM media
 * of that time (ebRIM 2.1 METADATA.XML) still circulate.
 */
export function uriOfSlotValues(values: readonly string[]): string | undefined {
  if (values.length <= 1) return values[0] === '' ? undefined : values[0];
  const pieces = values.map((v) => /^(\d+)\|(.*)$/s.exec(v));
  if (pieces.some((p) => p === null)) return undefined;
  return pieces.flatMap((p) => (p === null ? [] : [{ index: Number(p[1]), piece: p[2] ?? '' }])).sort((a, b) => a.index - b.index).map((p) => p.piece).join('');
}

/** The slots of an object by name, values trimmed (pretty-printers indent them); a repeated slot name is a problem. */
function readSlots(element: XmlElement, where: string, problems: string[]): Map<string, string[]> {
  const slots = new Map<string, string[]>();
  for (const slot of childrenNamed(element, 'Slot')) {
    const name = slot.attributes.name;
    if (name === undefined || name === '') {
      problems.push(`${where}: a Slot has no name`);
      continue;
    }
    if (slots.has(name)) problems.push(`${where}: the slot ${name} appears more than once`);
    slots.set(name, childrenNamed(slot, 'ValueList').flatMap((list) => childrenNamed(list, 'Value')).map((v) => v.text.trim()));
  }
  return slots;
}

function localizedValue(element: XmlElement, name: 'Name' | 'Description'): string | undefined {
  const container = firstChild(element, name);
  return container === undefined ? undefined : firstChild(container, 'LocalizedString')?.attributes.value;
}

/** `{ key: value }` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes: absent, not undefined). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
