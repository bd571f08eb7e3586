/**
 * ebRS 3.0 RegistryResponse (rs.xsd) as ITI TF-3 §4.2.4 profiles it: a status and the RegistryErrors,
 * each kept as data for the DMP client to classify. Written for the sandbox, read from partners.
 *
 * Reading is tolerant where the meaning is unambiguous (a missing severity is an Error, as rs.xsd's
 * default says; the short ebXML 2.1 status names) and strict where it is not: an unknown status, or
 * a RegistryError without an errorCode, cannot be classified and is an XdsFormatError.
 */
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { serializeXml, xmlDocument, xmlElement } from './ebrim.js';
import type { RegistryError, RegistryResponse, ResponseStatus } from './model.js';
import { ERROR_SEVERITY, NS, RESPONSE_STATUS } from './vocabulary.js';
import { XdsFormatError, childrenNamed, findMessage, firstChild, readXml, type ReadXmlOptions, type XmlElement } from './xml-read.js';

export function registryResponseXml(response: RegistryResponse): string {
  const document = xmlDocument();
  const root = xmlElement(document, NS.RS, 'rs:RegistryResponse', { status: RESPONSE_STATUS[response.status] });
  writeRegistryErrorList(root, response.errors);
  return serializeXml(document);
}

/** The RegistryResponse (or AdhocQueryResponse) at the root, in a SOAP Body, or in a RetrieveDocumentSetResponse. */
export function parseRegistryResponse(xml: string, options: ReadXmlOptions = {}): RegistryResponse {
  const element = findMessage(readXml(xml, options), ['RegistryResponse', 'AdhocQueryResponse'], ['RetrieveDocumentSetResponse']);
  const problems: string[] = [];
  const response = readRegistryResponse(element, problems);
  if (problems.length > 0) throw new XdsFormatError(problems);
  return response;
}

/**
 * rs:RegistryErrorList with its highestSeverity, or nothing when there is no error. Always in the rs
 * namespace, also inside a query:AdhocQueryResponse (rs.xsd RegistryResponseType).
 */
export function writeRegistryErrorList(parent: XMLBuilder, errors: readonly RegistryError[]): void {
  if (errors.length === 0) return;
  const highest = errors.some((e) => e.severity === 'Error') ? ERROR_SEVERITY.Error : ERROR_SEVERITY.Warning;
  const list = xmlElement(parent, NS.RS, 'rs:RegistryErrorList', { highestSeverity: highest });
  for (const error of errors) {
    xmlElement(list, NS.RS, 'rs:RegistryError', {
      codeContext: error.codeContext,
      errorCode: error.errorCode,
      severity: ERROR_SEVERITY[error.severity],
      ...(error.location === undefined ? {} : { location: error.location }),
    });
  }
}

/** Status and errors of any element of rs:RegistryResponseType; problems are collected, not thrown. */
export function readRegistryResponse(element: XmlElement, problems: string[]): RegistryResponse {
  const statusText = element.attributes.status;
  const status = statusText === undefined ? undefined : STATUS_BY_URN.get(statusText);
  if (statusText === undefined) problems.push(`${element.name}: the status attribute is missing`);
  else if (status === undefined) problems.push(`${element.name}: the status ${statusText} is not a RegistryResponse status`);
  const errors: RegistryError[] = [];
  for (const list of childrenNamed(element, 'RegistryErrorList')) {
    for (const item of childrenNamed(list, 'RegistryError')) {
      const errorCode = item.attributes.errorCode;
      if (errorCode === undefined || errorCode === '') {
        problems.push(`${element.name}: RegistryError ${errors.length + 1} has no errorCode`);
        continue;
      }
      const location = item.attributes.location;
      errors.push({
        errorCode,
        // rs.xsd requires codeContext; a partner that puts the message in the text instead is still understood.
        codeContext: item.attributes.codeContext ?? item.text.trim(),
        severity: severityOf(item.attributes.severity),
        ...(location === undefined ? {} : { location }),
      });
    }
  }
  return { status: status ?? 'Failure', errors };
}

/** The URNs of ebRS 3.0 and ITI TF-3 §4.2.4.2, and the bare names of ebXML 2.1 partners. */
const STATUS_BY_URN: ReadonlyMap<string, ResponseStatus> = new Map<string, ResponseStatus>([
  ...Object.entries(RESPONSE_STATUS).map(([status, urn]) => [urn, status as ResponseStatus] as const),
  ['Success', 'Success'],
  ['Failure', 'Failure'],
  ['PartialSuccess', 'PartialSuccess'],
]);

/** rs.xsd: severity defaults to Error; anything not recognisably a Warning is treated as an Error, the safe reading. */
function severityOf(severity: string | undefined): RegistryError['severity'] {
  return severity === ERROR_SEVERITY.Warning || severity === 'Warning' ? 'Warning' : 'Error';
}

/** The first RegistryResponse child of `parent` (RetrieveDocumentSetResponse), read; problems collected. */
export function readNestedRegistryResponse(parent: XmlElement, problems: string[]): RegistryResponse {
  const element = firstChild(parent, 'RegistryResponse');
  if (element === undefined) {
    problems.push(`${parent.name}: no RegistryResponse`);
    return { status: 'Failure', errors: [] };
  }
  return readRegistryResponse(element, problems);
}
