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
import { parseXml, whereOf } from '../xml-parse.js';
import { ElementIndex, indexVariable, selectorOf, targetNamesOf } from './match-patterns.js';
import type { Check, MessagePart, Pattern, Rule, Schema, Variable } from './model.js';
import { ENGINE_NS, STANDARD_PREFIXES, functionNamespace, itemSequence, registerFunctions, type DocumentResolver } from './xpath-functions.js';

const { evaluateXPath, evaluateXPathToBoolean, evaluateXPathToNodes, evaluateXPathToString } = fontoxpath;

type Variables = Record<string, unknown>;

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

export class SchematronEngine {
  private readonly documents = new Map<string, Document | null>();
  private readonly options: object;

  constructor(readonly schema: Schema) {
    registerFunctions();
    const namespaces = schema.namespaces;
    const resolver: DocumentResolver = { resolve: (href) => this.document(href) };
    this.options = {
      namespaceResolver: (prefix: string) => namespaces.get(prefix) ?? STANDARD_PREFIXES[prefix] ?? null,
      functionNameResolver: ({ prefix, localName }: { prefix: string; localName: string }, arity: number) => ({ namespaceURI: functionNamespace(prefix, localName, arity, namespaces), localName }),
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
    const id = check.id ?? rule.id ?? pattern.id;
    return {
      kind: check.kind,
      ...(id === undefined ? {} : { id }),
      ...(check.role === undefined ? {} : { role: check.role }),
      message: this.message(check.message, node, variables),
      test: check.test,
      context: rule.context,
      ...whereOf(node),
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
      variables[variable.name] = itemSequence(value, undefined as never);
    }
    return variables;
  }

  private document(href: string): Document | null {
    const url = new URL(href, this.schema.url);
    if (!this.documents.has(url.href)) {
      let document: Document | null = null;
      try {
        document = parseXml(readFileSync(url, 'utf8'), url.pathname);
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
  return {
    kind: 'error',
    ...(rule.id === undefined ? {} : { id: rule.id }),
    message: `the schematron could not be evaluated here: ${(error as Error).message.split('\n')[0] ?? ''} (in: ${expression.slice(0, 200)})`,
    test: expression,
    context: rule.context,
    ...whereOf(node),
  };
}
