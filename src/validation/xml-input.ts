/**
 * From bytes to an XML document, naming the cause when that fails: an HTML error page, a PDF, an
 * empty or truncated file, an encoding other than UTF-8, a DOCTYPE or XInclude (refused before
 * any deeper parsing), a file over the size limit. A UTF-8 byte-order mark is legal: accepted,
 * with a warning.
 */
import { isUtf8 } from 'node:buffer';
import type { Document } from 'slimdom';
import type { ValidationIssue } from './issue.js';
import { DOCTYPE, XmlParseError, isElement, parseXml } from './xml-parse.js';

export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const HL7_NS = 'urn:hl7-org:v3';

export type ReadResult =
  | { readonly ok: true; readonly document: Document; readonly text: string; readonly bytes: Uint8Array; readonly issues: readonly ValidationIssue[] }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

const input = (rule: string, message: string, hint: string, extra: Partial<ValidationIssue> = {}): ValidationIssue => ({ source: 'input', severity: 'error', rule, message, hint, ...extra });

export function readXmlInput(raw: Uint8Array, name: string, maxBytes = DEFAULT_MAX_INPUT_BYTES): ReadResult {
  if (raw.length > maxBytes) return fail(input('INPUT_TOO_LARGE', `the file is ${raw.length} bytes, over the limit of ${maxBytes}`, 'Raise the limit (--max-bytes) if this document is legitimate.'));
  if (raw.length === 0) return fail(input('INPUT_EMPTY', 'the file is empty', 'Check that the document was written completely.'));
  const head = Buffer.from(raw.subarray(0, 512)).toString('latin1');
  if (head.startsWith('%PDF-')) return fail(input('INPUT_PDF', 'this is a PDF, not an XML document', 'Validate the CDA document; a PDF report goes inside it, base64-encoded in nonXMLBody/text.'));
  if (head.startsWith('\xfe\xff') || head.startsWith('\xff\xfe')) return fail(input('INPUT_UTF16', 'the file is UTF-16', 'CDA documents are exchanged in UTF-8 (CI-SIS): convert the file, e.g. iconv -f UTF-16 -t UTF-8.'));

  const issues: ValidationIssue[] = [];
  let bytes = raw;
  if (head.startsWith('\xef\xbb\xbf')) {
    issues.push({ source: 'input', severity: 'warning', rule: 'INPUT_BOM', message: 'the file starts with a UTF-8 byte-order mark', hint: 'Legal in UTF-8, but some receivers reject it: write UTF-8 without BOM.' });
    bytes = raw.subarray(3);
  }
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  let text: string;
  if (declared !== undefined && declared !== 'utf-8' && declared !== 'utf8') {
    if (declared !== 'iso-8859-1' && declared !== 'latin1' && declared !== 'us-ascii') return fail(input('INPUT_ENCODING_UNSUPPORTED', `the document declares the encoding "${declared}"`, 'Write CDA documents in UTF-8 (CI-SIS).'));
    issues.push(input('INPUT_ENCODING_NOT_UTF8', `the document is declared ${declared}, not UTF-8`, 'The CI-SIS requires UTF-8: convert the file and its XML declaration.'));
    text = Buffer.from(bytes).toString('latin1');
  } else {
    text = Buffer.from(bytes).toString('utf8');
    if (!isUtf8(bytes)) {
      // The first replacement character marks the first invalid byte (a real U+FFFD in the text is rare).
      const line = text.slice(0, Math.max(0, text.indexOf('\uFFFD'))).split('\n').length;
      return fail(input('INPUT_NOT_UTF8', `the file is not valid UTF-8 (first invalid byte near line ${line})`, declared === undefined ? 'It has no XML declaration naming another encoding (ISO-8859-1?): convert it to UTF-8.' : 'Convert it to UTF-8.', { line }));
    }
  }
  const start = text.trimStart();
  if (/^<(!doctype\s+html|html[\s>])/i.test(start)) return fail(input('INPUT_HTML', 'this is an HTML page, not an XML document', 'Probably an error page from a server or proxy instead of the document: check the download.'));
  if (!start.startsWith('<')) return fail(input('INPUT_NOT_XML', 'the file does not start with markup: it is not XML', 'Check that this is the CDA document (JSON, base64 or plain text are not accepted).'));
  if (DOCTYPE.test(text)) return fail(input('INPUT_DOCTYPE', 'the document has a DOCTYPE, which is refused', 'CDA documents need no DTD; remove the DOCTYPE (entity declarations are a known attack vector).'));
  if (text.includes('http://www.w3.org/2001/XInclude')) return fail(input('INPUT_XINCLUDE', 'the document uses XInclude, which is refused', 'A CDA document must be self-contained.'));
  let document: Document;
  try {
    document = parseXml(text, name);
  } catch (error) {
    if (!(error instanceof XmlParseError)) throw error;
    const truncated = /unclosed tag|unexpected end/i.test(error.message);
    const position = { ...(error.line === undefined ? {} : { line: error.line }), ...(error.column === undefined ? {} : { column: error.column }) };
    return fail(truncated
      ? input('INPUT_TRUNCATED', `the document ends before its elements are closed (${error.message.replace(/^.*?: (?=[a-z])/, '')})`, 'The file looks truncated: check the transfer or the disk.', position)
      : input('INPUT_NOT_WELL_FORMED', `the document is not well-formed XML: ${error.message.replace(/^[^:]*:\d+:\d+: /, '')}`, 'Fix the markup at the position given.', position), issues);
  }
  const root = document.documentElement;
  if (root?.namespaceURI === XMLDSIG_NS && root.localName === 'Signature') {
    // A signed CDA (DC-GEN): validation applies to the ClinicalDocument that ds:Signature envelops.
    const enveloped = root.childNodes.filter(isElement).filter((o) => o.namespaceURI === XMLDSIG_NS && o.localName === 'Object').flatMap((o) => o.childNodes.filter(isElement)).find((e) => e.namespaceURI === HL7_NS && e.localName === 'ClinicalDocument');
    if (enveloped === undefined) return fail(input('INPUT_SIGNED_WITHOUT_CDA', 'the document is an XML signature whose ds:Object holds no ClinicalDocument', 'A signed CDA is a ds:Signature enveloping the ClinicalDocument in ds:Object.'), issues);
    const clinical = document.implementation.createDocument(null, '');
    clinical.appendChild(enveloped); // moved, not copied: its elements keep their recorded positions
    issues.push({ source: 'input', severity: 'info', rule: 'INPUT_SIGNED', message: 'signed document: the enveloped ClinicalDocument is validated (the signature itself is not verified here)' });
    return { ok: true, document: clinical, text, bytes, issues };
  }
  return { ok: true, document, text, bytes, issues };

  function fail(issue: ValidationIssue, earlier: readonly ValidationIssue[] = []): ReadResult {
    return { ok: false, issues: [...earlier, issue] };
  }
}
