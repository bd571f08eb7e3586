/**
 * Sending a report by MSSanté, and reading what comes back (french-specs §4): the recipients from
 * the act report, the IHE XDM archive of the CDA (and its PDF), one MIME message from the
 * application mailbox to all of them with a stable Message-ID, sent over SMTP with the mailbox's
 * TLS client certificate; then the mailbox read over IMAP for the MDNs and DSNs that name it.
 * Per-recipient refusals are data (with their classification); a failure of the whole
 * transaction is thrown as a TransportError.
 */
import { readCdaHeader } from '../../cda/read-header.js';
import type { ActReport } from '../../domain/act-report.js';
import { buildXdmZip, xdmPackageOfCda } from '../../xdm/build-xdm.js';
import { documentInvalid } from '../../xds/map-cda.js';
import type { Code } from '../../xds/model.js';
import { parseAcknowledgement } from './acknowledgements.js';
import { fetchNewMessages, type ImapTarget } from './imap-reader.js';
import { buildMssMessage, describeReport, stableMessageId } from './message.js';
import { recipientsOf, type Recipient, type RecipientProblemCode, type RecipientRole } from './recipients.js';
import { sendMessage, type SmtpTarget } from './smtp-client.js';

export interface MssClientOptions {
  readonly smtp: SmtpTarget;
  readonly imap?: ImapTarget;
  /** The application mailbox (BAL applicative). */
  readonly from: string;
  readonly fromName?: string;
  readonly requestAcknowledgement: boolean;
  readonly attachPdf: boolean;
  /** Other X-MSS-* headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The XDS values of the archive's metadata (configuration: dmp.sourceId, dmp.contentTypeCode). */
  readonly sourceId: string;
  readonly contentTypeCode: Code;
  /** MSSanté domains recipients must be in; empty: any (a sandbox with its own). */
  readonly mssanteDomains?: readonly string[];
  readonly clock?: () => Date;
}

export interface MssRecipientOutcome {
  readonly role: RecipientRole;
  readonly address?: string;
  /** `mss:<address>`, or `mss:<role>` for a recipient without a usable address. */
  readonly destination: string;
  readonly status: 'sent' | 'retrying' | 'failed';
  /** The SMTP reply (`550 5.1.1`), or the recipient problem (`NO_MSSANTE_ADDRESS`). */
  readonly code?: string;
  readonly retryable?: boolean;
}

export interface MssSendOutcome {
  readonly messageId: string;
  readonly recipients: readonly MssRecipientOutcome[];
}

/** One recipient's acknowledgement, from an MDN or a DSN. */
export interface RecipientAcknowledgement {
  readonly originalMessageId: string;
  readonly recipient: string;
  readonly outcome: 'delivered' | 'failed' | 'delayed';
  /** mdn-processed, mdn-displayed, mdn-error, dsn-delivered, dsn-failed, dsn-delayed… */
  readonly acknowledgement: string;
  readonly code?: string;
}

export interface SendRequest {
  readonly submissionId: string;
  readonly report: ActReport;
  readonly cda: Buffer;
  readonly pdf?: Buffer;
  /**
   * Only these destinations (`mss:<address>`): a new attempt goes to the recipients still waiting,
   * not again to those who got it. All of the report's recipients when absent.
   */
  readonly destinations?: readonly string[];
}

/** The delivery a recipient's mailbox is followed under: `mss:` and its address, lower-cased. */
export const mssDestination = (address: string): string => `mss:${address.toLowerCase()}`;

export class MssClient {
  private readonly clock: () => Date;

  constructor(private readonly options: MssClientOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Who the report goes to: the recipients that can be written to, and the failed outcome of each
   * one that cannot (no address, not an MSSanté address…), under its role.
   */
  recipients(report: ActReport): { readonly recipients: readonly Recipient[]; readonly unreachable: readonly MssRecipientOutcome[] } {
    const { recipients, problems } = recipientsOf(report, this.options.mssanteDomains === undefined ? {} : { mssanteDomains: this.options.mssanteDomains });
    const unreachable = problems.map((p): MssRecipientOutcome => ({ role: p.role, destination: `mss:${p.role}${p.index === undefined ? '' : `-${String(p.index)}`}`, status: 'failed', code: p.code satisfies RecipientProblemCode, retryable: false }));
    return { recipients, unreachable };
  }

  async send(request: SendRequest): Promise<MssSendOutcome> {
    const now = this.clock();
    const planned = this.recipients(request.report);
    const wanted = request.destinations === undefined ? undefined : new Set(request.destinations);
    const recipients = planned.recipients.filter((r) => wanted === undefined || wanted.has(mssDestination(r.address)));
    const unreachable = planned.unreachable.filter((u) => wanted === undefined || wanted.has(u.destination));
    const messageId = stableMessageId(request.submissionId, this.options.from.slice(this.options.from.indexOf('@') + 1));
    if (recipients.length === 0) return { messageId, recipients: unreachable };

    let header;
    let zip: Buffer;
    try {
      header = readCdaHeader(request.cda);
      const pkg = xdmPackageOfCda(request.cda, { ...(request.pdf === undefined ? {} : { pdf: request.pdf }), sourceId: this.options.sourceId, contentTypeCode: this.options.contentTypeCode, now, header });
      zip = buildXdmZip(pkg, { producer: { name: 'Passerelle' }, contact: this.options.from });
    } catch (error) {
      throw documentInvalid(error, 'the document to send') ?? error;
    }
    const { subject, bodyText } = describeReport({
      documentType: header.code.displayName ?? header.code.code,
      actDate: request.report.act.start,
      structureName: request.report.organization.name,
      pdfAttached: this.options.attachPdf && request.pdf !== undefined,
      replacement: header.relatedDocuments.some((r) => r.typeCode === 'RPLC'),
    });
    const raw = await buildMssMessage({
      from: this.options.from,
      ...(this.options.fromName === undefined ? {} : { fromName: this.options.fromName }),
      to: recipients.map((r) => r.address),
      messageId,
      subject,
      bodyText,
      xdm: zip,
      ...(this.options.attachPdf && request.pdf !== undefined ? { pdf: { content: request.pdf, fileName: 'compte-rendu.pdf' } } : {}),
      cdaCodes: [header.code.code],
      extraHeaders: this.options.headers,
      ...(this.options.requestAcknowledgement ? { dispositionNotificationTo: this.options.from } : {}),
      date: now,
    });
    const result = await sendMessage(this.options.smtp, { from: this.options.from, to: recipients.map((r) => r.address) }, raw);
    const sent = recipients.map((recipient): MssRecipientOutcome => {
      const r = result.recipients.find((x) => x.address.toLowerCase() === recipient.address.toLowerCase());
      const base = { role: recipient.role, address: recipient.address, destination: mssDestination(recipient.address) };
      if (r === undefined || r.accepted) return { ...base, status: 'sent' };
      const code = [r.replyCode, r.enhancedCode].filter((x) => x !== undefined).join(' ');
      return { ...base, status: r.retryable === true ? 'retrying' : 'failed', ...(code === '' ? {} : { code }), retryable: r.retryable === true };
    });
    return { messageId: result.messageId, recipients: [...sent, ...unreachable] };
  }

  /** The acknowledgements that arrived in the application mailbox after `sinceUid`. */
  async acknowledgements(sinceUid = 0, uidValidity?: number): Promise<{ acknowledgements: RecipientAcknowledgement[]; lastUid: number; uidValidity: number }> {
    if (this.options.imap === undefined) throw new Error('no IMAP server is configured for the application mailbox');
    const fetched = await fetchNewMessages(this.options.imap, { sinceUid, ...(uidValidity === undefined ? {} : { uidValidity }) });
    const acknowledgements: RecipientAcknowledgement[] = [];
    for (const message of fetched.messages) {
      const ack = await parseAcknowledgement(message.raw);
      if (ack?.originalMessageId === undefined) continue;
      const originalMessageId = ack.originalMessageId;
      if (ack.kind === 'mdn') {
        acknowledgements.push({
          originalMessageId,
          recipient: ack.finalRecipient,
          outcome: ack.failed ? 'failed' : 'delivered',
          acknowledgement: `mdn-${ack.failed ? 'error' : ack.disposition}`,
          ...(ack.errorCode === undefined ? {} : { code: ack.errorCode }),
        });
      } else {
        for (const r of ack.recipients) {
          if (r.action !== 'failed' && r.action !== 'delayed' && r.action !== 'delivered') continue;
          acknowledgements.push({ originalMessageId, recipient: r.finalRecipient, outcome: r.action, acknowledgement: `dsn-${r.action}`, code: r.status });
        }
      }
    }
    return { acknowledgements, lastUid: fetched.lastUid, uidValidity: fetched.uidValidity };
  }
}
