/**
 * XSLT match patterns as XPath selectors, and the per-document element index that lets the engine
 * skip rules for absent elements and start leading `//name` steps from a list instead of a scan.
 */
import type { Document, Node } from 'slimdom';
import { itemSequence } from './xpath-functions.js';

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

export const indexVariable = (name: string): string => (name === '*' ? 'passerelle-all-elements' : `passerelle-elements-${name}`);

/** The document's elements by local name, in document order, built once per validation. */
export class ElementIndex {
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
      value = itemSequence(name === '*' ? this.all : (this.byName.get(name) ?? []), undefined as never);
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
