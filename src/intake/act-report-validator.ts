/**
 * Validates an act report against the JSON Schema (ajv, draft 2020-12) and the business rules,
 * and reports every violation with a JSON Pointer: schema errors are translated into the same
 * Violation shape as rule findings, so a client handles one format.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { checkActReportRules, type RuleOptions } from '../domain/act-report-rules.js';
import type { ActReport } from '../domain/act-report.js';
import type { Violation } from '../domain/errors.js';

/** Beyond this many violations the answer is cut, with a last entry saying how many were left out. */
const MAX_VIOLATIONS = 100;

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const ACT_REPORT_SCHEMA_URL = new URL('../../schemas/json/act-report.schema.json', import.meta.url);

export function loadActReportSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(ACT_REPORT_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

export type ValidationResult = { readonly ok: true; readonly report: ActReport } | { readonly ok: false; readonly violations: readonly Violation[] };

export class ActReportValidator {
  private readonly validateSchema: ValidateFunction;

  constructor(private readonly ruleOptions: () => RuleOptions) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
    addFormats(ajv);
    // Annotation keyword: a fix-it hint shown with the schema errors of that subschema.
    ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
    this.validateSchema = ajv.compile(loadActReportSchema());
  }

  validate(input: unknown): ValidationResult {
    const schemaValid = this.validateSchema(input);
    const schemaViolations = schemaValid ? [] : toViolations(this.validateSchema.errors ?? []);
    const ruleViolations = checkActReportRules(input, this.ruleOptions());
    const violations = [...schemaViolations, ...ruleViolations, ...invalidTextViolations(input)];
    if (violations.length === 0) return { ok: true, report: input as ActReport };
    return { ok: false, violations: capped(violations) };
  }
}

// Control characters (NUL included), U+FFFE/U+FFFF and unpaired UTF-16 surrogates are valid in
// JSON text but not in XML 1.0 (§2.2), so not in the CDA built later; NUL is not valid in
// PostgreSQL's JSONB either. Refuse them here so that every store and document behaves alike.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVALID_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Cheap first pass: most strings hold none of these code units at all. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SUSPECT_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const isInvalidText = (text: string): boolean => SUSPECT_TEXT.test(text) && INVALID_TEXT.test(text);

function invalidTextViolations(input: unknown): Violation[] {
  const out: Violation[] = [];
  const visit = (value: unknown, pointer: string): void => {
    // The PDF's alphabet is base64, checked by the PDF rules: no need to scan its 300 KB again.
    if (pointer === '/report/pdf') return;
    if (typeof value === 'string') {
      if (isInvalidText(value)) out.push({ pointer, rule: 'TEXT_INVALID_CHARACTER', message: 'contains a character XML cannot carry: a control character (U+0000–U+001F other than tab, line feed and carriage return), U+FFFE/U+FFFF or an unpaired UTF-16 surrogate', hint: 'Send UTF-8 text only; remove control characters such as U+0000 or a form feed.' });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => { visit(item, `${pointer}/${i}`); });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (isInvalidText(key)) out.push({ pointer, rule: 'TEXT_INVALID_CHARACTER', message: 'a property name contains a control character, U+FFFE/U+FFFF or an unpaired UTF-16 surrogate' });
        else visit(item, `${pointer}/${escapePointer(key)}`);
      }
    }
  };
  visit(input, '');
  return out;
}

function capped(violations: readonly Violation[]): Violation[] {
  if (violations.length <= MAX_VIOLATIONS) return [...violations];
  return [
    ...violations.slice(0, MAX_VIOLATIONS),
    { pointer: '', rule: 'TOO_MANY_VIOLATIONS', message: `${violations.length - MAX_VIOLATIONS} more violations were left out`, hint: 'Fix the ones listed and submit again.' },
  ];
}

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function hintOf(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const hint = (schema as Record<string, unknown>)['x-hint'];
  return typeof hint === 'string' ? hint : undefined;
}

function toViolations(errors: readonly ErrorObject[]): Violation[] {
  // Errors inside a oneOf branch or an if/then condition say "branch N failed" in many words;
  // the oneOf/then error itself, with the subschema's hint, is what a reader needs.
  const kept = errors.filter((e) => !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath) && e.keyword !== 'if');
  const seen = new Set<string>();
  const out: Violation[] = [];
  for (const e of kept) {
    const v = toViolation(e);
    const key = `${v.pointer}\u0000${v.rule}\u0000${v.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

function toViolation(e: ErrorObject): Violation {
  const params = e.params as Record<string, unknown>;
  const withHint = (v: Omit<Violation, 'hint'>, hint: string | undefined): Violation => (hint === undefined ? v : { ...v, hint });
  switch (e.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      const properties = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
      return withHint({ pointer: `${e.instancePath}/${escapePointer(name)}`, rule: 'SCHEMA_REQUIRED', message: `"${name}" is required` }, hintOf(properties?.[name]));
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      return { pointer: `${e.instancePath}/${escapePointer(name)}`, rule: 'SCHEMA_UNKNOWN_PROPERTY', message: `unknown property "${name}"`, hint: 'Remove it or check its spelling against the act-report schema (GET /openapi.json).' };
    }
    case 'enum':
      return withHint({ pointer: e.instancePath, rule: 'SCHEMA_ENUM', message: `must be one of: ${(params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}` }, hintOf(e.parentSchema));
    case 'oneOf':
      return withHint({ pointer: e.instancePath, rule: 'SCHEMA_ONE_OF', message: 'must match exactly one of the accepted forms' }, hintOf(e.parentSchema));
    default:
      return withHint({ pointer: e.instancePath, rule: `SCHEMA_${e.keyword.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, message: e.message ?? `fails "${e.keyword}"` }, hintOf(e.parentSchema));
  }
}
