/**
 * Builds the CI-SIS document of an act report: TLM-CR (the compte rendu, level 1) or TLM-DA (the
 * request, level 3). The same function runs in `passerelle cda build` and in the gateway. Its
 * output depends only on the report, the options and the clock given, never on the machine.
 */
import type { ActReport } from '../domain/act-report.js';
import type { NgapActCode } from '../domain/act.js';
import { PasserelleError } from '../domain/errors.js';
import type { HeaderContext } from './builders/header.js';
import { tlmCr } from './builders/tlm-cr.js';
import { tlmDa, tlmDaProblems } from './builders/tlm-da.js';
import { documentIdentity, type ReplacedDocument } from './document-ids.js';
import type { II, NonXmlBody } from './model.js';
import { renderPdf } from './render-pdf.js';
import { renderText, reportContent } from './report-content.js';
import { serializeDocument } from './serialize.js';
import type { CdaTemplates, DocumentType } from './templates.js';
import { dateTimeIn, timestampOf } from './time.js';

export interface BuildOptions {
  readonly type: DocumentType;
  readonly templates: CdaTemplates;
  /** The build clock: the document's effectiveTime and the rendered PDF's dates. */
  readonly now: Date;
  /** Time zone of the document's own times (default Europe/Paris). */
  readonly timeZone?: string;
  /** What the document ids are derived from: the submission id in the gateway. */
  readonly seed: string;
  /** The document this one replaces, when the gateway resolved `replaces.submissionId`. */
  readonly replaced?: ReplacedDocument;
  readonly actCodes: readonly NgapActCode[];
  /** Body of a TLM-CR without a PDF: a rendered PDF (default) or the same content as text/plain. */
  readonly textBodyAs?: 'pdf' | 'text';
}

/** Written in the Producer and Creator fields of the PDFs Passerelle renders. */
const PDF_PRODUCER = 'Passerelle';

export interface BuiltDocument {
  readonly type: DocumentType;
  readonly volet: string;
  readonly id: II;
  readonly setId: II;
  readonly versionNumber: number;
  /** The CDA, UTF-8. */
  readonly xml: Buffer;
  /** The human-readable copy: the PDF received or rendered (TLM-CR only). */
  readonly pdf?: Uint8Array;
}

export async function buildDocument(report: ActReport, options: BuildOptions): Promise<BuiltDocument> {
  // Intake has checked the report (PATIENT_IDENTIFIER_REQUIRED and the rest); only what a document
  // type needs beyond a valid report is checked here.
  const problems = options.type === 'tlm-da' ? tlmDaProblems(report) : [];
  if (problems.length > 0) throw new PasserelleError('document-not-buildable', `the act report cannot be built as a ${options.type.toUpperCase()}`, { violations: problems });

  const identity = documentIdentity(`${options.type}:${options.seed}`, options.replaced ?? replacedFromReport(report));
  const producedAt = dateTimeIn(options.now, options.timeZone ?? 'Europe/Paris');
  const context: HeaderContext = { identity, time: timestampOf(producedAt), actCodes: options.actCodes };
  const built = (xml: Buffer, pdf?: Uint8Array): BuiltDocument => ({
    type: options.type, volet: options.templates[options.type].volet, id: identity.id, setId: identity.setId, versionNumber: identity.versionNumber, xml, ...(pdf === undefined ? {} : { pdf }),
  });

  if (options.type === 'tlm-da') return built(serializeDocument(tlmDa(report, options.templates['tlm-da'], context)));

  const body = await levelOneBody(report, options, producedAt);
  return built(serializeDocument(tlmCr(report, options.templates['tlm-cr'], context, body)), body.mediaType === 'application/pdf' ? body.content : undefined);
}

/** The replaced document when the report names it by its ids (the gateway resolves a submission id). */
function replacedFromReport(report: ActReport): ReplacedDocument | undefined {
  const r = report.replaces;
  return r !== undefined && 'documentId' in r ? { id: r.documentId, setId: r.setId, versionNumber: r.versionNumber } : undefined;
}

async function levelOneBody(report: ActReport, options: BuildOptions, producedAt: string): Promise<NonXmlBody> {
  if (report.report.pdf !== undefined) return { kind: 'nonXML', mediaType: 'application/pdf', content: Buffer.from(report.report.pdf, 'base64') };
  const content = reportContent(report, { producedAt, actCodes: options.actCodes });
  if (options.textBodyAs === 'text') return { kind: 'nonXML', mediaType: 'text/plain', content: Buffer.from(renderText(content), 'utf8') };
  return { kind: 'nonXML', mediaType: 'application/pdf', content: await renderPdf(content, { producedAt: options.now, producer: PDF_PRODUCER }) };
}

