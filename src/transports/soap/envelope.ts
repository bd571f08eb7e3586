/**
 * SOAP 1.2 envelopes as the DMP exchanges them (french-specs §3.4): WS-Addressing 1.0 headers,
 * and WS-Security carrying the signed VIHF (§3.5).
 *
 * Writing: xmlbuilder2 builds the envelope and its headers, with markers where the body and the
 * assertion go; both are then spliced in as the exact strings given. The assertion is signed, and
 * re-serializing it (another namespace placement, attribute order, white space) could break its
 * signature; the body comes from the XDS serializers, whole.
 *
 * Reading is tolerant: any prefix, SOAP 1.1 recognised (faultcode/faultstring), unknown headers
 * ignored. It refuses a DOCTYPE, expands no entity, and bounds the input.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { create } from 'xmlbuilder2';
import { malformedMessage, messageTooLarge } from './transport-error.js';
import { decodeXmlText, localNameOf, prefixOf, readStartTag } from './xml-text.js';

/** SOAP 1.2 Part 1 §5. */
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
/** SOAP 1.1 §4: recognised on reading, to report it, never written. */
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** WS-Addressing 1.0 Core. */
export const WSA_NS = 'http://www.w3.org/2005/08/addressing';
/** WS-Addressing 1.0 Core §2.1: reply on the same HTTP exchange. */
export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
/** WS-Addressing 1.0 SOAP Binding §6: the Action of a fault. */
export const WSA_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';
/** WS-Security 1.0 (OASIS 200401) secext. */
export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
/** Namespace of the subcodes Passerelle writes in faults (the sandbox); subcodes are read by local name. */
export const PASSERELLE_FAULT_NS = 'urn:passerelle:soap-fault';

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
/** Largest envelope read: an ITI-41 without XOP carries its documents inline, in base64. */
export const MAX_ENVELOPE_CHARS = 64 * 1024 * 1024;

const XML_DECLARATION = /^\uFEFF?\s*<\?xml\s[^?]*\?>\s*/;
const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A fresh WS-Addressing MessageID. */
/** xmlbuilder2 leaves an `&` that looks like an entity reference as written: escaped here, every `&` is kept as text. */
const literal = (value: string): string => value.replaceAll('&', '&amp;');

export const newMessageId = (): string => `urn:uuid:${randomUUID()}`;

export interface EnvelopeOptions {
  readonly action: string;
  /** wsa:To: the endpoint's URL. Left out of a reply, whose destination is the anonymous requester. */
  readonly to?: string;
  /** `urn:uuid:…` (newMessageId). */
  readonly messageId: string;
  /** A reply: the request's MessageID. A request gets ReplyTo anonymous instead. */
  readonly relatesTo?: string;
  /** The signed VIHF `<saml2:Assertion>`, inserted as it is (an XML declaration before it is dropped). */
  readonly security?: string;
  /** The one element of the Body, inserted as it is (an XML declaration before it is dropped). */
  readonly bodyXml: string;
}

export function soapEnvelope(o: EnvelopeOptions): string {
  if (!UUID_URN.test(o.messageId)) throw new Error(`the MessageID ${o.messageId} is not urn:uuid:<UUID>`);
  const marker = (what: string): string => `PASSERELLE-${what}-${randomBytes(12).toString('hex')}`;
  const bodyMarker = marker('BODY');
  const securityMarker = marker('SECURITY');

  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const envelope = doc.ele(SOAP12_NS, 'soap:Envelope').att(XMLNS_NS, 'xmlns:wsa', WSA_NS);
  const header = envelope.ele(SOAP12_NS, 'soap:Header');
  // WS-Addressing 1.0 SOAP Binding §3: Action and To are processed, so they must be understood.
  header.ele(WSA_NS, 'wsa:Action').att(SOAP12_NS, 'soap:mustUnderstand', 'true').txt(literal(o.action));
  header.ele(WSA_NS, 'wsa:MessageID').txt(literal(o.messageId));
  if (o.relatesTo === undefined) header.ele(WSA_NS, 'wsa:ReplyTo').ele(WSA_NS, 'wsa:Address').txt(WSA_ANONYMOUS);
  else header.ele(WSA_NS, 'wsa:RelatesTo').txt(literal(o.relatesTo));
  if (o.to !== undefined) header.ele(WSA_NS, 'wsa:To').att(SOAP12_NS, 'soap:mustUnderstand', 'true').txt(literal(o.to));
  if (o.security !== undefined) {
    header.ele(WSSE_NS, 'wsse:Security').att(SOAP12_NS, 'soap:mustUnderstand', 'true').txt(securityMarker);
  }
  envelope.ele(SOAP12_NS, 'soap:Body').txt(bodyMarker);
  const text = doc.end({ prettyPrint: false });
  // Function replacers: a `$&` or `$'` in the inserted XML must stay literal.
  const withBody = text.replace(bodyMarker, () => o.bodyXml.replace(XML_DECLARATION, ''));
  return o.security === undefined ? withBody : withBody.replace(securityMarker, () => (o.security ?? '').replace(XML_DECLARATION, ''));
}

export type SoapVersion = '1.1' | '1.2';

export interface SoapFault {
  /** Local name of the code: Sender, Receiver, MustUnderstand, VersionMismatch, DataEncodingUnknown (SOAP 1.1: Client, Server…). */
  readonly code: string;
  /** Local names of the Subcode chain, outermost first (none in SOAP 1.1). */
  readonly subcodes: readonly string[];
  /** The first Reason/Text (SOAP 1.1: faultstring). */
  readonly reason: string;
  /** The Detail's text, or its content as XML when it holds elements. */
  readonly detail?: string;
}

export interface ParsedEnvelope {
  readonly version: SoapVersion;
  readonly action?: string;
  readonly messageId?: string;
  readonly relatesTo?: string;
  /**
   * The wsse:Security header's Assertion, exactly as it is in the envelope, so that its signature
   * can be verified. Namespace declarations it relies on from the envelope, when it uses their
   * prefixes without declaring them, are added to its start tag (exclusive C14N renders them there
   * anyway), so that it stands alone.
   */
  readonly securityXml?: string;
  readonly fault?: SoapFault;
  readonly xml: string;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Entities are decoded by decodeXmlText, predefined and numeric ones only.
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  captureMetaData: true,
});
const META = XMLParser.getMetaDataSymbol();

interface Span { readonly start: number; readonly end?: number }
const spanOf = (node: unknown): Span | undefined => {
  const meta = (node as Record<symbol, { startIndex?: number; endIndex?: number } | undefined> | null)?.[META as symbol];
  return meta?.startIndex === undefined ? undefined : { start: meta.startIndex, ...(meta.endIndex === undefined ? {} : { end: meta.endIndex }) };
};
const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);
const child = (node: unknown, name: string): unknown => (typeof node === 'object' && node !== null ? first((node as Node)[name]) : undefined);
const text = (node: unknown): string | undefined => {
  if (typeof node === 'string') return decodeXmlText(node);
  const inner = typeof node === 'object' && node !== null ? (node as Node)['#text'] : undefined;
  return typeof inner === 'string' ? decodeXmlText(inner) : node === undefined ? undefined : '';
};
const hasElements = (node: unknown): boolean => typeof node === 'object' && node !== null && Object.keys(node).some((k) => k !== '#text' && !k.startsWith('@_'));

export function parseSoapEnvelope(input: string, maxChars = MAX_ENVELOPE_CHARS): ParsedEnvelope {
  if (input.length > maxChars) throw messageTooLarge(`the SOAP envelope is over ${String(maxChars)} characters`);
  // No SOAP message may carry a DTD (SOAP 1.2 Part 1 §5); refusing it rules out entity expansion.
  if (/<!DOCTYPE/i.test(input)) throw malformedMessage('the SOAP message has a DOCTYPE, which SOAP forbids');
  const xml = input.replace(/^\uFEFF/, '');
  let parsed: Node;
  try {
    parsed = parser.parse(xml) as Node;
  } catch (error) {
    throw malformedMessage(`the SOAP message is not well-formed XML: ${(error as Error).message}`, error);
  }
  const roots = Object.keys(parsed).filter((k) => k !== '?xml' && k !== '#comment' && !k.startsWith('?'));
  const envelopeNode = parsed.Envelope;
  if (roots.length !== 1 || envelopeNode === undefined || Array.isArray(envelopeNode)) {
    throw malformedMessage(`the message's root is ${roots.join(', ') || 'missing'}, not one SOAP Envelope`);
  }
  const envelopeSpan = spanOf(envelopeNode);
  if (envelopeSpan === undefined) throw malformedMessage('the SOAP Envelope cannot be located in the message');
  // The parser closes what the input leaves open: a missing end tag is a truncated message.
  if (envelopeSpan.end === undefined || !/^\s*(?:<!--[\s\S]*?-->\s*|<\?[\s\S]*?\?>\s*)*$/.test(xml.slice(envelopeSpan.end))) {
    throw malformedMessage('the SOAP Envelope is not closed: the message is truncated or not well-formed');
  }
  const envelopeTag = readStartTag(xml, envelopeSpan.start);
  const namespace = envelopeTag.namespaces.get(prefixOf(envelopeTag.name));
  const version: SoapVersion | undefined = namespace === SOAP12_NS ? '1.2' : namespace === SOAP11_NS ? '1.1' : undefined;
  if (version === undefined) throw malformedMessage(`the Envelope's namespace is ${namespace ?? 'none'}, neither SOAP 1.2 (${SOAP12_NS}) nor SOAP 1.1`);

  const header = child(envelopeNode, 'Header');
  const body = child(envelopeNode, 'Body');
  if (body === undefined) throw malformedMessage('the SOAP Envelope has no Body');
  const action = text(child(header, 'Action'))?.trim();
  const messageId = text(child(header, 'MessageID'))?.trim();
  const relatesTo = text(child(header, 'RelatesTo'))?.trim();
  const securityXml = assertionText(xml, [envelopeNode, header, child(header, 'Security')], child(child(header, 'Security'), 'Assertion'));
  const faultNode = child(body, 'Fault');
  const fault = faultNode === undefined ? undefined : version === '1.2' ? fault12(xml, faultNode) : fault11(xml, faultNode);
  return {
    version,
    ...(action === undefined ? {} : { action }),
    ...(messageId === undefined ? {} : { messageId }),
    ...(relatesTo === undefined ? {} : { relatesTo }),
    ...(securityXml === undefined ? {} : { securityXml }),
    ...(fault === undefined ? {} : { fault }),
    xml,
  };
}

function assertionText(xml: string, ancestors: readonly unknown[], assertion: unknown): string | undefined {
  const span = spanOf(assertion);
  if (span?.end === undefined) return undefined;
  const exact = xml.slice(span.start, span.end);
  // Namespaces declared above the assertion, innermost last so that it wins.
  const inScope = new Map<string, string>();
  for (const node of ancestors) {
    const at = spanOf(node);
    if (at !== undefined) for (const [prefix, uri] of readStartTag(xml, at.start).namespaces) inScope.set(prefix, uri);
  }
  const declared = new Set([...exact.matchAll(/\sxmlns(?::([^\s=]+))?\s*=/g)].map((m) => m[1] ?? ''));
  const used = new Set([...exact.matchAll(/<([^\s/>!?:]+):|\s([^\s=/>:]+):[^\s=/>]+\s*=/g)].map((m) => m[1] ?? m[2] ?? ''));
  if (!prefixOf(readStartTag(exact, 0).name)) used.add('');
  const missing = [...used].filter((p) => p !== 'xml' && p !== 'xmlns' && !declared.has(p) && inScope.has(p));
  if (missing.length === 0) return exact;
  const tag = readStartTag(exact, 0);
  const declarations = missing.map((p) => ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${(inScope.get(p) ?? '').replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`).join('');
  return `<${tag.name}${declarations}${exact.slice(tag.name.length + 1)}`;
}

function innerXml(xml: string, node: unknown): string | undefined {
  if (!hasElements(node)) return text(node)?.trim() || undefined;
  const span = spanOf(node);
  if (span?.end === undefined) return undefined;
  const open = readStartTag(xml, span.start).end;
  const close = xml.lastIndexOf('</', span.end - 1);
  return xml.slice(open, close).trim() || undefined;
}

function fault12(xml: string, node: unknown): SoapFault {
  const subcodes: string[] = [];
  for (let sub = child(child(node, 'Code'), 'Subcode'); sub !== undefined; sub = child(sub, 'Subcode')) {
    subcodes.push(localNameOf(text(child(sub, 'Value'))?.trim() ?? ''));
  }
  const detail = innerXml(xml, child(node, 'Detail'));
  return {
    code: localNameOf(text(child(child(node, 'Code'), 'Value'))?.trim() ?? ''),
    subcodes,
    reason: text(child(child(node, 'Reason'), 'Text'))?.trim() ?? '',
    ...(detail === undefined ? {} : { detail }),
  };
}

function fault11(xml: string, node: unknown): SoapFault {
  const detail = innerXml(xml, child(node, 'detail'));
  return {
    code: localNameOf(text(child(node, 'faultcode'))?.trim() ?? ''),
    subcodes: [],
    reason: text(child(node, 'faultstring'))?.trim() ?? '',
    ...(detail === undefined ? {} : { detail }),
  };
}

/** SOAP 1.2 Part 1 §5.4.6: the codes a Fault's Code/Value may hold. */
export type SoapFaultCode = 'VersionMismatch' | 'MustUnderstand' | 'DataEncodingUnknown' | 'Sender' | 'Receiver';

/** A SOAP 1.2 fault envelope (the sandbox's answers); subcodes are written in PASSERELLE_FAULT_NS, detail as text. */
export function soapFaultXml(fault: SoapFault & { readonly code: SoapFaultCode }, relatesTo?: string): string {
  const doc = create();
  const faultElement = doc.ele(SOAP12_NS, 'soap:Fault');
  let code = faultElement.ele(SOAP12_NS, 'soap:Code');
  code.ele(SOAP12_NS, 'soap:Value').txt(`soap:${fault.code}`);
  for (const subcode of fault.subcodes) {
    code = code.ele(SOAP12_NS, 'soap:Subcode');
    code.ele(SOAP12_NS, 'soap:Value').att(XMLNS_NS, 'xmlns:pf', PASSERELLE_FAULT_NS).txt(`pf:${subcode}`);
  }
  faultElement.ele(SOAP12_NS, 'soap:Reason').ele(SOAP12_NS, 'soap:Text').att(XML_NS, 'xml:lang', 'en').txt(literal(fault.reason));
  if (fault.detail !== undefined) faultElement.ele(SOAP12_NS, 'soap:Detail').txt(literal(fault.detail));
  return soapEnvelope({
    action: WSA_FAULT_ACTION,
    messageId: newMessageId(),
    ...(relatesTo === undefined ? {} : { relatesTo }),
    bodyXml: doc.end({ headless: true }),
  });
}
