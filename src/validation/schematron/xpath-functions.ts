/**
 * The XPath functions the kit's schematrons call that fontoxpath lacks or that need the engine:
 * `doc()` and XSLT's `document()` (resolved by the running engine), `matches()` with flags, and
 * `resolve-QName()`. Registered once per process: fontoxpath's registry is global.
 */
import fontoxpath from 'fontoxpath';
import type { Document } from 'slimdom';

const { createTypedValueFactory, registerCustomXPathFunction, registerXQueryModule } = fontoxpath;

const FN_NS = 'http://www.w3.org/2005/xpath-functions';
export const ENGINE_NS = 'urn:passerelle:schematron';
export const STANDARD_PREFIXES: Readonly<Record<string, string>> = {
  fn: FN_NS,
  xs: 'http://www.w3.org/2001/XMLSchema',
  xml: 'http://www.w3.org/XML/1998/namespace',
  math: 'http://www.w3.org/2005/xpath-functions/math',
  map: 'http://www.w3.org/2005/xpath-functions/map',
  array: 'http://www.w3.org/2005/xpath-functions/array',
};

/** A sequence of items, as fontoxpath takes it for a variable (a JS array would be one XPath array). */
export const itemSequence = createTypedValueFactory('item()*');

/** `doc()` and XSLT's `document()`, resolved relative to the schema by the running engine. */
export interface DocumentResolver { resolve(href: string): Document | null }

/** Functions the kit calls that fontoxpath does not provide, or that need the engine. */
const PROVIDED_FUNCTIONS = new Set(['doc', 'document', 'resolve-QName', 'namespace-uri-for-prefix']);

/** A node's string value (attribute value or text content) as document() takes it. */
function stringValueOf(item: unknown): string {
  const text = (item as { textContent?: unknown } | null)?.textContent;
  return typeof text === 'string' ? text : '';
}

// fontoxpath's function registry is global to the process, and this module may be loaded more
// than once (tests load sources and compiled files alike): the mark lives on the global object.
const REGISTERED = Symbol.for('passerelle.schematron.functions');
export function registerFunctions(): void {
  const marks = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (marks[REGISTERED] === true) return;
  marks[REGISTERED] = true;
  // fn:matches with flags (fontoxpath has only the two-argument form); the kit uses 'i'.
  registerCustomXPathFunction({ namespaceURI: ENGINE_NS, localName: 'matches' }, ['xs:string?', 'xs:string', 'xs:string'], 'xs:boolean', (_context, input: string | null, pattern: string, flags: string) =>
    xpathRegExp(pattern, flags).test(input ?? ''));
  registerCustomXPathFunction({ namespaceURI: ENGINE_NS, localName: 'namespace-uri-for-prefix' }, ['xs:string?', 'element()'], 'xs:string?', (_context, prefix: string | null, element: { lookupNamespaceURI(prefix: string | null): string | null }) =>
    element.lookupNamespaceURI(prefix === null || prefix === '' ? null : prefix));
  // fn:resolve-QName (XPath 2.0 §10.2.1), used by the kit to check xsi:type values.
  registerXQueryModule(`
    module namespace p = "${ENGINE_NS}";
    declare function p:resolve-QName($qname as xs:string?, $element as element()) as xs:QName? {
      if (empty($qname)) then () else
      let $lexical := normalize-space($qname)
      let $prefix := if (contains($lexical, ':')) then substring-before($lexical, ':') else ''
      let $uri := p:namespace-uri-for-prefix($prefix, $element)
      return QName(if (empty($uri)) then '' else $uri, $lexical)
    };`);
  const resolver = (context: { currentContext: unknown }): DocumentResolver => context.currentContext as DocumentResolver;
  registerCustomXPathFunction({ namespaceURI: ENGINE_NS, localName: 'doc' }, ['xs:string?'], 'document-node()?', (context, href: string | null) => (href === null ? null : resolver(context).resolve(href)));
  registerCustomXPathFunction({ namespaceURI: ENGINE_NS, localName: 'document' }, ['item()*'], 'document-node()*', (context, hrefs: unknown[]) =>
    hrefs.map((h) => resolver(context).resolve(typeof h === 'string' ? h : stringValueOf(h))).filter((d): d is Document => d !== null));
}

/** Where an unprefixed function name goes: ours for the functions above, else fn:. */
export function functionNamespace(prefix: string, localName: string, arity: number, namespaces: ReadonlyMap<string, string>): string | null {
  if (prefix === '' && (PROVIDED_FUNCTIONS.has(localName) || (localName === 'matches' && arity === 3))) return ENGINE_NS;
  return prefix === '' ? FN_NS : (namespaces.get(prefix) ?? STANDARD_PREFIXES[prefix] ?? null);
}

const regExps = new Map<string, RegExp>();

/**
 * An XPath regular expression with flags (F&O 3.1 §5.6) as a JavaScript RegExp: s, m, i map
 * directly; x drops white space; q quotes the whole pattern. XPath's \i and \c name-character
 * escapes are approximated by their ASCII subsets.
 */
function xpathRegExp(pattern: string, flags: string): RegExp {
  const key = `${flags}\u0000${pattern}`;
  let regExp = regExps.get(key);
  if (regExp === undefined) {
    let source = flags.includes('q') ? pattern.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&') : pattern;
    if (flags.includes('x') && !flags.includes('q')) source = source.replace(/\s+/g, '');
    source = source.replace(/\\i/g, '[A-Za-z_:]').replace(/\\c/g, '[-.0-9A-Za-z_:]');
    const jsFlags = ['s', 'm', 'i'].filter((f) => flags.includes(f)).join('');
    try {
      regExp = new RegExp(source, `u${jsFlags}`);
    } catch {
      regExp = new RegExp(source, jsFlags);
    }
    regExps.set(key, regExp);
  }
  return regExp;
}
