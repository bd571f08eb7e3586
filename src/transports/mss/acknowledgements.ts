/**
 * Acknowledgements of sent reports (pure: messages in, data out, or the other way round):
 * - MDN, message disposition notifications (RFC 8098), which the receiving system sends when the
 *   message asked for one (Disposition-Notification-To): "processed", or processed with an error
 *   in the French form `Disposition: automatic-action/MDN-sent-automatically; processed/Error:
 *   {code}^{label}` (french-specs §4; ansforge IG-hl7v2-volet-trans-lps-doc-cda-courriel-mss,
 *   struct-msg-mdn.md);
 * - DSN, delivery status notifications (RFC 3464), which the MTAs send when a message is
 *   delayed, cannot be delivered, or (when asked, RFC 3461) was.
 * Both are `multipart/report` (RFC 6522): a text for people, a machine-readable part, the original
 * message or its headers. Messages are read with mailparser; they are built (for the sandbox)
 * with nodemailer's MimeNode.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import { simpleParser, type AddressObject, type Attachment, type HeaderValue } from 'mailparser';
import { PasserelleError } from '../../domain/errors.js';
import { isMessageId, readHeaderFields } from './message.js';

/** RFC 8098 §3.2.6.2 (displayed, deleted, dispatched, processed), and RFC 3798's denied and failed that older agents still send. */
export type MdnDispositionType = 'displayed' | 'deleted' | 'dispatched' | 'processed' | 'denied' | 'failed' | 'unknown';
const DISPOSITION_TYPES: readonly MdnDispositionType[] = ['displayed', 'deleted', 'dispatched', 'processed', 'denied', 'failed'];

export interface MdnAcknowledgement {
  readonly kind: 'mdn';
  /** The Message-ID acknowledged: Original-Message-ID, else the Message-ID of the original returned, else In-Reply-To. */
  readonly originalMessageId?: string;
  /** The mailbox the MDN speaks for: Final-Recipient (address type removed), else the MDN's From. */
  readonly finalRecipient: string;
  readonly originalRecipient?: string;
  readonly reportingUa?: string;
  /** `automatic-action` or `manual-action` (RFC 8098 §3.2.6.1). */
  readonly actionMode?: string;
  /** `MDN-sent-automatically` or `MDN-sent-manually`. */
  readonly sendingMode?: string;
  readonly disposition: MdnDispositionType;
  /** Disposition modifiers, lower-cased (RFC 8098 keeps `error`). */
  readonly modifiers: readonly string[];
  /** The receiver could not do what the disposition says: an `error` modifier, or RFC 3798's `failed`. */
  readonly failed: boolean;
  /** First component of the error (`902` in `902^Identifiant de patient inconnu`). */
  readonly errorCode?: string;
  /** Second component: the label. */
  readonly errorText?: string;
  /** The whole error text as the receiver wrote it (Disposition's `Error:` part, or the Error/Failure field). */
  readonly error?: string;
}

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';
const DSN_ACTIONS: readonly DsnAction[] = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'];

export interface DsnRecipient {
  readonly finalRecipient: string;
  readonly originalRecipient?: string;
  readonly action: DsnAction;
  /** RFC 3463 status, e.g. 5.1.1. */
  readonly status: string;
  /** Diagnostic-Code as written, e.g. `smtp; 550 5.1.1 unknown mailbox`. */
  readonly diagnostic?: string;
  readonly remoteMta?: string;
  readonly willRetryUntil?: string;
}

export interface DsnAcknowledgement {
  readonly kind: 'dsn';
  /** The Message-ID of the original returned (RFC 3464 has no field for it). */
  readonly originalMessageId?: string;
  /** Original-Envelope-Id: the ENVID the message was sent with (RFC 3461 §4.4). */
  readonly envelopeId?: string;
  readonly reportingMta?: string;
  readonly recipients: readonly DsnRecipient[];
}

export type Acknowledgement = MdnAcknowledgement | DsnAcknowledgement;

const MDN_TYPES = ['message/disposition-notification', 'message/global-disposition-notification'];
const DSN_TYPES = ['message/delivery-status', 'message/global-delivery-status'];
const ORIGINAL_TYPES = ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers'];

/** `rfc822;a@b` → `a@b` (RFC 3464 §2.1.2 address-type; RFC 8098 §3.2.4). */
function withoutType(value: string): string {
  const semicolon = value.indexOf(';');
  return (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim();
}

/** The blocks of fields of a report part (RFC 3464 §2.1: per-message, then one per recipient), separated by empty lines. */
function fieldBlocks(text: string): Map<string, string>[] {
  return text.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const f of readHeaderFields(block.replace(/^\n+/, ''))) if (!fields.has(f.name)) fields.set(f.name, f.value);
    return fields;
  }).filter((fields) => fields.size > 0);
}

/** The Message-ID of the original returned in the report's third part. */
function originalMessageIdOf(attachments: readonly Attachment[]): string | undefined {
  const original = attachments.find((a) => ORIGINAL_TYPES.includes(a.contentType.toLowerCase()));
  if (original === undefined) return undefined;
  return readHeaderFields(original.content.toString('utf8')).find((f) => f.name === 'message-id')?.value;
}

export interface Disposition {
  readonly actionMode?: string;
  readonly sendingMode?: string;
  readonly type: MdnDispositionType;
  readonly modifiers: string[];
  readonly error?: string;
}

/**
 * `automatic-action/MDN-sent-automatically; processed/error` (RFC 8098 §3.2.6), and the French
 * form that writes the error text into the modifier: `processed/Error: 902^label^…`.
 */
export function parseDisposition(value: string): Disposition {
  const semicolon = value.indexOf(';');
  const [actionMode, sendingMode] = (semicolon >= 0 ? value.slice(0, semicolon) : '').split('/').map((s) => s.trim());
  const rest = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim();
  const slash = rest.indexOf('/');
  const typeName = (slash >= 0 ? rest.slice(0, slash) : rest).trim().toLowerCase();
  const type = DISPOSITION_TYPES.find((t) => t === typeName) ?? 'unknown';
  const modifierPart = slash >= 0 ? rest.slice(slash + 1).trim() : '';
  const colon = modifierPart.indexOf(':');
  const modifiers = (colon >= 0 ? modifierPart.slice(0, colon) : modifierPart).split(',').map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
  const error = colon >= 0 ? modifierPart.slice(colon + 1).trim() : undefined;
  return {
    ...(actionMode === undefined || actionMode === '' ? {} : { actionMode }),
    ...(sendingMode === undefined || sendingMode === '' ? {} : { sendingMode }),
    type,
    modifiers,
    ...(error === undefined || error === '' ? {} : { error }),
  };
}

function firstAddress(address: AddressObject | AddressObject[] | undefined): string | undefined {
  const first = Array.isArray(address) ? address[0] : address;
  return first?.value[0]?.address;
}

function mdnOf(fields: Map<string, string>, attachments: readonly Attachment[], fallback: { from?: string; inReplyTo?: string }): MdnAcknowledgement | undefined {
  const finalRecipient = fields.get('final-recipient');
  const recipient = finalRecipient === undefined ? fallback.from : withoutType(finalRecipient);
  const dispositionField = fields.get('disposition');
  if (recipient === undefined || recipient === '' || dispositionField === undefined) return undefined;
  const disposition = parseDisposition(dispositionField);
  const error = disposition.error ?? fields.get('error') ?? fields.get('failure');
  // `code^label^…` (struct-msg-mdn.md, HL7 ERR-3 style); any other error text is a label alone.
  const components = error?.split('^').map((c) => c.trim());
  const code = components !== undefined && components.length > 1 && components[0] !== '' ? components[0] : undefined;
  const label = components === undefined ? undefined : (code === undefined ? error : components[1]);
  const originalMessageId = fields.get('original-message-id') ?? originalMessageIdOf(attachments) ?? fallback.inReplyTo;
  const originalRecipient = fields.get('original-recipient');
  const reportingUa = fields.get('reporting-ua');
  return {
    kind: 'mdn',
    ...(originalMessageId === undefined ? {} : { originalMessageId }),
    finalRecipient: recipient,
    ...(originalRecipient === undefined ? {} : { originalRecipient: withoutType(originalRecipient) }),
    ...(reportingUa === undefined ? {} : { reportingUa }),
    ...(disposition.actionMode === undefined ? {} : { actionMode: disposition.actionMode }),
    ...(disposition.sendingMode === undefined ? {} : { sendingMode: disposition.sendingMode }),
    disposition: disposition.type,
    modifiers: disposition.modifiers,
    failed: disposition.modifiers.includes('error') || disposition.type === 'failed' || error !== undefined,
    ...(code === undefined ? {} : { errorCode: code }),
    ...(label === undefined || label === '' ? {} : { errorText: label }),
    ...(error === undefined ? {} : { error }),
  };
}

function dsnOf(blocks: Map<string, string>[], attachments: readonly Attachment[]): DsnAcknowledgement {
  const [perMessage, ...perRecipient] = blocks;
  const recipients: DsnRecipient[] = [];
  for (const r of perRecipient) {
    const finalRecipient = r.get('final-recipient');
    const action = DSN_ACTIONS.find((a) => a === r.get('action')?.toLowerCase());
    const status = /^[245]\.\d{1,3}\.\d{1,3}/.exec(r.get('status') ?? '')?.[0];
    if (finalRecipient === undefined || action === undefined || status === undefined) continue;
    const originalRecipient = r.get('original-recipient');
    const diagnostic = r.get('diagnostic-code');
    const remoteMta = r.get('remote-mta');
    const willRetryUntil = r.get('will-retry-until');
    recipients.push({
      finalRecipient: withoutType(finalRecipient),
      ...(originalRecipient === undefined ? {} : { originalRecipient: withoutType(originalRecipient) }),
      action,
      status,
      ...(diagnostic === undefined ? {} : { diagnostic }),
      ...(remoteMta === undefined ? {} : { remoteMta: withoutType(remoteMta) }),
      ...(willRetryUntil === undefined ? {} : { willRetryUntil }),
    });
  }
  const originalMessageId = originalMessageIdOf(attachments);
  const envelopeId = perMessage?.get('original-envelope-id');
  const reportingMta = perMessage?.get('reporting-mta');
  return {
    kind: 'dsn',
    ...(originalMessageId === undefined ? {} : { originalMessageId }),
    ...(envelopeId === undefined ? {} : { envelopeId }),
    ...(reportingMta === undefined ? {} : { reportingMta: withoutType(reportingMta) }),
    recipients,
  };
}

/**
 * Reads a message of the application mailbox: an MDN or a DSN, or undefined for anything else
 * (mail that is not a multipart/report, a report of another type, one without the fields that
 * say whom and what it is about).
 */
export async function parseAcknowledgement(raw: Buffer): Promise<Acknowledgement | undefined> {
  // keepDeliveryStatus: without it mailparser folds message/delivery-status into the text body.
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, keepDeliveryStatus: true });
  const contentType = structured(parsed.headers.get('content-type'));
  if (contentType?.value.toLowerCase() !== 'multipart/report') return undefined;
  const reportType = (contentType.params['report-type'] ?? '').toLowerCase();
  const part = (types: readonly string[]): Attachment | undefined => parsed.attachments.find((a) => types.includes(a.contentType.toLowerCase()));

  if (reportType === 'disposition-notification') {
    const notification = part(MDN_TYPES);
    if (notification === undefined) return undefined;
    const [fields] = fieldBlocks(notification.content.toString('utf8'));
    const from = firstAddress(parsed.from);
    return mdnOf(fields ?? new Map<string, string>(), parsed.attachments, { ...(from === undefined ? {} : { from }), ...(parsed.inReplyTo === undefined ? {} : { inReplyTo: parsed.inReplyTo }) });
  }
  if (reportType === 'delivery-status') {
    const status = part(DSN_TYPES);
    return status === undefined ? undefined : dsnOf(fieldBlocks(status.content.toString('utf8')), parsed.attachments);
  }
  return undefined;
}

/** A header mailparser reads as a value with parameters (Content-Type). */
function structured(header: HeaderValue | undefined): { value: string; params: Partial<Record<string, string>> } | undefined {
  if (typeof header !== 'object' || Array.isArray(header) || header instanceof Date || !('params' in header) || typeof header.value !== 'string') return undefined;
  return { value: header.value, params: header.params as Partial<Record<string, string>> };
}

/** A byte over 127: content that is 8bit, not 7bit (RFC 2045 §2.7). */
const NOT_ASCII = /[^\t\r\n\x20-\x7E]/;

/** RFC 5322 §3.3 date-time, as nodemailer writes Date. */
const rfc5322Date = (date: Date): string => date.toUTCString().replace(/GMT$/, '+0000');

/** A field value of a report part: one line, and no `^` inside an error's components. */
function fieldValue(what: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new PasserelleError('internal', `the ${what} of a report is one line`);
  return value;
}

/** The third part of a report (RFC 6522 §3): the original message, else its headers. */
function appendOriginal(root: MimeNode, original: { readonly messageId: string; readonly from: string; readonly to?: string; readonly subject?: string; readonly raw?: Buffer }): void {
  if (original.raw !== undefined) {
    root.createChild('message/rfc822').setHeader('Content-Transfer-Encoding', NOT_ASCII.test(original.raw.toString('latin1')) ? '8bit' : '7bit').setContent(original.raw);
    return;
  }
  const headers = [`Message-ID: ${original.messageId}`, `From: <${original.from}>`, ...(original.to === undefined ? [] : [`To: <${original.to}>`])];
  // A subject that is not ASCII would need RFC 2047 words; the headers part only has to identify the message.
  if (original.subject !== undefined && /^[\x20-\x7E]*$/.test(original.subject)) headers.push(`Subject: ${original.subject}`);
  root.createChild('text/rfc822-headers').setContent(`${headers.join('\r\n')}\r\n`);
}

export interface MdnOptions {
  readonly original: {
    readonly messageId: string;
    /** Its sender: where the MDN goes unless `to` says otherwise. */
    readonly from: string;
    /** The recipient the MDN speaks for (Original-Recipient and Final-Recipient). */
    readonly to: string;
    readonly subject?: string;
    /** The whole original: returned as message/rfc822 (struct-msg-mdn.md requires it), else only its headers are. */
    readonly raw?: Buffer;
  };
  /** Reporting-UA (RFC 8098 §3.2.1): the receiving system. */
  readonly reportingUa: string;
  readonly disposition: 'processed' | 'error';
  /** For `error`: the code and label the receiver returns (struct-msg-mdn.md: HL7 table messageErrorCondition, e.g. 902). */
  readonly error?: { readonly code: string; readonly label: string };
  readonly date: Date;
  readonly messageId: string;
  /** Default: the recipient acknowledging (`original.to`). */
  readonly from?: string;
  /** Default: the original's sender (its Disposition-Notification-To should be the same). */
  readonly to?: string;
}

/** The MDN error prefix of the subject (struct-msg-mdn.md "Objet du MDN"). */
const ERROR_SUBJECT_PREFIX = '[KO Intégration système !]';
const DEFAULT_MDN_SUBJECT = 'Accusé de traitement';

/**
 * An MDN as struct-msg-mdn.md describes it: multipart/report; report-type=disposition-notification
 * with a text/plain for people (with the error's code and label), the message/disposition-notification
 * fields (Reporting-UA, Original-Recipient, Final-Recipient, Original-Message-ID, Disposition), and
 * the original. The subject is the original's, prefixed `[KO Intégration système !][code]` on error.
 */
export function buildMdn(o: MdnOptions): Promise<Buffer> {
  if (!isMessageId(o.messageId) || !isMessageId(o.original.messageId)) throw new PasserelleError('internal', 'an MDN and the message it acknowledges need Message-IDs of the form <left@right>');
  if (o.disposition === 'error' && o.error === undefined) throw new PasserelleError('internal', 'an error MDN needs the error\'s code and label');
  const error = o.disposition === 'error' ? o.error : undefined;
  if (error !== undefined && (error.code.includes('^') || error.label.includes('^') || error.code.trim() === '')) throw new PasserelleError('internal', 'an MDN error is a code and a label without ^');
  const recipient = fieldValue('recipient', o.original.to);
  const disposition = `automatic-action/MDN-sent-automatically; processed${error === undefined ? '' : `/Error: ${fieldValue('error code', error.code)}^${fieldValue('error label', error.label)}`}`;
  const subject = error === undefined ? o.original.subject ?? DEFAULT_MDN_SUBJECT : `${ERROR_SUBJECT_PREFIX}[${error.code}] ${o.original.subject ?? DEFAULT_MDN_SUBJECT}`;

  const root = new MimeNode('multipart/report; report-type=disposition-notification', { newline: 'win' });
  root.setHeader({
    From: o.from ?? recipient,
    To: o.to ?? o.original.from,
    Subject: subject,
    Date: o.date,
    'Message-ID': o.messageId,
    'In-Reply-To': o.original.messageId,
    References: o.original.messageId,
    // RFC 3834 §5: an automatic answer, which no robot should answer in turn.
    'Auto-Submitted': 'auto-replied',
  });
  root.createChild('text/plain; charset=utf-8').setContent(error === undefined
    ? `Le message ${o.original.messageId} a été traité automatiquement pour ${recipient}.\r\n`
    : `Le message ${o.original.messageId} n'a pas pu être intégré automatiquement pour ${recipient}.\r\nLe système a retourné l'erreur ${error.code}^${error.label}\r\n`);
  const fields = [
    `Reporting-UA: ${fieldValue('Reporting-UA', o.reportingUa)}`,
    `Original-Recipient: rfc822;${recipient}`,
    `Final-Recipient: rfc822;${recipient}`,
    `Original-Message-ID: ${o.original.messageId}`,
    `Disposition: ${disposition}`,
  ].join('\r\n');
  // The fields are 7-bit unless an error label has accents; an 8bit part keeps them readable as
  // French receivers write them (struct-msg-mdn.md's example is 8bit).
  root.createChild('message/disposition-notification').setHeader('Content-Transfer-Encoding', NOT_ASCII.test(fields) ? '8bit' : '7bit').setContent(`${fields}\r\n`);
  appendOriginal(root, o.original);
  return root.build();
}

/** A recipient of a DSN to write: the fields a DSN is read into, with its times as dates. */
export interface DsnRecipientReport extends Omit<DsnRecipient, 'willRetryUntil'> {
  readonly lastAttemptDate?: Date;
  readonly willRetryUntil?: Date;
}

export interface DsnOptions {
  /** Reporting-MTA host name (RFC 3464 §2.2.2). */
  readonly reportingMta: string;
  /** The DSN's sender, e.g. MAILER-DAEMON@<reporting MTA>. */
  readonly from: string;
  /** The original's envelope sender. */
  readonly to: string;
  readonly original: { readonly messageId: string; readonly from: string; readonly subject?: string; readonly raw?: Buffer };
  /** The ENVID the message came with (RFC 3461 §4.4). */
  readonly envelopeId?: string;
  readonly arrivalDate?: Date;
  readonly recipients: readonly DsnRecipientReport[];
  readonly date: Date;
  readonly messageId: string;
}

const DSN_SUBJECT: Readonly<Record<DsnAction, string>> = {
  failed: 'Avis de non-remise',
  delayed: 'Avis de retard de remise',
  delivered: 'Avis de remise',
  relayed: 'Avis de relais',
  expanded: 'Avis de remise',
};

/**
 * A DSN (RFC 3464) for the sandbox's delayed and failed notices: multipart/report;
 * report-type=delivery-status with a text, the message/delivery-status fields (per message, then
 * per recipient) and the original's headers (or the original, when given: RET=FULL).
 */
export function buildDsn(o: DsnOptions): Promise<Buffer> {
  if (!isMessageId(o.messageId) || !isMessageId(o.original.messageId)) throw new PasserelleError('internal', 'a DSN and the message it reports on need Message-IDs of the form <left@right>');
  if (o.recipients.length === 0) throw new PasserelleError('internal', 'a DSN reports on at least one recipient');
  for (const r of o.recipients) if (!/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status)) throw new PasserelleError('internal', `the DSN status "${r.status}" is not an RFC 3463 code`);
  const first = o.recipients[0]?.action ?? 'failed';
  const perMessage = [
    `Reporting-MTA: dns; ${fieldValue('Reporting-MTA', o.reportingMta)}`,
    ...(o.envelopeId === undefined ? [] : [`Original-Envelope-Id: ${fieldValue('envelope id', o.envelopeId)}`]),
    ...(o.arrivalDate === undefined ? [] : [`Arrival-Date: ${rfc5322Date(o.arrivalDate)}`]),
  ];
  const perRecipient = o.recipients.map((r) => [
    ...(r.originalRecipient === undefined ? [] : [`Original-Recipient: rfc822;${fieldValue('recipient', r.originalRecipient)}`]),
    `Final-Recipient: rfc822;${fieldValue('recipient', r.finalRecipient)}`,
    `Action: ${r.action}`,
    `Status: ${r.status}`,
    ...(r.remoteMta === undefined ? [] : [`Remote-MTA: dns; ${fieldValue('Remote-MTA', r.remoteMta)}`]),
    ...(r.diagnostic === undefined ? [] : [`Diagnostic-Code: ${fieldValue('diagnostic', r.diagnostic)}`]),
    ...(r.lastAttemptDate === undefined ? [] : [`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptDate)}`]),
    ...(r.willRetryUntil === undefined ? [] : [`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`]),
  ].join('\r\n'));

  const root = new MimeNode('multipart/report; report-type=delivery-status', { newline: 'win' });
  root.setHeader({
    From: o.from,
    To: o.to,
    Subject: DSN_SUBJECT[first],
    Date: o.date,
    'Message-ID': o.messageId,
    'Auto-Submitted': 'auto-replied',
  });
  const lines = o.recipients.map((r) => `- ${r.finalRecipient} : ${r.action} (${r.status})`);
  root.createChild('text/plain; charset=utf-8').setContent(`Rapport de remise du message ${o.original.messageId} :\r\n${lines.join('\r\n')}\r\n`);
  root.createChild('message/delivery-status').setHeader('Content-Transfer-Encoding', '7bit').setContent(`${[perMessage.join('\r\n'), ...perRecipient].join('\r\n\r\n')}\r\n`);
  appendOriginal(root, o.original);
  return root.build();
}
