/**
 * The XML side of signing: a strict, bounded parse into the DOM that xml-crypto's canonicalizers
 * work on, and the helpers the signature profiles share.
 *
 * Large text runs (the base64 PDF of a level-1 CDA is 90 % of the document) are parsed as short
 * stand-ins and put back into the canonical output. That is exact: a run of base64 characters and
 * line feeds, between a `>` and a `<`, is character data that canonicalization copies unchanged
 * (C14N 1.0 §2.3 escapes only `&`, `<`, `>` and CR), wherever it sits (text, comment, CDATA, PI).
 * It spares the DOM parser and the canonicalizer 270 KB of a 300 KB TLM-CR.
 */
import { randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { XMLDSIG_NS } from './algorithms.js';

export class SignatureError extends Error {
  override readonly name = 'SignatureError';
}

/** Largest XML document signed or verified: a CDA with a 10 MiB PDF is about 14 MB. */
export const MAX_SIGNED_XML_BYTES = 64 * 1024 * 1024;
const STAND_IN_MIN_LENGTH = 2048;
const GT = 0x3e;
const LT = 0x3c;

/** Base64 characters and the line feed (C14N copies them unchanged). */
const RUN_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n') RUN_BYTE[c.charCodeAt(0)] = 1;

export interface ParsedXml {
  /** The text that was parsed: the input with its long runs replaced by stand-ins. */
  readonly reduced: string;
  readonly document: Document;
  readonly root: Element;
  /** The original text of a piece of `reduced` (canonical output, or a slice of the input). */
  restore(piece: string): string;
  /** The original octets of a piece of `reduced`, fed to `sink` in order (no copy of the long runs). */
  restoreInto(piece: string, sink: (chunk: string) => void): void;
}

/**
 * The runs of at least STAND_IN_MIN_LENGTH base64 bytes between a `>` and a `<`, found on the
 * octets: a run is ASCII, so neither it nor the UTF-8 around it needs decoding as a whole, and
 * a run boundary (an ASCII `>` or `<`) never splits a character.
 */
function longRuns(bytes: Buffer): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  let at = bytes.indexOf(GT);
  while (at >= 0) {
    let end = at + 1;
    while (end < bytes.length && RUN_BYTE[bytes[end] ?? 0] === 1) end++;
    if (end - at - 1 >= STAND_IN_MIN_LENGTH && bytes[end] === LT) runs.push({ start: at + 1, end });
    at = bytes.indexOf(GT, end);
  }
  return runs;
}

export function parseSignedXml(input: string | Buffer): ParsedXml {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (bytes.length > MAX_SIGNED_XML_BYTES) throw new SignatureError(`the document is over ${String(MAX_SIGNED_XML_BYTES)} bytes`);
  let tag = `psl${randomBytes(6).toString('hex')}x`;
  while (bytes.includes(tag)) tag = `psl${randomBytes(6).toString('hex')}x`;
  const runs: string[] = [];
  const pieces: string[] = [];
  let from = 0;
  for (const run of longRuns(bytes)) {
    pieces.push(bytes.toString('utf8', from, run.start), `${tag}${String(runs.push(bytes.toString('latin1', run.start, run.end)) - 1)}${tag}`);
    from = run.end;
  }
  pieces.push(bytes.toString('utf8', from));
  const reduced = pieces.join('');
  // No document Passerelle signs needs a DTD; refusing it rules out entity expansion wholesale.
  // (A long run holds no `<`: looking in the reduced text is enough.)
  if (/<!DOCTYPE|<!ENTITY/i.test(reduced)) throw new SignatureError('the document has a DOCTYPE or an entity declaration, which are refused');
  const standIn = new RegExp(`${tag}(\\d+)${tag}`, 'g');
  const restore = runs.length === 0 ? (piece: string) => piece : (piece: string) => piece.replace(standIn, (_m, i: string) => runs[Number(i)] ?? '');
  const restoreInto = (piece: string, sink: (chunk: string) => void): void => {
    let last = 0;
    for (const match of piece.matchAll(standIn)) {
      sink(piece.slice(last, match.index));
      sink(runs[Number(match[1])] ?? '');
      last = match.index + match[0].length;
    }
    sink(piece.slice(last));
  };

  const problems: string[] = [];
  const parser = new DOMParser({
    locator: {},
    errorHandler: { warning: () => undefined, error: (m: string) => problems.push(m), fatalError: (m: string) => problems.push(m) },
  });
  const document = parser.parseFromString(reduced, 'application/xml');
  // xmldom's types say documentElement is never null; it is, when there is no root element.
  const root = document.documentElement as Element | null;
  if (problems.length > 0 || root === null) throw new SignatureError(`the document is not well-formed XML: ${restore(problems[0] ?? 'no root element')}`);
  return { reduced, document, root, restore, restoreInto };
}

export function elementChildren(node: Node): Element[] {
  const out: Element[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) if (child.nodeType === 1) out.push(child as Element);
  return out;
}

export const isDsig = (node: Element, localName: string): boolean => node.namespaceURI === XMLDSIG_NS && node.localName === localName;

/** Every element of the subtree, the root first, in document order. */
export function* descendants(root: Element): Generator<Element> {
  yield root;
  for (const child of elementChildren(root)) yield* descendants(child);
}

/**
 * Elements by identifier. `Id` and `ID` are the identifiers of XMLDSig, XAdES and SAML; a value
 * carried twice is refused, since a reference to it could then mean either element (signature
 * wrapping).
 */
export function identifiedElements(root: Element): Map<string, Element> {
  const ids = new Map<string, Element>();
  for (const element of descendants(root)) {
    for (const name of ['Id', 'ID']) {
      const value = element.getAttributeNode(name)?.value;
      if (value === undefined) continue;
      if (ids.has(value)) throw new SignatureError(`the identifier "${value}" is carried by two elements (signature wrapping?)`);
      ids.set(value, element);
    }
  }
  return ids;
}

/** The content of an element holding only text (a digest, a signature value): no comment, no child element. */
export function textOnly(element: Element, what: string): string {
  let text = '';
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType !== 3) throw new SignatureError(`${what} holds something other than text (a comment or an element)`);
    text += child.nodeValue ?? '';
  }
  return text;
}

/** Strict base64 (RFC 4648 §4), white space allowed between characters as XMLDSig's base64Binary does. */
export function strictBase64(element: Element, what: string): Buffer {
  const compact = textOnly(element, what).replace(/[ \t\r\n]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new SignatureError(`${what} is not base64`);
  return Buffer.from(compact, 'base64');
}

/** Escapes text for element content or a double-quoted attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Offset in `text` of a node's start, from the line and column the parser's locator recorded. */
export function offsetOf(text: string, node: Node): number | undefined {
  const { lineNumber, columnNumber } = node as unknown as { lineNumber?: number; columnNumber?: number };
  if (lineNumber === undefined || columnNumber === undefined) return undefined;
  let offset = 0;
  for (let line = 1; line < lineNumber; line += 1) {
    offset = text.indexOf('\n', offset) + 1;
    if (offset === 0) return undefined;
  }
  return offset + columnNumber - 1;
}
