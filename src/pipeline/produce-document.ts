/**
 * Build, then check: the one way a document comes into being, used by the gateway and by
 * `passerelle cda build`. The built document is checked with the built-in CI-SIS rules, and with
 * the ANS kit (XSD, StrucMin, volet) when one is configured; a document that fails is never
 * returned, so it can never be signed or sent.
 */
import type { ActReport } from '../domain/act-report.js';
import type { NgapActCode } from '../domain/act.js';
import { PasserelleError, type Violation } from '../domain/errors.js';
import { buildDocument, type BuiltDocument } from '../cda/build-document.js';
import type { ReplacedDocument } from '../cda/document-ids.js';
import { loadCdaTemplates, type CdaTemplates, type DocumentType } from '../cda/templates.js';
import type { Config } from '../config/config.js';
import type { ValidationIssue } from '../validation/issue.js';
import type { AnsKit } from '../validation/kit.js';
import { validateDocument } from '../validation/validate-document.js';

export interface DocumentFactory {
  readonly templates: CdaTemplates;
  readonly actCodes: readonly NgapActCode[];
  readonly timeZone: string;
  readonly textBodyAs: 'pdf' | 'text';
  readonly kit?: AnsKit;
}

/** The factory the configuration describes; the document types are read (and checked) here. */
export function configuredDocumentFactory(config: Config, kit?: AnsKit): DocumentFactory {
  return {
    templates: loadCdaTemplates(),
    actCodes: config.intake.ngapActCodes,
    timeZone: config.documents.timeZone,
    textBodyAs: config.documents.textBodyAs,
    ...(kit === undefined ? {} : { kit }),
  };
}

export interface DocumentRequest {
  readonly type: DocumentType;
  readonly seed: string;
  readonly now: Date;
  readonly replaced?: ReplacedDocument;
}

export interface ProducedDocument {
  readonly document: BuiltDocument;
  /** Warnings and notes of the validation (errors make it throw). */
  readonly issues: readonly ValidationIssue[];
}

export async function produceDocument(report: ActReport, request: DocumentRequest, factory: DocumentFactory): Promise<ProducedDocument> {
  const document = await buildDocument(report, {
    type: request.type,
    templates: factory.templates,
    now: request.now,
    timeZone: factory.timeZone,
    seed: request.seed,
    ...(request.replaced === undefined ? {} : { replaced: request.replaced }),
    actCodes: factory.actCodes,
    textBodyAs: factory.textBodyAs,
  });
  const checked = validateDocument(document.xml, `${request.type}.xml`, { ...(factory.kit === undefined ? {} : { kit: factory.kit }), volet: document.volet, maxBytes: Number.MAX_SAFE_INTEGER });
  const errors = checked.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new PasserelleError('document-invalid', `the built ${request.type.toUpperCase()} fails ${String(errors.length)} CI-SIS check(s)`, { violations: errors.map(toViolation) });
  }
  return { document, issues: checked.issues };
}

/** A document issue in the catalogue's violation shape: the pointer names the place in the CDA. */
function toViolation(issue: ValidationIssue): Violation {
  return {
    pointer: issue.location ?? '',
    rule: issue.rule ?? `${issue.source.toUpperCase()}_ERROR`,
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
  };
}
