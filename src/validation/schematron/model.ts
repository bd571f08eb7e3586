/**
 * A Schematron schema after loading: includes expanded, abstract patterns instantiated, `extends`
 * resolved, phases applied. Everything the evaluator needs, nothing of the XML it came from.
 */

export interface Variable {
  readonly name: string;
  /** XPath expression (parameters already substituted). */
  readonly value: string;
}

/** Text of an assert/report message: literal text, or `value-of`/`name` evaluated in context. */
export type MessagePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'value-of'; readonly select: string }
  | { readonly kind: 'name'; readonly path: string | null };

export interface Check {
  readonly kind: 'assert' | 'report';
  readonly test: string;
  readonly id?: string;
  readonly role?: string;
  readonly message: readonly MessagePart[];
}

export interface Rule {
  readonly context: string;
  readonly id?: string;
  readonly lets: readonly Variable[];
  readonly checks: readonly Check[];
}

export interface Pattern {
  readonly id?: string;
  readonly title?: string;
  readonly lets: readonly Variable[];
  readonly rules: readonly Rule[];
}

export interface Schema {
  /** File the schema was loaded from; `doc()`/`document()` resolve relative to it. */
  readonly url: URL;
  readonly queryBinding: string;
  readonly namespaces: ReadonlyMap<string, string>;
  readonly lets: readonly Variable[];
  /** Active patterns of the phase in force, in document order. */
  readonly patterns: readonly Pattern[];
  /** The phase in force (`#ALL` when the schema has none or names none). */
  readonly phase: string;
}
