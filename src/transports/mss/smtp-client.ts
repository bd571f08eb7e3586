/**
 * One SMTP transaction to the MSSanté operator, over TLS, authenticated by the BAL applicative's
 * TLS client certificate (an ORG AUTH_CLI-like IGC-Santé certificate, french-specs §3.6 and §4),
 * with nodemailer's SMTP connection.
 *
 * - TLS always: implicit (`secure`, submissions over TLS, RFC 8314 §3.3, port 465) or STARTTLS
 *   required (RFC 3207): a server that does not offer STARTTLS, or fails it, ends the session
 *   before any command of the transaction; never plaintext.
 * - The server's certificate is verified against the configured CA bundle only (Ref#2 ECO.1.1.10:
 *   IGC Santé is the only CA allowed), and must name the host; TLS 1.2 at least.
 * - SASL EXTERNAL (RFC 4422 appendix A, RFC 4954): nodemailer has no EXTERNAL mechanism of its
 *   own but lets a client add one (`customAuth`); it is used as `saslExternal` says. Which
 *   operators want it after the client certificate is [UNVERIFIED] (french-specs §4).
 * - Per-recipient RCPT TO replies come back as data (4yz retryable, 5yz permanent, enhanced codes
 *   kept); a failure of the transaction as a whole (connection refused, TLS refused, a 4yz/5yz
 *   reply to the greeting, STARTTLS, AUTH, MAIL FROM or DATA, a dropped connection, a time-out)
 *   is thrown as a TransportError, classified once (smtp-classify.ts).
 * - No retries here: the pipeline decides. A connection dropped after the message's final dot
 *   but before the server's reply (RFC 5321 §4.1.1.4; RFC 1047) may have delivered it: the retry
 *   sends the same Message-ID again, which lets the receiver spot the duplicate.
 *
 * nodemailer's logger stays off: with `debug` it would log the message, which is health data.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionCustomAuthContext, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';
import { PasserelleError } from '../../domain/errors.js';
import { verifiedTlsOptions, type TlsClientOptions } from '../soap/http-client.js';
import { TransportError, type CallPhase } from '../soap/transport-error.js';
import { messageIdOf } from './message.js';
import { isMailboxAddress } from './recipients.js';
import { classifySmtpError, isRetryableReplyCode, parseSmtpReply } from './smtp-classify.js';


export interface SmtpTimeouts {
  /**
   * From the DNS lookup until the session is ready: TCP, the implicit TLS handshake, the
   * greeting and a STARTTLS upgrade (nodemailer's connectionTimeout bounds them all).
   */
  readonly connectMs: number;
  /** The greeting, and again the TLS handshake after STARTTLS, each (within connectMs). */
  readonly greetingMs: number;
  /** Longest silence of the server once the session is ready. */
  readonly socketMs: number;
  /** The whole transaction, so that a server trickling its replies cannot hold it for ever. Default: none. */
  readonly totalMs?: number;
}

/** 'if-offered': AUTH EXTERNAL when the EHLO reply lists it; 'always': even when it does not (the server's refusal ends the session). */
export type SaslExternalUse = 'never' | 'if-offered' | 'always';

export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  /** true: TLS from the first byte (RFC 8314); false: STARTTLS, required. */
  readonly secure: boolean;
  /** The BAL applicative's certificate and key, and the CAs the server's certificate must chain to. */
  readonly tls: TlsClientOptions;
  readonly timeouts: SmtpTimeouts;
  /** Default 'if-offered'. */
  readonly saslExternal?: SaslExternalUse;
  /** The name given in EHLO (RFC 5321 §4.1.1.1); default: the machine's host name, as nodemailer finds it. */
  readonly clientName?: string;
}

/** RFC 3461 DSN parameters: what the operator reports back, and the envelope id its DSNs quote. */
export interface DsnRequest {
  /** NOTIFY (RFC 3461 §4.1); ['NEVER'] asks for none. */
  readonly notify: readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[] | readonly ['NEVER'];
  /** RET (§4.3): the headers only keep health data out of the DSN. */
  readonly ret?: 'HDRS' | 'FULL';
  /** ENVID (§4.4), quoted back as Original-Envelope-Id: the submission id. */
  readonly envelopeId?: string;
}

export interface SmtpEnvelope {
  readonly from: string;
  readonly to: readonly string[];
  /** Sent only when the server announces DSN (RFC 3461). */
  readonly dsn?: DsnRequest;
}

export interface RecipientResult {
  readonly address: string;
  readonly accepted: boolean;
  /** The refusal's reply for a refused recipient; the server's reply to the message for an accepted one. */
  readonly replyCode?: number;
  readonly enhancedCode?: string;
  readonly reply?: string;
  /** For a refused recipient: whether it may be accepted later (4yz). */
  readonly retryable?: boolean;
}

export interface SendResult {
  /** The message's Message-ID, as its header has it. */
  readonly messageId: string;
  readonly recipients: RecipientResult[];
  /** The server's reply to the message data (`250 2.0.0 queued as …`); absent when every recipient was refused, so nothing was sent. */
  readonly reply?: string;
}

/** The fields of nodemailer's recipient refusals (EENVELOPE at RCPT TO) read here. */
interface Refusal {
  readonly recipient?: unknown;
  readonly response?: unknown;
}

/** RFC 4954 §4: "=" is an empty initial response; the identity is the certificate's. */
const AUTH_EXTERNAL = 'AUTH EXTERNAL =';
const AUTH_SUCCEEDED = 235;
const AUTH_CONTINUE = 334;

async function authenticateExternal(ctx: SMTPConnectionCustomAuthContext): Promise<void> {
  let reply = await ctx.sendCommand(AUTH_EXTERNAL);
  // A server that ignores the initial response asks for it: it is empty.
  if (reply.status === AUTH_CONTINUE) reply = await ctx.sendCommand('');
  if (reply.status !== AUTH_SUCCEEDED) throw new Error('AUTH EXTERNAL was refused');
}

/** Whether an EHLO reply lists EXTERNAL among its AUTH mechanisms (RFC 4954 §3). */
export function offersSaslExternal(ehloReply: string): boolean {
  return ehloReply.split(/\r?\n/).some((line) => {
    const auth = /^\d{3}[ -]AUTH[ =](.*)$/i.exec(line.trim());
    return auth !== null && (auth[1] ?? '').toUpperCase().split(/[\s=]+/).includes('EXTERNAL');
  });
}

function resultOfRefusal(refusal: Refusal): RecipientResult {
  const address = typeof refusal.recipient === 'string' ? refusal.recipient : '';
  const response = typeof refusal.response === 'string' ? refusal.response : '';
  const reply = parseSmtpReply(response);
  if (reply === undefined) return { address, accepted: false, reply: response, retryable: true };
  return { address, accepted: false, replyCode: reply.code, ...(reply.enhancedCode === undefined ? {} : { enhancedCode: reply.enhancedCode }), reply: response, retryable: isRetryableReplyCode(reply.code) };
}

/** One result per envelope recipient, in envelope order. */
function recipientResults(to: readonly string[], accepted: readonly string[], refused: readonly Refusal[], messageReply?: string): RecipientResult[] {
  const parsed = messageReply === undefined ? undefined : parseSmtpReply(messageReply);
  const acceptedResult = (address: string): RecipientResult => ({
    address,
    accepted: true,
    ...(parsed === undefined ? {} : { replyCode: parsed.code, ...(parsed.enhancedCode === undefined ? {} : { enhancedCode: parsed.enhancedCode }) }),
    ...(messageReply === undefined ? {} : { reply: messageReply }),
  });
  const refusals = new Map(refused.map((r) => [typeof r.recipient === 'string' ? r.recipient : '', r]));
  return to.map((address) => {
    const refusal = refusals.get(address);
    if (refusal !== undefined) return resultOfRefusal(refusal);
    // nodemailer files every recipient as accepted or refused; one it did not is counted refused, never delivered.
    return accepted.includes(address) ? acceptedResult(address) : { address, accepted: false, retryable: true };
  });
}

function checkEnvelope(envelope: SmtpEnvelope, raw: Buffer): string {
  const bad = [envelope.from, ...envelope.to].filter((a) => !isMailboxAddress(a));
  if (envelope.to.length === 0 || bad.length > 0) throw new PasserelleError('internal', `the SMTP envelope needs a sender and recipients that are mailbox addresses (${String(bad.length)} are not)`);
  const messageId = messageIdOf(raw);
  if (messageId === undefined) throw new PasserelleError('internal', 'the message to send has no Message-ID');
  return messageId;
}

/**
 * Sends `raw` (a complete RFC 5322 message, as buildMssMessage makes it) to the envelope's
 * recipients in one SMTP transaction, then QUIT.
 */
export async function sendMessage(target: SmtpTarget, envelope: SmtpEnvelope, raw: Buffer): Promise<SendResult> {
  const messageId = checkEnvelope(envelope, raw);
  const connection = new SMTPConnection({
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: true,
    ...(target.clientName === undefined ? {} : { name: target.clientName }),
    connectionTimeout: target.timeouts.connectMs,
    greetingTimeout: target.timeouts.greetingMs,
    socketTimeout: target.timeouts.socketMs,
    logger: false,
    debug: false,
    tls: verifiedTlsOptions(target.tls),
    ...(target.tls.servername === undefined ? {} : { servername: target.tls.servername }),
    customAuth: { EXTERNAL: authenticateExternal },
  });

  // Where the session is, for what a reset means (smtp-classify.ts).
  const phase = (): CallPhase => {
    if (connection.upgrading === true) return 'tls';
    if (connection.stage === 'init') return target.secure ? 'tls' : 'connect';
    return 'response';
  };
  let timer: NodeJS.Timeout | undefined;
  // Whatever ends the session early: an error event, the server hanging up, the total time-out.
  const broken = new Promise<never>((_resolve, reject) => {
    // on(), not once(): a socket may report a second error while the connection closes.
    connection.on('error', reject);
    connection.once('end', () => { reject(Object.assign(new Error('the server closed the connection'), { code: 'ECONNECTION' })); });
    if (target.timeouts.totalMs !== undefined) {
      const totalMs = target.timeouts.totalMs;
      timer = setTimeout(() => { reject(new TransportError('response-timeout', true, `the SMTP transaction took longer than ${String(totalMs)} ms`)); }, totalMs);
    }
  });
  // Settled after the transaction too (the 'end' of QUIT): nobody waits on it then.
  broken.catch(() => undefined);
  const step = <T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
    Promise.race([
      new Promise<T>((resolve, reject) => {
        run((error, value) => {
          if (error) reject(error);
          else resolve(value as T);
        });
      }),
      broken,
    ]);

  try {
    await step<undefined>((done) => { connection.connect((error) => { done(error); }); });
    const useExternal = target.saslExternal ?? 'if-offered';
    const ehlo = typeof connection.lastServerResponse === 'string' ? connection.lastServerResponse : '';
    if (useExternal === 'always' || (useExternal === 'if-offered' && offersSaslExternal(ehlo))) {
      await step<boolean>((done) => { connection.login({ method: 'EXTERNAL' }, (error, ok) => { done(error, ok); }); });
    }
    const smtpEnvelope = {
      from: envelope.from,
      to: [...envelope.to],
      size: raw.length,
      ...(envelope.dsn === undefined ? {} : { dsn: { notify: [...envelope.dsn.notify], ...(envelope.dsn.ret === undefined ? {} : { ret: envelope.dsn.ret }), ...(envelope.dsn.envelopeId === undefined ? {} : { envid: envelope.dsn.envelopeId }) } }),
    };
    let info: SMTPConnectionSendInfo;
    try {
      info = await step<SMTPConnectionSendInfo>((done) => { connection.send(smtpEnvelope, raw, (error, value) => { done(error, value); }); });
    } catch (error) {
      // Every recipient refused: per-recipient results, not a failure of the transaction.
      const all = error as { code?: unknown; command?: unknown; rejectedErrors?: unknown };
      if (all.code === 'EENVELOPE' && all.command === 'RCPT TO' && Array.isArray(all.rejectedErrors)) {
        connection.quit();
        return { messageId, recipients: recipientResults(envelope.to, [], all.rejectedErrors as Refusal[]) };
      }
      throw error;
    }
    connection.quit();
    return { messageId, recipients: recipientResults(envelope.to, info.accepted, info.rejectedErrors ?? [], info.response), reply: info.response };
  } catch (error) {
    const at = phase();
    connection.close();
    throw classifySmtpError(error, at);
  } finally {
    clearTimeout(timer);
  }
}
