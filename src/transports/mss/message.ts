/**
 * The MIME message (RFC 5322, RFC 2045–2049) that carries a report by MSSanté (pure: nothing is
 * sent here). From the application mailbox (BAL applicative) to the recipients, with:
 * - the IHE XDM archive (ITI-32) as the attachment `IHE_XDM.ZIP`, application/zip, and the
 *   PDF alongside when asked (french-specs §4: the receiver identifies the patient from
 *   METADATA.XML in the archive, Ref#2 ECO.2.1.2);
 * - `X-MSS-CODECDA`, the CDA `code` of each CDA in the archive (Ref#2 ECO.2.4.1), and the other
 *   `X-MSS-*` headers as configured, since what they mean is [UNVERIFIED] (french-specs §4);
 * - `Disposition-Notification-To`, which asks the receiving system for an MDN (RFC 8098 §2.1);
 * - a Message-ID derived from the submission, so that a message sent again is the same message
 *   to the receiver and its acknowledgements match the submission.
 * Built with nodemailer's MailComposer, which does the encoding (RFC 2047 words, base64, line
 * lengths, boundaries).
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import { PasserelleError } from '../../domain/errors.js';
import { isMailboxAddress } from './recipients.js';

/** File name of the archive in the message, as MSSanté receivers look for it (french-specs §4; IHE ITI TF-3 §4.5.3). */
export const XDM_ATTACHMENT_NAME = 'IHE_XDM.ZIP';
export const XDM_CONTENT_TYPE = 'application/zip';
export const PDF_CONTENT_TYPE = 'application/pdf';

/** Ref#2 ECO.2.4.1. */
export const CODE_CDA_HEADER = 'X-MSS-CODECDA';
/**
 * How ECO.2.4.1's "multi-valué" is written: one header, values separated by commas
 * (`X-MSS-CODECDA: 34112-3,PRESC-BIO`), as a third-party client reads Ref#2 v1.0.1 §3.8.1 [S];
 * Ref#2 itself only says the header is multi-valued.
 */
const CODE_CDA_SEPARATOR = ',';

export interface MssMessageOptions {
  /** The BAL applicative: From, and the address MDNs come back to. */
  readonly from: string;
  /** Display name of the BAL (Ref#2 ECO.2.2.7: the functional label of an organisation's mailbox). */
  readonly fromName?: string;
  readonly to: readonly string[];
  /** `<…@…>`, from stableMessageId: recorded on the submission to match acknowledgements. */
  readonly messageId: string;
  /** What the document is, without health data: see describeReport. */
  readonly subject: string;
  readonly bodyText: string;
  /** The IHE_XDM.ZIP bytes. */
  readonly xdm: Buffer;
  readonly pdf?: { readonly content: Buffer; readonly fileName: string };
  /** `code/@code` of each CDA in the archive, in archive order; none: no X-MSS-CODECDA. */
  readonly cdaCodes: readonly string[];
  /** Other `X-MSS-*` headers (X-MSS-INS, X-MSS-NIL, X-MSS-MES…), from configuration. */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /**
   * Where the MDN goes. RFC 8098 §2.1: a receiver should not answer automatically when this
   * differs from the envelope sender (Return-Path), so it should be `from`.
   */
  readonly dispositionNotificationTo?: string;
  readonly date: Date;
}

const HEADER_NAME = /^X-MSS-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;
/** Printable ASCII and spaces: what a header can carry unencoded, with no CR or LF to inject headers. */
const HEADER_VALUE = /^[\x20-\x7E]*$/;
const CDA_CODE = /^[\x21-\x7E]+$/;
/** A PDF file name: no path, no quotes, nothing the receiver's file system could misread. */
const PDF_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.pdf$/i;

function invalid(detail: string): PasserelleError {
  return new PasserelleError('config-invalid', detail);
}

function checkAddress(what: string, address: string): void {
  if (!isMailboxAddress(address)) throw invalid(`${what} is not a mailbox address`);
}

export async function buildMssMessage(o: MssMessageOptions): Promise<Buffer> {
  checkAddress('the sender (BAL applicative)', o.from);
  if (o.to.length === 0) throw invalid('a message needs at least one recipient');
  o.to.forEach((address, i) => { checkAddress(`recipient ${String(i)}`, address); });
  if (o.dispositionNotificationTo !== undefined) checkAddress('Disposition-Notification-To', o.dispositionNotificationTo);
  if (!isMessageId(o.messageId)) throw invalid('the Message-ID is not of the form <left@right>');
  if (/[\r\n]/.test(o.subject) || (o.fromName !== undefined && /[\r\n]/.test(o.fromName))) throw invalid('the subject and the sender name are one line each');
  for (const code of o.cdaCodes) if (!CDA_CODE.test(code) || code.includes(CODE_CDA_SEPARATOR)) throw invalid(`the CDA code "${code}" cannot be written in ${CODE_CDA_HEADER}`);
  if (o.pdf !== undefined && !PDF_FILE_NAME.test(o.pdf.fileName)) throw invalid('the PDF file name must be a plain name ending in .pdf');

  const headers: { key: string; value: string }[] = [];
  for (const [name, value] of Object.entries(o.extraHeaders ?? {})) {
    if (!HEADER_NAME.test(name)) throw invalid(`the configured header "${name}" is not an X-MSS-* header`);
    if (name.toUpperCase() === CODE_CDA_HEADER) throw invalid(`${CODE_CDA_HEADER} is computed from the archive's documents, it cannot be configured`);
    if (!HEADER_VALUE.test(value)) throw invalid(`the value of ${name} must be printable ASCII on one line`);
    headers.push({ key: name, value });
  }
  // Absent when the archive holds no CDA (ECO.2.4.1).
  if (o.cdaCodes.length > 0) headers.push({ key: CODE_CDA_HEADER, value: o.cdaCodes.join(CODE_CDA_SEPARATOR) });
  if (o.dispositionNotificationTo !== undefined) headers.push({ key: 'Disposition-Notification-To', value: `<${o.dispositionNotificationTo}>` });

  const composer = new MailComposer({
    from: o.fromName === undefined ? o.from : { name: o.fromName, address: o.from },
    to: [...o.to],
    messageId: o.messageId,
    date: o.date,
    subject: o.subject,
    text: o.bodyText,
    headers,
    attachments: [
      { filename: XDM_ATTACHMENT_NAME, content: o.xdm, contentType: XDM_CONTENT_TYPE },
      ...(o.pdf === undefined ? [] : [{ filename: o.pdf.fileName, content: o.pdf.content, contentType: PDF_CONTENT_TYPE }]),
    ],
    // Content only from the Buffers above, never a path or a URL in an option.
    disableFileAccess: true,
    disableUrlAccess: true,
    // SMTP wants CRLF line ends (RFC 5321 §2.3.8), whatever the body text was written with.
    newline: 'win',
    // nodemailer writes every name in Title-Case ("X-Mss-Codecda"). Names are case-insensitive
    // (RFC 5322 §1.2.2), but a receiver that compares them as written would miss Ref#2's spelling.
    normalizeHeaderKey: (key) => (/^x-mss-/i.test(key) ? key.toUpperCase() : key),
  });
  return composer.compile().build();
}

/** RFC 5322 §3.6.4 msg-id, in its dot-atom form (the only one this gateway writes or matches). */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

export function isMessageId(value: string): boolean {
  const match = /^<([^<>@\s]+)@([^<>@\s]+)>$/.exec(value);
  return match !== null && DOT_ATOM.test(match[1] ?? '') && DOT_ATOM.test(match[2] ?? '');
}

/**
 * The Message-ID of a submission's message: `<{submissionId}@{domain}>`. The same submission
 * always gets the same id, so a message sent again after a failure is recognisably the same
 * message (a receiver may discard the duplicate) and every MDN or DSN names the submission.
 * `domain` should be the BAL applicative's, which makes the id unique to this gateway.
 */
export function stableMessageId(submissionId: string, domain: string): string {
  const id = `<${submissionId}@${domain.toLowerCase()}>`;
  if (!isMessageId(id)) throw invalid('a Message-ID is made of a submission id and a domain of atom characters (RFC 5322 §3.6.4)');
  return id;
}

export interface ReportDescription {
  /** What the document is: the display name of its CDA `code` (e.g. "Compte rendu d'acte de télémédecine"), never the report's own title. */
  readonly documentType: string;
  /** Date of the act: ISO 8601 (`2026-11-20`, `2026-11-20T14:05:00+01:00`) or an HL7 TS (`20261120140500+0100`); its calendar date is used as written. */
  readonly actDate: string;
  /** The structure that performed the act and sends the report. */
  readonly structureName: string;
  readonly pdfAttached: boolean;
  /** The document replaces one sent before (a new version). */
  readonly replacement?: boolean;
}

/**
 * Subject and body of a report's message.
 *
 * Subject: the document type and the structure only. It travels where the body does not: mail
 * lists, phone notifications, operators' logs, the subjects of MDNs sent back (french-specs §4).
 * So it carries no patient name, INS or birth date, although the MSSanté DDM convention puts
 * them there (`XDM/1.0/DDM+<libellé> <NOM> <prénom> <date naissance>`, french-specs §4), and not
 * the act date either, which with the recipient could single out a patient. The type comes from
 * the value set's display name, never from the report's free-text title, which may name a
 * diagnosis.
 *
 * Body: what the recipient needs to file the message without opening the archive (which
 * document, of which act date, from which structure, which attachments), and where the patient
 * is identified: in the archive's METADATA.XML (Ref#2 ECO.2.1.2), not in the mail. The body
 * crosses the espace de confiance only, encrypted hop by hop, to a professional entitled to the
 * document.
 */
export function describeReport(d: ReportDescription): { subject: string; bodyText: string } {
  const date = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(d.actDate);
  if (date === null) throw invalid('the act date is neither an ISO 8601 date nor an HL7 TS');
  const [, year, month, day] = date;
  const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const type = oneLine(d.documentType);
  const structure = oneLine(d.structureName);
  const subject = `${d.replacement === true ? 'Nouvelle version : ' : ''}${type} - ${structure}`;
  const lines = [
    'Bonjour,',
    '',
    `${d.replacement === true ? 'Veuillez trouver ci-joint la nouvelle version du document' : 'Veuillez trouver ci-joint le document'} « ${type} » de l'acte du ${String(day)}/${String(month)}/${String(year)}, établi par ${structure}.`,
    '',
    `Le document CDA et ses métadonnées sont dans la pièce jointe ${XDM_ATTACHMENT_NAME} (archive IHE XDM) ; le patient y est identifié (METADATA.XML).`,
    ...(d.pdfAttached ? ['Une copie PDF lisible du document est également jointe.'] : []),
    ...(d.replacement === true ? ['Cette version remplace la précédente, qui ne doit plus être utilisée.'] : []),
    '',
    'Ce message a été envoyé automatiquement ; un accusé de traitement est demandé.',
  ];
  return { subject, bodyText: `${lines.join('\n')}\n` };
}

/**
 * The header fields of an RFC 5322 header section (or of an MDN/DSN field block, RFC 8098 §3.1,
 * RFC 3464 §2.1), unfolded, names lower-cased, in order. Reading stops at the first empty line.
 */
export function readHeaderFields(text: string): { name: string; value: string }[] {
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const last = fields.at(-1);
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

/** The Message-ID of a raw message, read from its header section. */
export function messageIdOf(raw: Buffer | string): string | undefined {
  const text = typeof raw === 'string' ? raw : raw.subarray(0, headerEnd(raw)).toString('latin1');
  return readHeaderFields(text).find((f) => f.name === 'message-id')?.value;
}

function headerEnd(raw: Buffer): number {
  const end = raw.indexOf('\r\n\r\n');
  if (end >= 0) return end;
  const lf = raw.indexOf('\n\n');
  return lf >= 0 ? lf : raw.length;
}
