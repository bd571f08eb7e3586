/**
 * Loads an ISO Schematron schema as published (the ANS kit's `.sch` files): `include` (of a whole
 * element, anywhere), abstract rules and `extends`, abstract patterns instantiated by `is-a` with
 * `param` substitution, phases (the default phase, or the one asked for), `let` at schema, pattern
 * and rule level, `ns` declarations. Files are read once per loader.
 */
import { readFileSync } from 'node:fs';
// Types only: the nodes come from slimdom-sax-parser's own copy of slimdom.
import type { Element, Node } from 'slimdom';
import { isElement, parseXml } from '../xml-parse.js';
import type { Check, MessagePart, Pattern, Rule, Schema, Variable } from './model.js';

export const SCHEMATRON_NS = 'http://purl.oclc.org/dsdl/schematron';

export class SchematronLoadError extends Error {
  override readonly name = 'SchematronLoadError';
}

interface RawRule { readonly element: Element; readonly params: ReadonlyMap<string, string> }

export function loadSchematron(url: URL, options: { phase?: string } = {}): Schema {
  return new Loader().load(url, options.phase);
}

const isSch = (node: Node, localName?: string): node is Element =>
  isElement(node) && node.namespaceURI === SCHEMATRON_NS && (localName === undefined || node.localName === localName);

const children = (element: Element, localName?: string): Element[] => element.childNodes.filter((n): n is Element => isSch(n, localName));

class Loader {
  private readonly files = new Map<string, Element>();
  private readonly abstractRules = new Map<string, RawRule>();
  private readonly abstractPatterns = new Map<string, Element>();

  load(url: URL, requestedPhase: string | undefined): Schema {
    const root = this.expand(this.read(url), url);
    if (!isSch(root, 'schema')) throw new SchematronLoadError(`${url.pathname} is not an ISO Schematron schema`);
    const namespaces = new Map<string, string>();
    for (const ns of children(root, 'ns')) namespaces.set(ns.getAttribute('prefix') ?? '', ns.getAttribute('uri') ?? '');

    const patterns = children(root, 'pattern');
    // Abstract rules may sit in any pattern (the kit gathers them in an anonymous one).
    for (const pattern of patterns) {
      for (const rule of children(pattern, 'rule')) {
        if (rule.getAttribute('abstract') === 'true') {
          const id = rule.getAttribute('id');
          if (id === null) throw new SchematronLoadError(`an abstract rule without id in ${url.pathname}`);
          this.abstractRules.set(id, { element: rule, params: new Map() });
        }
      }
      if (pattern.getAttribute('abstract') === 'true') {
        const id = pattern.getAttribute('id');
        if (id !== null) this.abstractPatterns.set(id, pattern);
      }
    }

    const phase = requestedPhase ?? root.getAttribute('defaultPhase') ?? '#ALL';
    const active = phase === '#ALL' ? undefined : this.activePatterns(root, phase, url);
    const loaded: Pattern[] = [];
    for (const pattern of patterns) {
      if (pattern.getAttribute('abstract') === 'true') continue;
      const id = pattern.getAttribute('id') ?? undefined;
      if (active !== undefined && (id === undefined || !active.has(id))) continue;
      const built = this.pattern(pattern);
      if (built.rules.length > 0 || built.lets.length > 0) loaded.push(built);
    }
    return { url, queryBinding: root.getAttribute('queryBinding') ?? 'xslt', namespaces, lets: children(root, 'let').map((l) => variable(l, new Map())), patterns: loaded, phase };
  }

  private activePatterns(root: Element, phase: string, url: URL): Set<string> {
    const element = children(root, 'phase').find((p) => p.getAttribute('id') === phase);
    if (element === undefined) throw new SchematronLoadError(`no phase "${phase}" in ${url.pathname}`);
    return new Set(children(element, 'active').map((a) => a.getAttribute('pattern') ?? ''));
  }

  private pattern(element: Element): Pattern {
    const isA = element.getAttribute('is-a');
    let source = element;
    const params = new Map<string, string>();
    if (isA !== null) {
      const abstract = this.abstractPatterns.get(isA);
      if (abstract === undefined) throw new SchematronLoadError(`pattern "${element.getAttribute('id') ?? ''}" is-a unknown abstract pattern "${isA}"`);
      for (const p of children(element, 'param')) params.set(p.getAttribute('name') ?? '', p.getAttribute('value') ?? '');
      source = abstract;
    }
    const id = element.getAttribute('id') ?? undefined;
    const title = children(source, 'title')[0]?.textContent ?? undefined;
    const rules: Rule[] = [];
    for (const rule of children(source, 'rule')) {
      if (rule.getAttribute('abstract') === 'true') continue;
      rules.push(this.rule({ element: rule, params }));
    }
    return { ...(id === undefined ? {} : { id }), ...(title === undefined ? {} : { title: title.trim() }), lets: children(source, 'let').map((l) => variable(l, params)), rules };
  }

  private rule(raw: RawRule): Rule {
    const lets: Variable[] = [];
    const checks: Check[] = [];
    this.collect(raw, lets, checks, new Set());
    const id = raw.element.getAttribute('id') ?? undefined;
    return { context: substitute(raw.element.getAttribute('context') ?? '', raw.params), ...(id === undefined ? {} : { id }), lets, checks };
  }

  /** A rule's lets and checks in document order, with those of the abstract rules it extends in place. */
  private collect(raw: RawRule, lets: Variable[], checks: Check[], seen: Set<string>): void {
    for (const child of children(raw.element)) {
      if (child.localName === 'let') lets.push(variable(child, raw.params));
      else if (child.localName === 'assert' || child.localName === 'report') checks.push(check(child, raw.params));
      else if (child.localName === 'extends') {
        const ref = child.getAttribute('rule') ?? '';
        const base = this.abstractRules.get(ref);
        if (base === undefined) throw new SchematronLoadError(`extends unknown abstract rule "${ref}"`);
        if (seen.has(ref)) throw new SchematronLoadError(`abstract rule "${ref}" extends itself`);
        // The parameters of the pattern being instantiated apply to the extended rule too.
        this.collect({ element: base.element, params: raw.params }, lets, checks, new Set([...seen, ref]));
      }
    }
  }

  private read(url: URL): Element {
    const cached = this.files.get(url.href);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch (error) {
      throw new SchematronLoadError(`cannot read ${url.pathname}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const root = parseXml(text, url.pathname).documentElement;
    if (root === null) throw new SchematronLoadError(`${url.pathname} is empty`);
    this.files.set(url.href, root);
    return root;
  }

  /** Replaces every `include` by the root element of the file it names, recursively. */
  private expand(element: Element, base: URL, depth = 0): Element {
    if (depth > 20) throw new SchematronLoadError(`includes nested more than 20 deep at ${base.pathname}`);
    for (const child of [...element.childNodes]) {
      if (!isSch(child)) continue;
      if (child.localName === 'include') {
        const target = new URL(child.getAttribute('href') ?? '', base);
        const copy = this.read(target).cloneNode(true);
        if (!isElement(copy)) throw new SchematronLoadError(`${target.pathname} has no root element`);
        const included = this.expand(copy, target, depth + 1);
        element.replaceChild(included, child);
      } else {
        this.expand(child, base, depth + 1);
      }
    }
    return element;
  }
}

function variable(element: Element, params: ReadonlyMap<string, string>): Variable {
  return { name: element.getAttribute('name') ?? '', value: substitute(element.getAttribute('value') ?? '.', params) };
}

function check(element: Element, params: ReadonlyMap<string, string>): Check {
  const id = element.getAttribute('id') ?? undefined;
  const role = element.getAttribute('role') ?? undefined;
  return {
    kind: element.localName === 'assert' ? 'assert' : 'report',
    test: substitute(element.getAttribute('test') ?? 'true()', params),
    ...(id === undefined ? {} : { id }),
    ...(role === undefined ? {} : { role }),
    message: messageParts(element, params),
  };
}

function messageParts(element: Element, params: ReadonlyMap<string, string>): MessagePart[] {
  const parts: MessagePart[] = [];
  for (const node of element.childNodes) {
    if (node.nodeType === 3 || node.nodeType === 4) parts.push({ kind: 'text', text: node.nodeValue ?? '' });
    else if (isSch(node, 'value-of')) parts.push({ kind: 'value-of', select: substitute(node.getAttribute('select') ?? '.', params) });
    else if (isSch(node, 'name')) {
      const path = node.getAttribute('path');
      parts.push({ kind: 'name', path: path === null ? null : substitute(path, params) });
    } else if (isElement(node)) parts.push(...messageParts(node, params)); // emph, dir, span: their text
  }
  return parts;
}

/** ISO Schematron parameter substitution: `$name` is replaced by the parameter's value, longest names first. */
function substitute(expression: string, params: ReadonlyMap<string, string>): string {
  if (params.size === 0 || !expression.includes('$')) return expression;
  const names = [...params.keys()].sort((a, b) => b.length - a.length);
  return expression.replace(/\$([A-Za-z_][\w.-]*)/g, (whole, name: string) => {
    const match = names.find((n) => name === n || (name.startsWith(n) && !/[\w.-]/.test(name.charAt(n.length))));
    return match === undefined ? whole : (params.get(match) ?? '') + name.slice(match.length);
  });
}
