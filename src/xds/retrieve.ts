/**
 * ITI-43 Retrieve Document Set (ITI TF-2b §3.43; the DMP's TD3.2): the request Passerelle sends and the
 * sandbox reads, the response the sandbox sends and Passerelle reads (XDS.b_DocumentRepository.xsd).
 *
 * The documents of a response travel as MTOM parts: the writer puts an xop:Include in each Document;
 * the reader accepts that or inline base64, which a repository may send for small documents or
 * without MTOM.
 */
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { cidUrl, readDocumentContent, serializeXml, xmlDocument, xmlElement, xmlText } from './ebrim.js';
import type { RegistryResponse } from './model.js';
import { readNestedRegistryResponse, writeRegistryErrorList } from './registry-response.js';
import { NS, RESPONSE_STATUS } from './vocabulary.js';
import { XdsFormatError, childrenNamed, findMessage, firstChild, readXml, type ReadXmlOptions, type XmlElement } from './xml-read.js';

export interface DocumentRequest {
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
  readonly homeCommunityId?: string;
}

/** A document of a response, as the sandbox writes it: its part's Content-ID. */
export interface RetrievedDocumentRef extends DocumentRequest {
  readonly mimeType: string;
  readonly contentId: string;
}

/** A document of a response, as read: the xop:Include href to resolve against the MTOM parts, or its inline octets. */
export interface RetrievedDocument extends DocumentRequest {
  readonly mimeType: string;
  readonly include?: string;
  readonly inline?: Buffer;
}

export function retrieveDocumentSetRequestXml(requests: readonly DocumentRequest[]): string {
  // XDS.b_DocumentRepository.xsd: DocumentRequest maxOccurs unbounded, minOccurs 1.
  if (requests.length === 0) throw new XdsFormatError(['a RetrieveDocumentSetRequest asks for at least one document']);
  const document = xmlDocument();
  const root = xmlElement(document, NS.XDS_B, 'xdsb:RetrieveDocumentSetRequest');
  for (const r of requests) writeIdentifiers(xmlElement(root, NS.XDS_B, 'xdsb:DocumentRequest'), r);
  return serializeXml(document);
}

/** The DocumentRequests of a RetrieveDocumentSetRequest (root or SOAP Body), for the sandbox. */
export function parseRetrieveDocumentSetRequest(xml: string, options: ReadXmlOptions = {}): DocumentRequest[] {
  const request = findMessage(readXml(xml, options), ['RetrieveDocumentSetRequest']);
  const problems: string[] = [];
  const requests = childrenNamed(request, 'DocumentRequest').flatMap((r, i) => {
    const ids = readIdentifiers(r, `DocumentRequest ${i + 1}`, problems);
    return ids === undefined ? [] : [ids];
  });
  if (requests.length === 0 && problems.length === 0) problems.push('RetrieveDocumentSetRequest: no DocumentRequest');
  if (problems.length > 0) throw new XdsFormatError(problems);
  return requests;
}

/** rs:RegistryResponse, then one DocumentResponse per document, its content an xop:Include of its MTOM part. */
export function retrieveDocumentSetResponseXml(response: RegistryResponse & { readonly documents: readonly RetrievedDocumentRef[] }): string {
  const document = xmlDocument();
  const root = xmlElement(document, NS.XDS_B, 'xdsb:RetrieveDocumentSetResponse', { 'xmlns:rs': NS.RS, 'xmlns:xop': NS.XOP });
  writeRegistryErrorList(xmlElement(root, NS.RS, 'rs:RegistryResponse', { status: RESPONSE_STATUS[response.status] }), response.errors);
  for (const d of response.documents) {
    const element = xmlElement(root, NS.XDS_B, 'xdsb:DocumentResponse');
    writeIdentifiers(element, d);
    xmlText(xmlElement(element, NS.XDS_B, 'xdsb:mimeType'), d.mimeType);
    xmlElement(xmlElement(element, NS.XDS_B, 'xdsb:Document'), NS.XOP, 'xop:Include', { href: cidUrl(d.contentId) });
  }
  return serializeXml(document);
}

/** The RetrieveDocumentSetResponse at the root or in a SOAP Body: its status, errors and documents. */
export function parseRetrieveDocumentSetResponse(xml: string, options: ReadXmlOptions = {}): RegistryResponse & { documents: RetrievedDocument[] } {
  const element = findMessage(readXml(xml, options), ['RetrieveDocumentSetResponse']);
  const problems: string[] = [];
  const response = readNestedRegistryResponse(element, problems);
  const documents = childrenNamed(element, 'DocumentResponse').flatMap((d, i) => {
    const where = `DocumentResponse ${i + 1}`;
    const ids = readIdentifiers(d, where, problems);
    const mimeType = text(d, 'mimeType', where, problems);
    const documentElement = firstChild(d, 'Document');
    if (documentElement === undefined) problems.push(`${where}: no Document`);
    const content = documentElement === undefined ? undefined : readDocumentContent(documentElement, where, problems);
    return ids === undefined || mimeType === undefined || content === undefined ? [] : [{ ...ids, mimeType, ...content }];
  });
  if (problems.length > 0) throw new XdsFormatError(problems);
  return { ...response, documents };
}

/** HomeCommunityId (when known), RepositoryUniqueId, DocumentUniqueId: the order the XSD requires. */
function writeIdentifiers(element: XMLBuilder, ids: DocumentRequest): void {
  if (ids.homeCommunityId !== undefined) xmlText(xmlElement(element, NS.XDS_B, 'xdsb:HomeCommunityId'), ids.homeCommunityId);
  xmlText(xmlElement(element, NS.XDS_B, 'xdsb:RepositoryUniqueId'), ids.repositoryUniqueId);
  xmlText(xmlElement(element, NS.XDS_B, 'xdsb:DocumentUniqueId'), ids.documentUniqueId);
}

function readIdentifiers(element: XmlElement, where: string, problems: string[]): DocumentRequest | undefined {
  const repositoryUniqueId = text(element, 'RepositoryUniqueId', where, problems);
  const documentUniqueId = text(element, 'DocumentUniqueId', where, problems);
  const homeCommunityId = firstChild(element, 'HomeCommunityId')?.text.trim();
  if (repositoryUniqueId === undefined || documentUniqueId === undefined) return undefined;
  return { repositoryUniqueId, documentUniqueId, ...(homeCommunityId === undefined || homeCommunityId === '' ? {} : { homeCommunityId }) };
}

/** The trimmed text of the one child `name`, or a problem. */
function text(element: XmlElement, name: string, where: string, problems: string[]): string | undefined {
  const value = firstChild(element, name)?.text.trim();
  if (value === undefined || value === '') {
    problems.push(`${where}: no ${name}`);
    return undefined;
  }
  return value;
}
