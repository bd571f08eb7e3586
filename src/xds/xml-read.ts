/**
 * The one way src/xds reads the XML partners send (ebRIM, ebRS, XDS.b): safe, tolerant of how a
 * partner spells its namespaces, and small enough for the readers to walk by local name.
 *
 * Safe: a DOCTYPE is refused before any parsing (no document of these transactions needs one, and
 * entity declarations are the classic attack), the input size is bounded, well-formedness is checked
 * first, and fast-xml-parser's entity handling is off: the five predefined entities and character
 * references are decoded here, in one pass, so that `&amp;lt;` stays `&lt;` and nothing else expands.
 *
 * Tolerant: prefixes are removed (`rim:Slot`, `Slot` under a default namespace and `ns4:Slot` read the
 * same), as Axis2, WCF and IPF partners each choose their own. Elements are matched by local name;
 * the XDS readers then check meaning, not spelling.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Malformed or incomplete XDS input: every problem found, each naming where (never patient data). */
export class XdsFormatError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: { cause?: unknown } = {}) {
    super(problems.join('; '), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XdsFormatError';
    this.problems = problems;
  }
}

/** An element read by local name: its attributes (local names too), child elements and own text. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own character data (text and CDATA), concatenated, untrimmed. */
  readonly text: string;
}

/**
 * Characters of XML accepted by default: a submission whose documents travel inline in base64
 * (no MTOM) is about 4/3 of their size; 64 Mi characters leaves room for a few large PDFs.
 */
export const DEFAULT_MAX_XML_CHARS = 64 * 1024 * 1024;

export interface ReadXmlOptions {
  /** Refuse longer input (characters); DEFAULT_MAX_XML_CHARS when absent. */
  readonly maxChars?: number;
}

const DOCTYPE = /<!DOCTYPE/i;

const parser = new XMLParser({
  preserveOrder: true, // one uniform shape for every element, whatever repeats: no isArray guesswork
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
});

type OrderedNode = Record<string, unknown>;

/** The document element of `xml`, or an XdsFormatError saying why it cannot be read. */
export function readXml(xml: string, options: ReadXmlOptions = {}): XmlElement {
  const maxChars = options.maxChars ?? DEFAULT_MAX_XML_CHARS;
  if (xml.length > maxChars) throw new XdsFormatError([`the XML is ${xml.length} characters long, over the limit of ${maxChars}`]);
  if (DOCTYPE.test(xml)) throw new XdsFormatError(['the XML has a DOCTYPE, which is refused (entity declarations are not accepted)']);
  // fast-xml-parser reads malformed XML leniently (a mismatched end tag passes), so well-formedness is
  // checked first. Its validator is deprecated in favour of the separate fast-xml-validator package,
  // which is not a dependency of this project; this one still ships with fast-xml-parser 5.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) throw new XdsFormatError([`the XML is not well-formed: ${wellFormed.err.msg} (line ${wellFormed.err.line}, column ${wellFormed.err.col})`]);
  let nodes: OrderedNode[];
  try {
    // XML 1.0 §2.11: CR LF and lone CR are read as LF, before anything else.
    nodes = parser.parse(xml.includes('\r') ? xml.replace(/\r\n?/g, '\n') : xml) as OrderedNode[];
  } catch (error) {
    throw new XdsFormatError([`the XML cannot be read: ${error instanceof Error ? error.message : String(error)}`], { cause: error });
  }
  const problems: string[] = [];
  const roots: XmlElement[] = [];
  for (const node of nodes) {
    const element = toElement(node, problems);
    if (element !== undefined) roots.push(element);
    else if (typeof node['#text'] === 'string' && node['#text'].trim() !== '') problems.push('the XML has text outside its document element');
  }
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) problems.push(`the XML has ${roots.length} document elements, expected one`);
  if (problems.length > 0 || root === undefined) throw new XdsFormatError(problems);
  return root;
}

/**
 * The element named one of `names`: the document element itself, a child of a SOAP
 * Envelope's Body, or a descendant through `via` (e.g. SubmitObjectsRequest inside a
 * ProvideAndRegisterDocumentSetRequest). Partners send either the bare message or the whole envelope.
 */
export function findMessage(root: XmlElement, names: readonly string[], via: readonly string[] = []): XmlElement {
  const candidates: XmlElement[] = [root];
  if (root.name === 'Envelope') candidates.push(...childrenNamed(root, 'Body').flatMap((body) => body.children));
  for (let i = 0; i < candidates.length; i += 1) {
    const candidate = candidates[i];
    if (candidate === undefined) continue;
    if (names.includes(candidate.name)) return candidate;
    if (via.includes(candidate.name)) candidates.push(...candidate.children);
  }
  throw new XdsFormatError([`no ${names.join(' or ')} element found (the document element is ${root.name})`]);
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function toElement(node: OrderedNode, problems: string[]): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@' && !k.startsWith('#'));
  if (name === undefined) return undefined;
  const content = node[name] as OrderedNode[];
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;
  // XML 1.0 §3.3.3: a literal tab or newline in an attribute value reads as a space (a character reference keeps it).
  const attributes = Object.fromEntries(Object.entries(rawAttributes).map(([k, v]) => [k, decodeReferences(v.replace(/[\t\n]/g, ' '), problems, `attribute ${k} of ${name}`)]));
  const children: XmlElement[] = [];
  let text = '';
  for (const child of content) {
    if (typeof child['#text'] === 'string') text += decodeReferences(child['#text'], problems, `text of ${name}`);
    else if (Array.isArray(child['#cdata'])) text += (child['#cdata'] as OrderedNode[]).map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join('');
    else {
      const element = toElement(child, problems);
      if (element !== undefined) children.push(element);
    }
  }
  return { name, attributes, children, text };
}

const PREDEFINED: ReadonlyMap<string, string> = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);
const REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g;

/** XML 1.0 §4.1 and §4.6: character references and the predefined entities; any other entity is undeclared. */
function decodeReferences(raw: string, problems: string[], where: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(REFERENCE, (whole, body: string) => {
    if (body.startsWith('#')) {
      const codePoint = body.startsWith('#x') ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (isXmlChar(codePoint)) return String.fromCodePoint(codePoint);
      problems.push(`${where}: the character reference ${whole} is not an XML character`);
      return '';
    }
    const predefined = PREDEFINED.get(body);
    if (predefined !== undefined) return predefined;
    problems.push(`${where}: the entity &${body}; is not declared`);
    return '';
  });
}

/** XML 1.0 §2.2 Char. */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}
