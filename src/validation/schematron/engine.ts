/**
 * Runs a loaded Schematron schema on a document, with fontoxpath as the XPath 3.1 engine (the kit
 * is written for XPath 2.0, which XPath 3.1 contains). Semantics of the ISO skeleton: in each
 * pattern, a node is claimed by the first rule whose context matches it; lets are evaluated in
 * order (schema and pattern lets against the document, rule lets against the node); an assert
 * whose test is false, or a report whose test is true, gives a finding with its message evaluated.
 */
import { readFileSync } from 'node:fs';
import fontoxpath from 'fontoxpath';
import type { Document, Node } from 'slimdom';
import { parseTrustedXml, positionOf } from '../xml-parse.js';
import type { Check, MessagePart, Pattern, Rule, Schema, Variable } from './model.js';

const { evaluateXPath, evaluateXPathToBoolean, evaluateXPathToNodes, evaluateXPathToString, createTypedValueFactory, registerCustomXPathFunction, registerXQueryModule } = fontoxpath;

export interface SchematronFinding {
  /** `error`: the rule could not be evaluated (an XPath error), reported instead of stopping. */
  readonly kind: 'assert' | 'report' | 'error';
  /** The assert's id, else the rule's id, else the pattern's id. */
  readonly id?: string;
  readonly role?: string;
  readonly message: string;
  readonly test: string;
  readonly context: string;
  /** XPath of the node the rule fired on, e.g. `/ClinicalDocument[1]/recordTarget[1]`. */
  readonly location: string;
  readonly line?: number;
  readonly column?: number;
}

export interface SchematronResult {
  readonly findings: readonly SchematronFinding[];
  /** Number of (rule, node) pairs fired, like SVRL's fired-rule elements. */
  readonly firedRules: number;
}

const FN_NS = 'http://www.w3.org/2005/xpath-functions';
const ENGINE_NS = 'urn:passerelle:schematron';
const STANDARD_PREFIXES: Readonly<Record<string, string>> = {
  fn: FN_NS,
  xs: 'http://www.w3.org/2001/XMLSchema',
  xml: 'http://www.w3.org/XML/1998/namespace',
  math: 'http://www.w3.org/2005/xpath-functions/math',
  map: 'http://www.w3.org/2005/xpath-functions/map',
  array: 'http://www.w3.org/2005/xpath-functions/array',
};

type Variables = Record<string, unknown>;
const sequence = createTypedValueFactory('item()*');

/** `doc()` and XSLT's `document()`, resolved relative to the schema by the running engine. */
interface DocumentResolver { resolve(href: string): Document | null }

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
function registerFunctions(): void {
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

export class SchematronEngine {
  private readonly documents = new Map<string, Document | null>();
  private readonly options: object;

  constructor(readonly schema: Schema) {
    registerFunctions();
    const namespaces = schema.namespaces;
    const resolver: DocumentResolver = { resolve: (href) => this.document(href) };
    this.options = {
      namespaceResolver: (prefix: string) => namespaces.get(prefix) ?? STANDARD_PREFIXES[prefix] ?? null,
      functionNameResolver: ({ prefix, localName }: { prefix: string; localName: string }, arity: number) => {
        if (prefix === '' && (PROVIDED_FUNCTIONS.has(localName) || (localName === 'matches' && arity === 3))) return { namespaceURI: ENGINE_NS, localName };
        return { namespaceURI: prefix === '' ? FN_NS : (namespaces.get(prefix) ?? STANDARD_PREFIXES[prefix] ?? null), localName };
      },
      currentContext: resolver,
      moduleImports: { passerelle: ENGINE_NS },
      language: evaluateXPath.XPATH_3_1_LANGUAGE,
    };
  }

  validate(document: Document): SchematronResult {
    const findings: SchematronFinding[] = [];
    let firedRules = 0;
    // Pattern lets are global variables in the ISO skeleton's XSLT: every pattern sees them.
    const variables = this.bind([...this.schema.lets, ...this.schema.patterns.flatMap((p) => p.lets)], document, {});
    const index = new ElementIndex(document);
    for (const pattern of this.schema.patterns) {
      const claimed = new Set<Node>();
      for (const rule of pattern.rules) {
        // Most rules of a large schematron target elements this document does not have.
        const targets = targetNamesOf(rule.context);
        if (targets !== undefined && !targets.some((name) => index.has(name))) continue;
        let nodes: Node[];
        try {
          nodes = this.matches(rule, document, variables, index);
        } catch (error) {
          findings.push(evaluationError(rule, rule.context, document, error));
          continue;
        }
        for (const node of nodes) {
          if (claimed.has(node)) continue;
          claimed.add(node);
          firedRules++;
          findings.push(...this.fire(pattern, rule, node, variables));
        }
      }
    }
    return { findings, firedRules };
  }

  /** Nodes matching an XSLT pattern = the nodes its path selects from some ancestor-or-self. */
  private matches(rule: Rule, document: Document, variables: Variables, index: ElementIndex): Node[] {
    const { selector, indexed } = selectorOf(rule.context);
    const bound: Variables = { ...variables };
    for (const name of indexed) bound[indexVariable(name)] = index.sequence(name);
    return evaluateXPathToNodes<Node>(selector, document, null, bound, this.options);
  }

  private fire(pattern: Pattern, rule: Rule, node: Node, inherited: Variables): SchematronFinding[] {
    let variables: Variables;
    try {
      variables = this.bind(rule.lets, node, inherited);
    } catch (error) {
      return [evaluationError(rule, rule.lets.map((l) => l.value).join(' ; '), node, error)];
    }
    const out: SchematronFinding[] = [];
    for (const check of rule.checks) {
      try {
        const outcome = evaluateXPathToBoolean(check.test, node, null, variables, this.options);
        if (outcome === (check.kind === 'report')) out.push(this.finding(pattern, rule, check, node, variables));
      } catch (error) {
        out.push(evaluationError(rule, check.test, node, error));
      }
    }
    return out;
  }

  private finding(pattern: Pattern, rule: Rule, check: Check, node: Node, variables: Variables): SchematronFinding {
    const position = positionOf(node);
    const id = check.id ?? rule.id ?? pattern.id;
    return {
      kind: check.kind,
      ...(id === undefined ? {} : { id }),
      ...(check.role === undefined ? {} : { role: check.role }),
      message: this.message(check.message, node, variables),
      test: check.test,
      context: rule.context,
      location: locationOf(node),
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
    };
  }

  private message(parts: readonly MessagePart[], node: Node, variables: Variables): string {
    const text = parts.map((part) => {
      switch (part.kind) {
        case 'text':
          return part.text;
        case 'value-of': {
          // xsl:value-of joins the items of a sequence with single spaces.
          const items = evaluateXPath(part.select, node, null, variables, evaluateXPath.ALL_RESULTS_TYPE, this.options) as unknown[];
          return items.map((item) => (typeof item === 'object' && item !== null ? evaluateXPathToString('string(.)', item as Node) : String(item))).join(' ');
        }
        case 'name':
          return evaluateXPathToString(part.path === null ? 'name(.)' : `name(${part.path})`, node, undefined, variables, this.options);
      }
    });
    return text.join('').replace(/\s+/g, ' ').trim();
  }

  private bind(lets: readonly Variable[], context: Node, inherited: Variables): Variables {
    if (lets.length === 0) return inherited;
    const variables: Variables = { ...inherited };
    for (const variable of lets) {
      const value = evaluateXPath(variable.value, context, null, variables, evaluateXPath.ALL_RESULTS_TYPE, this.options) as unknown[];
      variables[variable.name] = sequence(value, undefined as never);
    }
    return variables;
  }

  private document(href: string): Document | null {
    const url = new URL(href, this.schema.url);
    if (!this.documents.has(url.href)) {
      let document: Document | null = null;
      try {
        document = parseTrustedXml(readFileSync(url, 'utf8'), url.pathname);
      } catch {
        // XSLT's document() yields an empty sequence for a resource it cannot read.
      }
      this.documents.set(url.href, document);
    }
    return this.documents.get(url.href) ?? null;
  }
}

/** A rule, let or test that fontoxpath could not evaluate: a finding, so the other rules still run. */
function evaluationError(rule: Rule, expression: string, node: Node, error: unknown): SchematronFinding {
  const position = positionOf(node);
  return {
    kind: 'error',
    ...(rule.id === undefined ? {} : { id: rule.id }),
    message: `the schematron could not be evaluated here: ${(error as Error).message.split('\n')[0] ?? ''} (in: ${expression.slice(0, 200)})`,
    test: expression,
    context: rule.context,
    location: locationOf(node),
    ...(position === undefined ? {} : { line: position.line, column: position.column }),
  };
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

interface Selector {
  readonly selector: string;
  /** Local names ('*' for any) whose element lists the selector reads from variables. */
  readonly indexed: readonly string[];
}
const selectors = new Map<string, Selector>();

/**
 * The XPath selecting every node an XSLT match pattern matches: each branch of a union, absolute
 * as it is, relative prefixed by `//`. (Wrapping the whole pattern as `//(P)` is correct too, but
 * evaluates an absolute P once per node of the document.) A leading `//name[…]` step reads the
 * elements of that name from the document's index instead of scanning the whole tree, unless its
 * predicates depend on position.
 */
export function selectorOf(pattern: string): Selector {
  let selector = selectors.get(pattern);
  if (selector === undefined) {
    const indexed: string[] = [];
    const branches = splitUnion(pattern).map((branch) => {
      const relative = branch.startsWith('//') ? branch.slice(2) : branch.startsWith('/') ? null : branch;
      if (relative === null) return branch;
      const steps = splitSteps(relative);
      const first = /^(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*|\*)((?:\[.*\])?)$/s.exec((steps[0] ?? '').trim());
      if (first === null || (first[3] !== undefined && /position\(|last\(|\[\s*\d+\s*\]/.test(first[3]))) return `//${relative}`;
      const [, prefix, name = '*', predicates = ''] = first;
      indexed.push(name);
      const namespaceTest = prefix === undefined ? '' : name === '*' ? `[self::${prefix}:*]` : `[self::${prefix}:${name}]`;
      return [`$${indexVariable(name)}${namespaceTest}${predicates}`, ...steps.slice(1)].join('/');
    });
    selector = { selector: branches.join(' | '), indexed };
    selectors.set(pattern, selector);
  }
  return selector;
}

const indexVariable = (name: string): string => (name === '*' ? 'passerelle-all-elements' : `passerelle-elements-${name}`);

/** The document's elements by local name, in document order, built once per validation. */
class ElementIndex {
  private readonly byName = new Map<string, Node[]>();
  private readonly all: Node[] = [];
  private readonly sequences = new Map<string, unknown>();

  constructor(document: Document) {
    const walk = (node: Node): void => {
      for (let child = node.firstChild; child !== null; child = child.nextSibling) {
        if (child.nodeType !== 1) continue;
        const name = (child as Node & { localName: string }).localName;
        let list = this.byName.get(name);
        if (list === undefined) this.byName.set(name, (list = []));
        list.push(child);
        this.all.push(child);
        walk(child);
      }
    };
    walk(document);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  sequence(name: string): unknown {
    let value = this.sequences.get(name);
    if (value === undefined) {
      value = sequence(name === '*' ? this.all : (this.byName.get(name) ?? []), undefined as never);
      this.sequences.set(name, value);
    }
    return value;
  }
}

const targetNames = new Map<string, readonly string[] | undefined>();

/**
 * The local names of the elements a pattern can match (the name test of the last step of each
 * union branch), or undefined when a branch can match any name (`*`, `node()`, `/`…).
 */
export function targetNamesOf(pattern: string): readonly string[] | undefined {
  if (!targetNames.has(pattern)) {
    const names: string[] = [];
    let known = true;
    for (const branch of splitUnion(pattern)) {
      const lastStep = splitSteps(branch).pop() ?? '';
      const nameTest = /^(?:child::)?(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\s*(?:\[|$)/.exec(lastStep.trim());
      if (nameTest?.[1] === undefined) known = false;
      else names.push(nameTest[1]);
    }
    targetNames.set(pattern, known ? names : undefined);
  }
  return targetNames.get(pattern);
}


/** Splits on a separator outside brackets, parentheses and quotes: union branches, path steps. */
function splitTopLevel(text: string, separator: '|' | '/'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const splitUnion = (pattern: string): string[] => splitTopLevel(pattern, '|').map((branch) => branch.trim());
const splitSteps = (path: string): string[] => splitTopLevel(path, '/');

/** `/ClinicalDocument[1]/recordTarget[1]/…`: local names with their rank among same-named siblings. */
export function locationOf(node: Node): string {
  const steps: string[] = [];
  let current: Node | null = node;
  while (current !== null && current.nodeType !== 9) {
    if (current.nodeType === 1) {
      const element = current as Node & { localName: string };
      let rank = 1;
      for (let sibling = current.previousSibling; sibling !== null; sibling = sibling.previousSibling) {
        if (sibling.nodeType === 1 && (sibling as Node & { localName: string }).localName === element.localName) rank++;
      }
      steps.unshift(`${element.localName}[${rank}]`);
    } else if (current.nodeType === 2) {
      steps.unshift(`@${(current as Node & { localName: string }).localName}`);
    }
    current = current.nodeType === 2 ? ((current as unknown as { ownerElement: Node | null }).ownerElement) : current.parentNode;
  }
  return `/${steps.join('/')}`;
}
