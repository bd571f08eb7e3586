/**
 * ITI-18 Registry Stored Query (ITI TF-2a §3.18), the two queries the DMP client needs (TD3.1a list a
 * patient's documents, TD3.1b find an entryUUID from a uniqueId): the AdhocQueryRequest Passerelle
 * sends and the sandbox reads, and the AdhocQueryResponse the sandbox sends and Passerelle reads.
 *
 * Parameter values are coded as §3.18.4.1.2.3 says: strings in single quotes (a quote inside doubled), lists
 * in parentheses. A list is written one element per rim:Value (also allowed, and it keeps every
 * Value within rim.xsd's 256 characters however many uniqueIds are asked for).
 */
import { parseRegistryObjectList, serializeXml, writeRegistryObjectList, xmlDocument, xmlElement, xmlText } from './ebrim.js';
import { escapeHl7, formatCx, parseCx, unescapeHl7 } from './hl7v2.js';
import type { Association, Code, Cx, DocumentEntry, RegistryResponse } from './model.js';
import { readRegistryResponse, writeRegistryErrorList } from './registry-response.js';
import { NS, QUERY_PARAMETER, RESPONSE_STATUS, STORED_QUERY, XDS_ERROR } from './vocabulary.js';
import { XdsFormatError, childrenNamed, findMessage, firstChild, readXml, type ReadXmlOptions } from './xml-read.js';

export type StoredQuery =
  | { readonly kind: 'FindDocuments'; readonly patientId: Cx; readonly statuses: readonly string[]; readonly typeCodes?: readonly Code[] }
  | { readonly kind: 'GetDocuments'; readonly uniqueIds?: readonly string[]; readonly entryUUIDs?: readonly string[] };

/** ResponseOption returnType (ITI TF-2a §3.18.4.1.2.1): full objects, or their ids. */
export type ReturnType = 'LeafClass' | 'ObjectRef';

/** A stored query request that cannot be answered, with the XDS error code the registry answers with (ITI TF-3 Table 4.2.4.1-2). */
export class XdsQueryError extends XdsFormatError {
  readonly errorCode: string;

  constructor(errorCode: string, message: string) {
    super([message]);
    this.name = 'XdsQueryError';
    this.errorCode = errorCode;
  }
}

export interface QueryResult extends RegistryResponse {
  readonly documentEntries: readonly DocumentEntry[];
  readonly associations: readonly Association[];
  readonly objectRefs: readonly string[];
}

export function adhocQueryRequestXml(query: StoredQuery, returnType: ReturnType): string {
  const document = xmlDocument();
  const root = xmlElement(document, NS.QUERY, 'query:AdhocQueryRequest', { 'xmlns:rim': NS.RIM });
  // returnComposedObjects: ITI TF-2a §3.18.4.1.2.1 requires true, so that Classifications come with their objects.
  xmlElement(root, NS.QUERY, 'query:ResponseOption', { returnComposedObjects: 'true', returnType });
  const adhoc = xmlElement(root, NS.RIM, 'rim:AdhocQuery', { id: STORED_QUERY[query.kind] });
  const slot = (name: string, values: readonly string[]): void => {
    const list = xmlElement(xmlElement(adhoc, NS.RIM, 'rim:Slot', { name }), NS.RIM, 'rim:ValueList');
    for (const value of values) xmlText(xmlElement(list, NS.RIM, 'rim:Value'), value);
  };
  if (query.kind === 'FindDocuments') {
    if (query.statuses.length === 0) throw new XdsQueryError(XDS_ERROR.StoredQueryMissingParam, `FindDocuments needs at least one ${QUERY_PARAMETER.STATUS}`);
    slot(QUERY_PARAMETER.PATIENT_ID, [quoted(formatCx(query.patientId))]);
    slot(QUERY_PARAMETER.STATUS, query.statuses.map((s) => `(${quoted(s)})`));
    if (query.typeCodes !== undefined && query.typeCodes.length > 0) slot(QUERY_PARAMETER.TYPE_CODE, query.typeCodes.map((c) => `(${quoted(codeParameter(c))})`));
  } else {
    const uniqueIds = query.uniqueIds ?? [];
    const entryUUIDs = query.entryUUIDs ?? [];
    if ((uniqueIds.length > 0) === (entryUUIDs.length > 0)) {
      throw new XdsQueryError(uniqueIds.length > 0 ? XDS_ERROR.StoredQueryParamNumber : XDS_ERROR.StoredQueryMissingParam, `GetDocuments takes either ${QUERY_PARAMETER.UNIQUE_ID} or ${QUERY_PARAMETER.ENTRY_UUID}`);
    }
    if (uniqueIds.length > 0) slot(QUERY_PARAMETER.UNIQUE_ID, uniqueIds.map((id) => `(${quoted(id)})`));
    else slot(QUERY_PARAMETER.ENTRY_UUID, entryUUIDs.map((id) => `(${quoted(id)})`));
  }
  return serializeXml(document);
}

/**
 * The query of an AdhocQueryRequest (root or SOAP Body), for the sandbox. A query the registry cannot
 * run throws an XdsQueryError whose errorCode is the one to answer: XDSUnknownStoredQuery,
 * XDSStoredQueryMissingParam, XDSStoredQueryParamNumber, or XDSRegistryError for a malformed value.
 */
export function parseAdhocQueryRequest(xml: string, options: ReadXmlOptions = {}): { query: StoredQuery; returnType: ReturnType } {
  const request = findMessage(readXml(xml, options), ['AdhocQueryRequest']);
  const returnTypeText = firstChild(request, 'ResponseOption')?.attributes.returnType;
  if (returnTypeText !== 'LeafClass' && returnTypeText !== 'ObjectRef') {
    throw new XdsQueryError(XDS_ERROR.RegistryError, `ResponseOption returnType ${returnTypeText ?? '(missing)'} is not LeafClass or ObjectRef`);
  }
  const adhoc = firstChild(request, 'AdhocQuery');
  const id = adhoc?.attributes.id;
  const kind = (Object.keys(STORED_QUERY) as (keyof typeof STORED_QUERY)[]).find((k) => STORED_QUERY[k] === id);
  if (adhoc === undefined || (kind !== 'FindDocuments' && kind !== 'GetDocuments')) {
    throw new XdsQueryError(XDS_ERROR.UnknownStoredQuery, `the stored query ${id ?? '(no AdhocQuery id)'} is not one this registry runs (FindDocuments, GetDocuments)`);
  }
  const slots = new Map<string, string[]>();
  for (const slot of childrenNamed(adhoc, 'Slot')) {
    const name = slot.attributes.name ?? '';
    // Only some code lists may repeat a slot (AND semantics: eventCodeList, confidentialityCode); none of the parameters read here.
    if (slots.has(name)) throw new XdsQueryError(XDS_ERROR.StoredQueryParamNumber, `the parameter ${name} is given more than once`);
    slots.set(name, childrenNamed(slot, 'ValueList').flatMap((l) => childrenNamed(l, 'Value')).flatMap((v) => listValues(v.text, name)));
  }
  const values = (name: string): string[] | undefined => {
    const found = slots.get(name);
    return found === undefined || found.length === 0 ? undefined : found;
  };
  if (kind === 'FindDocuments') {
    const patientIds = values(QUERY_PARAMETER.PATIENT_ID);
    const statuses = values(QUERY_PARAMETER.STATUS);
    const typeCodes = values(QUERY_PARAMETER.TYPE_CODE);
    if (patientIds === undefined) throw new XdsQueryError(XDS_ERROR.StoredQueryMissingParam, `FindDocuments needs ${QUERY_PARAMETER.PATIENT_ID}`);
    if (patientIds.length > 1) throw new XdsQueryError(XDS_ERROR.StoredQueryParamNumber, `${QUERY_PARAMETER.PATIENT_ID} takes one value, not ${patientIds.length}`);
    if (statuses === undefined) throw new XdsQueryError(XDS_ERROR.StoredQueryMissingParam, `FindDocuments needs ${QUERY_PARAMETER.STATUS}`);
    let patientId: Cx;
    try {
      patientId = parseCx(patientIds[0] ?? '');
    } catch (error) {
      if (!(error instanceof XdsFormatError)) throw error;
      throw new XdsQueryError(XDS_ERROR.RegistryError, `${QUERY_PARAMETER.PATIENT_ID} is not a CX: ${error.message}`);
    }
    const query: StoredQuery = { kind, patientId, statuses, ...(typeCodes === undefined ? {} : { typeCodes: typeCodes.map((t) => parseCodeParameter(t, QUERY_PARAMETER.TYPE_CODE)) }) };
    return { query, returnType: returnTypeText };
  }
  const uniqueIds = values(QUERY_PARAMETER.UNIQUE_ID);
  const entryUUIDs = values(QUERY_PARAMETER.ENTRY_UUID);
  if (uniqueIds === undefined && entryUUIDs === undefined) throw new XdsQueryError(XDS_ERROR.StoredQueryMissingParam, `GetDocuments needs ${QUERY_PARAMETER.UNIQUE_ID} or ${QUERY_PARAMETER.ENTRY_UUID}`);
  if (uniqueIds !== undefined && entryUUIDs !== undefined) throw new XdsQueryError(XDS_ERROR.StoredQueryParamNumber, `GetDocuments takes ${QUERY_PARAMETER.UNIQUE_ID} or ${QUERY_PARAMETER.ENTRY_UUID}, not both`);
  return { query: { kind, ...(uniqueIds === undefined ? {} : { uniqueIds }), ...(entryUUIDs === undefined ? {} : { entryUUIDs }) }, returnType: returnTypeText };
}

/** query:AdhocQueryResponse: the status, the errors, then the RegistryObjectList (query.xsd requires it, even empty). */
export function adhocQueryResponseXml(result: QueryResult): string {
  const document = xmlDocument();
  const root = xmlElement(document, NS.QUERY, 'query:AdhocQueryResponse', { 'xmlns:rs': NS.RS, 'xmlns:rim': NS.RIM, status: RESPONSE_STATUS[result.status] });
  writeRegistryErrorList(root, result.errors);
  writeRegistryObjectList(root, { submissionSets: [], folders: [], documentEntries: result.documentEntries, associations: result.associations, objectRefs: result.objectRefs });
  return serializeXml(document);
}

/**
 * The AdhocQueryResponse at the root or in a SOAP Body. SubmissionSets and Folders an answer may hold
 * are not kept (FindDocuments and GetDocuments return neither). A Failure without RegistryObjectList,
 * which some registries send, reads as an empty answer.
 */
export function parseAdhocQueryResponse(xml: string, options: ReadXmlOptions = {}): QueryResult {
  const element = findMessage(readXml(xml, options), ['AdhocQueryResponse']);
  const problems: string[] = [];
  const response = readRegistryResponse(element, problems);
  const list = firstChild(element, 'RegistryObjectList');
  let objects: Pick<QueryResult, 'documentEntries' | 'associations' | 'objectRefs'> = { documentEntries: [], associations: [], objectRefs: [] };
  try {
    if (list !== undefined) objects = parseRegistryObjectList(list);
  } catch (error) {
    if (!(error instanceof XdsFormatError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new XdsFormatError(problems);
  return { ...response, documentEntries: objects.documentEntries, associations: objects.associations, objectRefs: objects.objectRefs };
}

/** §3.18.4.1.2.3: a string in single quotes, a quote inside doubled. */
function quoted(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** §3.18.4.1.2.3: a coded parameter is `code^^codingScheme`. */
function codeParameter(code: Code): string {
  return `${escapeHl7(code.code)}^^${escapeHl7(code.codingScheme)}`;
}

/** A code parameter as a Code; queries carry no display name, so it is empty. */
function parseCodeParameter(text: string, parameter: string): Code {
  const [code, , codingScheme, ...rest] = text.split('^');
  if (code === undefined || code === '' || codingScheme === undefined || codingScheme === '' || rest.length > 0) {
    throw new XdsQueryError(XDS_ERROR.RegistryError, `a value of ${parameter} is not code^^codingScheme`);
  }
  return { code: unescapeHl7(code), codingScheme: unescapeHl7(codingScheme), displayName: '' };
}

/**
 * The values one rim:Value holds: `('a','b')`, `'a'`, or a bare value (unquoted values are read as
 * written, as IPF does, since their meaning is not in doubt).
 */
function listValues(text: string, parameter: string): string[] {
  const malformed = (): XdsQueryError => new XdsQueryError(XDS_ERROR.RegistryError, `a value of ${parameter} is not a quoted string or a list of them`);
  let rest = text.trim();
  if (rest.startsWith('(')) {
    if (!rest.endsWith(')')) throw malformed();
    rest = rest.slice(1, -1);
  } else if (!rest.startsWith("'")) {
    return rest === '' ? [] : [rest];
  }
  const values: string[] = [];
  let i = 0;
  const skipSpaces = (): void => { while (i < rest.length && /\s/.test(rest.charAt(i))) i += 1; };
  skipSpaces();
  while (i < rest.length) {
    if (rest.charAt(i) === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= rest.length) throw malformed();
        if (rest.charAt(i) === "'") {
          if (rest.charAt(i + 1) !== "'") break;
          i += 1;
        }
        value += rest.charAt(i);
        i += 1;
      }
      i += 1;
      values.push(value);
    } else {
      const end = rest.indexOf(',', i);
      values.push(rest.slice(i, end === -1 ? rest.length : end).trim());
      i = end === -1 ? rest.length : end;
    }
    skipSpaces();
    if (i < rest.length) {
      if (rest.charAt(i) !== ',') throw malformed();
      i += 1;
      skipSpaces();
      if (i >= rest.length) throw malformed();
    }
  }
  return values;
}
