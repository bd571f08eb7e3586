/**
 * SMTP failures classified once, as the DMP's are (src/transports/soap/transport-error.ts):
 * retryable or permanent.
 *
 * Replies: RFC 5321 §4.2.1, a 4yz reply is a transient negative completion (the same command may
 * succeed later), a 5yz a permanent one. RFC 3463 enhanced status codes (`5.1.1`) are kept as they
 * come, for the operator and the per-recipient status, but the basic code decides: RFC 3463 §2
 * makes their classes agree, and when a server gets that wrong the basic code is the one every
 * SMTP client acts on.
 *
 * Errors of nodemailer's SMTP connection: its own `code` (ESOCKET, ETLS, ECONNECTION, EENVELOPE…)
 * says where it failed, `originalCode` keeps the Node/OpenSSL code, `response` the server's reply,
 * `timeoutType` which time-out fired. A reply is classified by its code; a socket or TLS error by
 * transport-error.ts's classifySocketError, so that SMTP and SOAP agree on what a refused
 * certificate or a reset means; messages are never read.
 */
import { TransportError, classifySocketError, messageTooLarge, type CallPhase, type TransportFailureKind } from '../soap/transport-error.js';

export interface SmtpReply {
  /** Basic reply code, RFC 5321 §4.2. */
  readonly code: number;
  /** RFC 3463 `class.subject.detail`, when the server sent one. */
  readonly enhancedCode?: string;
  /** The reply's text after the codes, its lines joined by spaces. */
  readonly text: string;
}

/** RFC 5321 §4.2: three digits, the first 2–5; RFC 3463 §2: class 2, 4 or 5, subject and detail of 1–3 digits. */
const REPLY = /^([2-5][0-5][0-9])(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?(?:[ -](.*))?$/;

/** Reads a server reply as nodemailer hands it over (its lines joined by newlines). */
export function parseSmtpReply(reply: string): SmtpReply | undefined {
  const lines = reply.split(/\r?\n/).filter((l) => l.trim() !== '');
  const first = REPLY.exec(lines[0] ?? '');
  if (first === null) return undefined;
  const code = Number(first[1]);
  const text = lines.map((l) => {
    const m = REPLY.exec(l);
    return (m === null ? l : (m[3] ?? '')).trim();
  }).filter((t) => t !== '').join(' ');
  return { code, ...(first[2] === undefined ? {} : { enhancedCode: first[2] }), text };
}

/** RFC 5321 §4.2.1: 4yz transient, 5yz permanent; anything else is not a failure. */
export function isRetryableReplyCode(code: number): boolean {
  return code >= 400 && code < 500;
}

/** Of a server's reply kept in an error: enough to tell refusals apart, not a whole dump. */
const MAX_REPLY_CHARS = 300;

const SMTP_REPLY_KIND: TransportFailureKind = 'smtp-reply';

/** The server refused the transaction (greeting, EHLO, STARTTLS, AUTH, MAIL FROM, DATA) with a 4yz or 5yz reply. */
export class SmtpReplyError extends TransportError {
  readonly replyCode: number;
  readonly enhancedCode?: string;
  /** The SMTP command the reply answered, as nodemailer names it (`MAIL FROM`, `DATA`, `CONN` for the greeting…). */
  readonly command: string;

  constructor(reply: SmtpReply, command: string, cause?: unknown) {
    const codes = reply.enhancedCode === undefined ? String(reply.code) : `${String(reply.code)} ${reply.enhancedCode}`;
    super(SMTP_REPLY_KIND, isRetryableReplyCode(reply.code), `the MSSanté server answered ${codes} to ${command}: ${reply.text.slice(0, MAX_REPLY_CHARS)}`, { causeCode: codes, ...(cause === undefined ? {} : { cause }) });
    this.replyCode = reply.code;
    if (reply.enhancedCode !== undefined) this.enhancedCode = reply.enhancedCode;
    this.command = command;
  }
}

/** The fields of a nodemailer error this module reads (nodemailer/lib/errors: NodemailerError). */
interface SmtpConnectionError {
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly response?: unknown;
  readonly command?: unknown;
  readonly timeoutType?: unknown;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** nodemailer's time-outs (timeoutType), each for one phase of the session. */
const TIMEOUTS: Readonly<Record<string, { kind: TransportFailureKind; what: string }>> = {
  CONNECT_TIMEOUT: { kind: 'connect-timeout', what: 'no connection within the connect time-out' },
  GREETING_TIMEOUT: { kind: 'response-timeout', what: 'no SMTP greeting within the greeting time-out' },
  UPGRADE_TIMEOUT: { kind: 'tls-handshake', what: 'no TLS session after STARTTLS within the greeting time-out' },
  SOCKET_TIMEOUT: { kind: 'response-timeout', what: 'the server went silent for longer than the socket time-out' },
};

/**
 * Classifies a failure of an SMTP session; a TransportError is returned as it is. `phase` is where
 * the session was: 'connect' before the TCP connection, 'tls' during a handshake (implicit TLS
 * or STARTTLS), 'response' afterwards. It refines what a reset means, as for SOAP.
 */
export function classifySmtpError(error: unknown, phase: CallPhase): TransportError {
  if (error instanceof TransportError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SmtpConnectionError;
  const code = str(e.code);
  const response = str(e.response);
  const reply = response === undefined ? undefined : parseSmtpReply(response);
  if (reply !== undefined && reply.code >= 400) return new SmtpReplyError(reply, str(e.command) ?? 'the session', error);

  if (code === 'ETIMEDOUT') {
    const timeout = TIMEOUTS[str(e.timeoutType) ?? ''];
    // With implicit TLS the connect time-out also covers the handshake.
    const kind = timeout?.kind === 'connect-timeout' && phase === 'tls' ? 'tls-handshake' : timeout?.kind ?? 'response-timeout';
    return new TransportError(kind, true, timeout?.what ?? 'the SMTP session timed out', { causeCode: 'ETIMEDOUT', cause: error });
  }
  // A Node or OpenSSL error under nodemailer's own code: the socket's verdict, as for SOAP.
  const original = str(e.originalCode);
  if (original !== undefined) return classifySocketError(Object.assign(new Error('SMTP socket error', { cause: error }), { code: original }), phase);
  if (code === 'ECONNECTION' || code === 'ETLS') {
    // "Connection closed unexpectedly": the server hung up without a reply. During a handshake,
    // a Node server refusing our certificate does just that (transport-error.ts).
    const inHandshake = phase === 'tls' || code === 'ETLS';
    return new TransportError(inHandshake ? 'tls-handshake' : 'reset', true, inHandshake ? 'the MSSanté server closed the connection during the TLS handshake' : 'the MSSanté server closed the connection before the end of the transaction', { causeCode: code, cause: error });
  }
  // Refused before MAIL FROM was sent: the message is over the SIZE the server announced (RFC 1870).
  if (code === 'EMESSAGE' && str(e.command) === 'MAIL FROM') return messageTooLarge('the message is larger than the MSSanté server accepts (its EHLO SIZE)');
  if (code === 'EPROTOCOL') return new TransportError('malformed-response', false, 'the MSSanté server\'s reply is not SMTP', { causeCode: code, cause: error });
  return classifySocketError(error, phase);
}
