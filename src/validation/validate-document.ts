/**
 * Validates one CDA document through every stage in one pass: input checks, XSD, StrucMin and the
 * volet's schematron. A stage's errors never stop the next; only a document that cannot be read
 * as XML stops after the input stage.
 */
import fontoxpath from 'fontoxpath';
import type { Document } from 'slimdom';
import { checkHeader } from './builtin/header-rules.js';
import type { ValidationIssue, Severity } from './issue.js';
import type { AnsKit } from './kit.js';
import type { SchematronFinding } from './schematron/engine.js';
import { STRUCMIN_SCHEMATRON, detectVolet, voletSchematron } from './volets.js';
import { readXmlInput } from './xml-input.js';

export interface ValidationOptions {
  /** The ANS kit; without it the input checks and the built-in rules run, not XSD nor schematron. */
  readonly kit?: AnsKit;
  /** Volet to check against (e.g. TLM-CR_2022.01), instead of the one detected. */
  readonly volet?: string;
  readonly maxBytes?: number;
}

export interface DocumentReport {
  readonly file: string;
  /** False when the input could not be read as XML at all. */
  readonly readable: boolean;
  readonly valid: boolean;
  readonly volet?: string;
  readonly issues: readonly ValidationIssue[];
}

const HL7 = 'urn:hl7-org:v3';

export function validateDocument(bytes: Uint8Array, file: string, options: ValidationOptions = {}): DocumentReport {
  const read = readXmlInput(bytes, file, options.maxBytes);
  if (!read.ok) return { file, readable: false, valid: false, issues: read.issues };
  const issues: ValidationIssue[] = [...read.issues, ...checkHeader(read.document, options.kit?.valueSets())];
  let volet: string | undefined;
  if (options.kit !== undefined) {
    issues.push(...options.kit.xsd().validate(read.bytes, file));
    const schematrons = [STRUCMIN_SCHEMATRON];
    volet = options.volet ?? voletOf(read.document);
    if (volet !== undefined) schematrons.push(voletSchematron(volet));
    for (const schematron of schematrons) {
      const result = options.kit.schematron(schematron).validate(read.document);
      issues.push(...result.findings.map((f) => toIssue(f, schematron)));
    }
  }
  return { file, readable: true, valid: !issues.some((i) => i.severity === 'error'), ...(volet === undefined ? {} : { volet }), issues };
}

function voletOf(document: Document): string | undefined {
  const root = document.documentElement;
  if (root === null) return undefined;
  const ids = fontoxpath.evaluateXPathToStrings('Q{urn:hl7-org:v3}templateId/@root', root);
  const code = fontoxpath.evaluateXPathToString('Q{urn:hl7-org:v3}code/@code', root);
  return root.namespaceURI === HL7 ? detectVolet(ids, code === '' ? undefined : code) : undefined;
}

/** An assert is an error and a report is not, unless their role says warning or info. */
function toIssue(finding: SchematronFinding, schematron: string): ValidationIssue {
  const role = finding.role?.toLowerCase();
  const severity: Severity = finding.kind === 'error' ? 'error' : role === 'warning' || role === 'warn' ? 'warning' : role === 'info' || role === 'information' ? 'info' : finding.kind === 'assert' ? 'error' : 'info';
  return {
    source: 'schematron',
    severity,
    schematron,
    ...(finding.kind === 'error' ? { rule: 'SCHEMATRON_EVALUATION_ERROR' } : finding.id === undefined ? {} : { rule: finding.id }),
    message: finding.message,
    location: finding.location,
    ...(finding.line === undefined ? {} : { line: finding.line }),
    ...(finding.column === undefined ? {} : { column: finding.column }),
  };
}
