/**
 * MTOM/XOP messages (W3C SOAP MTOM, XOP 1.0): a multipart/related body (RFC 2387, RFC 2046 §5.1)
 * whose root part is the SOAP envelope, with xop:Include elements pointing at the other parts by
 * `cid:` URL (RFC 2392). ITI-41 sends the CDA and the submission-set signature this way; ITI-43
 * answers with it.
 *
 * The reader works on bytes: binary parts are sliced from the body, never decoded as text. It is
 * tolerant of what real partners send (every capture in ../shared/ihe/mtom): LF-only line ends,
 * white space after a boundary, a preamble, no `start` parameter, Content-IDs without angle
 * brackets, a plain SOAP reply where multipart was expected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { formatMediaType, parseMediaType } from './media-type.js';
import { malformedMessage, messageTooLarge } from './transport-error.js';

export interface MimePart {
  /** Without angle brackets. */
  readonly contentId: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface ParsedMessage {
  /** The SOAP envelope, decoded from its charset. */
  readonly rootXml: string;
  /** The parts other than the root, by Content-ID without angle brackets. */
  readonly parts: ReadonlyMap<string, MimePart>;
}

export interface MessageLimits {
  /** Parts in one message, the root included. Default 100. */
  readonly maxParts?: number;
  /** Bytes of the whole body. Default 128 MiB. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_PARTS = 100;
const DEFAULT_MAX_BYTES = 128 * 1024 * 1024;
/** Headers of one part: a handful of lines in practice. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

const XOP_MEDIA_TYPE = 'application/xop+xml';
const SOAP12_MEDIA_TYPE = 'application/soap+xml';
/** Media types a reply that is not multipart may have and still be a SOAP envelope. */
const PLAIN_SOAP_TYPES = new Set([SOAP12_MEDIA_TYPE, 'text/xml', 'application/xml']);
/** Content-IDs Passerelle writes: characters that need no escaping in a `cid:` URL (RFC 2392, RFC 3986 unreserved). */
const WRITABLE_CONTENT_ID = /^[A-Za-z0-9._~+-]+@[A-Za-z0-9._~+-]+$/;

const CRLF = Buffer.from('\r\n');

/**
 * The multipart/related body and its Content-Type: the root part `application/xop+xml;
 * type="application/soap+xml"; action=…`, then each part, binary, CRLF line ends throughout.
 */
export function buildMtom(o: { rootXml: string; action: string; parts: readonly MimePart[] }): { contentType: string; body: Buffer } {
  const rootId = `root.${randomUUID()}@passerelle`;
  const ids = new Set([rootId]);
  for (const part of o.parts) {
    if (!WRITABLE_CONTENT_ID.test(part.contentId)) throw new Error(`the Content-ID ${part.contentId} is not of the form local@domain with URL-safe characters`);
    if (ids.has(part.contentId)) throw new Error(`two parts have the Content-ID ${part.contentId}`);
    if (/[\r\n]/.test(part.contentType)) throw new Error('a part content type holds a line break');
    ids.add(part.contentId);
  }
  const root = Buffer.from(o.rootXml, 'utf8');
  let boundary = `MIMEBoundary_${randomBytes(24).toString('hex')}`;
  // 192 random bits do not occur in a document by chance; checking costs one scan of each part.
  while ([root, ...o.parts.map((p) => p.content)].some((content) => content.includes(boundary))) boundary = `MIMEBoundary_${randomBytes(24).toString('hex')}`;

  const rootType = formatMediaType(XOP_MEDIA_TYPE, [['charset', 'UTF-8'], ['type', SOAP12_MEDIA_TYPE], ['action', o.action]]);
  const chunks: Buffer[] = [];
  const part = (contentType: string, contentId: string, content: Buffer): void => {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${contentId}>\r\n\r\n`, 'latin1'), content, CRLF);
  };
  part(rootType, rootId, root);
  for (const p of o.parts) part(p.contentType, p.contentId, p.content);
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  const contentType = formatMediaType('multipart/related', [
    ['type', XOP_MEDIA_TYPE],
    ['boundary', boundary],
    ['start', `<${rootId}>`],
    ['start-info', SOAP12_MEDIA_TYPE],
    ['action', o.action],
  ]);
  return { contentType, body: Buffer.concat(chunks) };
}

interface RawPart {
  readonly headers: ReadonlyMap<string, string>;
  readonly content: Buffer;
}

/**
 * A SOAP message as received: multipart/related (MTOM, or SwA) or a plain envelope. `contentType`
 * is the HTTP Content-Type; a plain reply (application/soap+xml, text/xml) is read as the root only.
 */
export function parseSoapMessage(contentType: string | undefined, body: Buffer, limits: MessageLimits = {}): ParsedMessage {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  if (body.length > maxBytes) throw messageTooLarge(`the message is ${String(body.length)} bytes, over the limit of ${String(maxBytes)}`);
  const type = parseMediaType(contentType ?? SOAP12_MEDIA_TYPE);
  if (type.essence !== 'multipart/related') {
    if (!PLAIN_SOAP_TYPES.has(type.essence)) throw malformedMessage(`the message is ${type.essence}, neither a SOAP envelope nor multipart/related`);
    return { rootXml: decodeRoot(body, type.parameters.get('charset')), parts: new Map() };
  }
  const boundary = type.parameters.get('boundary');
  if (boundary === undefined || boundary === '') throw malformedMessage('the multipart/related message has no boundary parameter');
  // RFC 2046 §5.1.1: 1 to 70 characters.
  if (boundary.length > 70) throw malformedMessage('the multipart boundary is longer than 70 characters');
  const raw = splitParts(body, boundary, limits.maxParts ?? DEFAULT_MAX_PARTS);
  const parts = new Map<string, MimePart>();
  let root: MimePart | undefined;
  const start = type.parameters.get('start');
  const startId = start === undefined ? undefined : bareContentId(start);
  for (const [index, rawPart] of raw.entries()) {
    const headerId = rawPart.headers.get('content-id');
    const contentId = headerId === undefined ? '' : bareContentId(headerId);
    const part: MimePart = {
      contentId,
      contentType: rawPart.headers.get('content-type') ?? 'text/plain',
      content: decodeTransfer(rawPart.content, rawPart.headers.get('content-transfer-encoding'), index),
    };
    const isRoot = startId === undefined ? index === 0 : contentId === startId;
    if (isRoot && root === undefined) {
      root = part;
      continue;
    }
    // A part without Content-ID cannot be referenced by a cid: URL; it is kept out of the map.
    if (contentId === '') continue;
    if (parts.has(contentId)) throw malformedMessage(`two parts have the Content-ID <${contentId}>`);
    parts.set(contentId, part);
  }
  if (root === undefined) throw malformedMessage(`the start parameter names <${startId ?? ''}>, which no part has`);
  return { rootXml: decodeRoot(root.content, parseMediaType(root.contentType).parameters.get('charset')), parts };
}

/**
 * The content an xop:Include's href points at: `cid:` then the Content-ID, URL-encoded
 * (RFC 2392 §2: `cid:foo%40bar` is the part `<foo@bar>`).
 */
export function resolveInclude(href: string, parts: ParsedMessage['parts']): Buffer {
  const match = /^cid:(.*)$/is.exec(href.trim());
  if (match === null) throw malformedMessage(`the xop:Include href ${href} is not a cid: URL`);
  const encoded = bareContentId(match[1] ?? '');
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch (error) {
    throw malformedMessage(`the xop:Include href ${href} has a broken percent-encoding`, error);
  }
  // A sender that did not encode a literal `%` is read as written.
  const part = parts.get(decoded) ?? parts.get(encoded);
  if (part === undefined) throw malformedMessage(`the xop:Include href ${href} names no part of the message`);
  return part.content;
}

const bareContentId = (value: string): string => value.trim().replace(/^<(.*)>$/s, '$1').trim();

function decodeRoot(content: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').toLowerCase();
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch (error) {
    throw malformedMessage(`the SOAP envelope's charset ${label} is unknown`, error);
  }
  try {
    // TextDecoder drops a leading BOM.
    return decoder.decode(content);
  } catch (error) {
    throw malformedMessage(`the SOAP envelope is not valid ${label}`, error);
  }
}

function decodeTransfer(content: Buffer, encoding: string | undefined, index: number): Buffer {
  switch ((encoding ?? 'binary').trim().toLowerCase()) {
    case 'binary':
    case '8bit':
    case '7bit':
      return content;
    case 'base64': {
      const text = content.toString('latin1').replace(/[\r\n\t ]/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw malformedMessage(`part ${String(index + 1)} is not valid base64`);
      return Buffer.from(text, 'base64');
    }
    case 'quoted-printable':
      return decodeQuotedPrintable(content);
    default:
      throw malformedMessage(`part ${String(index + 1)} has the Content-Transfer-Encoding ${encoding ?? ''}, which is not binary, 8bit, 7bit, base64 or quoted-printable`);
  }
}

/** RFC 2045 §6.7: `=XX` is a byte, `=` at the end of a line is a soft line break. */
function decodeQuotedPrintable(content: Buffer): Buffer {
  const out = Buffer.alloc(content.length);
  let length = 0;
  for (let i = 0; i < content.length; i += 1) {
    const byte = content[i] ?? 0;
    if (byte !== 0x3d) {
      out[length++] = byte;
      continue;
    }
    if (content[i + 1] === 0x0d && content[i + 2] === 0x0a) i += 2;
    else if (content[i + 1] === 0x0a) i += 1;
    else {
      const hex = content.toString('latin1', i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw malformedMessage('a quoted-printable part has a broken =XX escape');
      out[length++] = parseInt(hex, 16);
      i += 2;
    }
  }
  return out.subarray(0, length);
}

/**
 * The parts between the delimiters (RFC 2046 §5.1.1): a delimiter is `--boundary` at the start
 * of a line, followed by optional white space and the end of the line, or by `--` for the last.
 * The line break before a delimiter belongs to it, not to the part.
 */
function splitParts(body: Buffer, boundary: string, maxParts: number): RawPart[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: RawPart[] = [];
  let contentStart = -1;
  let from = 0;
  for (;;) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) break;
    from = at + delimiter.length;
    if (at > 0 && body[at - 1] !== 0x0a) continue;
    let after = at + delimiter.length;
    // The close delimiter `--boundary--` ends the message whatever follows it (the epilogue).
    const closing = body[after] === 0x2d && body[after + 1] === 0x2d;
    while (body[after] === 0x20 || body[after] === 0x09) after += 1;
    let lineEnd = after;
    if (body[after] === 0x0d && body[after + 1] === 0x0a) lineEnd = after + 2;
    else if (body[after] === 0x0a) lineEnd = after + 1;
    else if (!closing) continue; // `--boundary` followed by more text: part of the content, not a delimiter.

    if (contentStart >= 0) {
      let end = at;
      if (end > contentStart && body[end - 1] === 0x0a) end -= 1;
      if (end > contentStart && body[end - 1] === 0x0d) end -= 1;
      parts.push(readPart(body.subarray(contentStart, end), parts.length));
      if (parts.length > maxParts) throw messageTooLarge(`the message has more than ${String(maxParts)} parts`);
    }
    if (closing) {
      if (parts.length === 0) throw malformedMessage('the multipart message has no part');
      return parts;
    }
    contentStart = lineEnd;
  }
  if (contentStart < 0) throw malformedMessage('the multipart message has no delimiter line for its boundary');
  throw malformedMessage('the multipart message has no closing delimiter: it is truncated');
}

function readPart(raw: Buffer, index: number): RawPart {
  // Headers end at the first empty line; a part may start with it (no headers at all).
  let headerEnd: number;
  let contentStart: number;
  if (raw[0] === 0x0a) [headerEnd, contentStart] = [0, 1];
  else if (raw[0] === 0x0d && raw[1] === 0x0a) [headerEnd, contentStart] = [0, 2];
  else {
    const lf = raw.indexOf('\n\n');
    const crlf = raw.indexOf('\r\n\r\n');
    if (lf < 0 && crlf < 0) throw malformedMessage(`part ${String(index + 1)} has no empty line after its headers`);
    [headerEnd, contentStart] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, crlf + 4] : [lf, lf + 2];
  }
  if (headerEnd > MAX_PART_HEADER_BYTES) throw messageTooLarge(`part ${String(index + 1)} has over ${String(MAX_PART_HEADER_BYTES)} bytes of headers`);
  const headers = new Map<string, string>();
  // RFC 5322 §2.2.3: a line starting with white space continues the previous header.
  const unfolded = raw.toString('latin1', 0, headerEnd).replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, content: raw.subarray(contentStart) };
}
