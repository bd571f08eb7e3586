/**
 * Reads the application mailbox (BAL applicative) over IMAPS (RFC 9051/3501 over implicit TLS,
 * RFC 8314) with the same TLS client certificate as SMTP: where the acknowledgements (MDN,
 * DSN) of the sent reports come back (french-specs §4).
 *
 * New messages are found by UID, not by the \Seen flag: the caller remembers the last UID it
 * processed (with the mailbox's UIDVALIDITY, without which a UID means nothing, RFC 3501 §2.3.1.1)
 * and asks for the UIDs above it; reading opens the mailbox read-only and changes no flag. Once
 * processed, messages can be marked \Seen or moved aside with `markProcessed`.
 *
 * Authentication: the certificate is the credential. imapflow knows no SASL EXTERNAL, so it logs
 * in with AUTHENTICATE PLAIN: the server takes the identity from the certificate and checks no
 * password (Dovecot's auth_ssl_username_from_cert with a passdb without password, as the sandbox,
 * src/sim/mss/dovecot.ts). [UNVERIFIED] the SASL mechanism an MSSanté operator expects for an
 * application mailbox (french-specs §4: not published).
 *
 * Every failure is a TransportError: network and TLS as the SOAP transport classifies them,
 * IMAP refusals by their response code (RFC 5530).
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { verifiedTlsOptions, type TlsClientOptions } from '../soap/http-client.js';
import { TransportError, classifySocketError, type CallPhase } from '../soap/transport-error.js';

export interface ImapTarget {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (IMAPS, 993): the only mode offered. */
  readonly secure: true;
  /** Our certificate (ORG AUTH_CLI) and its chain, and the CAs the server's must chain to. */
  readonly tls: TlsClientOptions;
  /** The application mailbox's address, sent as the login name (a certificate-authenticating server replaces it). */
  readonly user: string;
  readonly timeouts: {
    /** TCP connection and TLS handshake together. */
    readonly connectMs: number;
    /** Longest silence of the server, greeting included. */
    readonly socketMs: number;
  };
}

export interface FetchedMessage {
  readonly uid: number;
  /** The message as stored (RFC 5322), byte for byte. */
  readonly raw: Buffer;
}

export interface NewMessages {
  /** By increasing UID. */
  readonly messages: readonly FetchedMessage[];
  /** The highest UID seen (fetched or oversized), or the `sinceUid` given when there is none: the next call's `sinceUid`. */
  readonly lastUid: number;
  /** The mailbox's UIDVALIDITY, to give back with `lastUid`. */
  readonly uidValidity: number;
  /** Messages over `maxMessageBytes`, left unread: no acknowledgement is that big, and they must not block the ones after them. */
  readonly oversized: readonly { readonly uid: number; readonly size: number }[];
}

export interface FetchOptions {
  /** UIDs up to this one were processed already. Default 0: every message. */
  readonly sinceUid?: number;
  /** The UIDVALIDITY `sinceUid` belongs to; when the mailbox's differs, its UIDs were renumbered and reading starts over. */
  readonly uidValidity?: number;
  /** Default INBOX. */
  readonly mailbox?: string;
  /** At most this many messages a call, the oldest first. Default DEFAULT_MAX_MESSAGES. */
  readonly max?: number;
  /** Default DEFAULT_MAX_MESSAGE_BYTES. */
  readonly maxMessageBytes?: number;
}

const INBOX = 'INBOX';
export const DEFAULT_MAX_MESSAGES = 100;
/** Above any MDN or DSN (a few KB) and any report we send back to ourselves (XDM of a few MB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/**
 * What imapflow sends as PLAIN password, for it refuses to log in without one. It is no secret:
 * the server authenticates the certificate and checks no password.
 */
const CERTIFICATE_AUTHENTICATION_PASSWORD = 'tls-client-certificate';

/** The messages of `mailbox` whose UID is above `sinceUid`, oldest first, read-only. */
export async function fetchNewMessages(target: ImapTarget, o: FetchOptions = {}): Promise<NewMessages> {
  return withMailbox(target, o.mailbox ?? INBOX, true, async (client, uidValidity) => {
    const since = o.uidValidity === undefined || o.uidValidity === uidValidity ? (o.sinceUid ?? 0) : 0;
    const max = o.max ?? DEFAULT_MAX_MESSAGES;
    const maxBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // "N:*" names the last message even when its UID is below N (RFC 3501 §6.4.8): filter.
    const found = await client.search({ uid: `${String(since + 1)}:*` }, { uid: true });
    if (found === false || found === undefined) throw new TransportError('malformed-response', false, 'the IMAP server refused the UID SEARCH for new messages');
    const uids = found.filter((uid) => uid > since).sort((a, b) => a - b).slice(0, max);
    if (uids.length === 0) return { messages: [], lastUid: since, uidValidity, oversized: [] };

    const sizes = await client.fetchAll(uids.join(','), { uid: true, size: true }, { uid: true });
    const oversized = sizes.filter((m) => (m.size ?? 0) > maxBytes).map((m) => ({ uid: m.uid, size: m.size ?? 0 }));
    const wanted = uids.filter((uid) => !oversized.some((m) => m.uid === uid));
    const messages: FetchedMessage[] = [];
    if (wanted.length > 0) {
      for (const m of await client.fetchAll(wanted.join(','), { uid: true, source: true }, { uid: true })) {
        if (m.source === undefined) throw new TransportError('malformed-response', false, `the IMAP server sent no content for UID ${String(m.uid)}`);
        messages.push({ uid: m.uid, raw: m.source });
      }
      messages.sort((a, b) => a.uid - b.uid);
    }
    return { messages, lastUid: Math.max(since, ...uids), uidValidity, oversized };
  });
}

/** Marks processed messages \Seen and, with `moveTo`, moves them to that folder (created when missing). */
export async function markProcessed(target: ImapTarget, o: { readonly uids: readonly number[]; readonly mailbox?: string; readonly moveTo?: string }): Promise<void> {
  if (o.uids.length === 0) return;
  const range = o.uids.join(',');
  const { moveTo } = o;
  await withMailbox(target, o.mailbox ?? INBOX, false, async (client) => {
    if (!(await client.messageFlagsAdd(range, ['\\Seen'], { uid: true }))) throw new TransportError('malformed-response', false, 'the IMAP server refused to flag the processed messages \\Seen');
    if (moveTo === undefined) return;
    if (!(await client.list()).some((folder) => folder.path === moveTo)) await client.mailboxCreate(moveTo);
    if ((await client.messageMove(range, moveTo, { uid: true })) === false) throw new TransportError('malformed-response', false, 'the IMAP server refused to move the processed messages');
  });
}

/** Connects, logs in, opens `mailbox` and runs `work`; logs out whatever happens. */
async function withMailbox<T>(target: ImapTarget, mailbox: string, readOnly: boolean, work: (client: ImapFlow, uidValidity: number) => Promise<T>): Promise<T> {
  const client = new ImapFlow(clientOptions(target));
  // imapflow also reports failures as events; without a listener an 'error' event would crash the process.
  client.on('error', () => undefined);
  let phase: CallPhase = 'tls';
  try {
    await client.connect();
    phase = 'response';
    const opened = await client.mailboxOpen(mailbox, { readOnly });
    return await work(client, Number(opened.uidValidity));
  } catch (error) {
    throw classifyImapError(error, phase);
  } finally {
    if (client.usable) await client.logout().catch(() => undefined);
    else client.close();
  }
}

function clientOptions(target: ImapTarget): ImapFlowOptions {
  return {
    host: target.host,
    port: target.port,
    secure: true,
    ...(target.tls.servername === undefined ? {} : { servername: target.tls.servername }),
    tls: verifiedTlsOptions(target.tls),
    auth: { user: target.user, pass: CERTIFICATE_AUTHENTICATION_PASSWORD },
    connectionTimeout: target.timeouts.connectMs,
    greetingTimeout: target.timeouts.socketMs,
    socketTimeout: target.timeouts.socketMs,
    // One short session a call: no IDLE, no logging of its own (the caller logs outcomes).
    disableAutoIdle: true,
    logger: false,
  };
}

/**
 * RFC 5530 response codes that say the server cannot for now: trying later may work. Any other
 * refusal (NONEXISTENT, NOPERM, AUTHENTICATIONFAILED, CANNOT…) will be the same next time.
 */
const TEMPORARY_RESPONSE_CODES = new Set(['UNAVAILABLE', 'SERVERBUG', 'INUSE', 'LIMIT', 'OVERQUOTA', 'EXPUNGEISSUED']);
/** imapflow's own codes for a connection that ended or timed out. */
const IMAPFLOW_CLOSED = new Set(['NoConnection', 'EConnectionClosed', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText', 'StateLogout']);
const IMAPFLOW_TOO_LARGE = new Set(['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge', 'TooManyTokens', 'TooManyResponses', 'MAX_IMAP_NESTING_REACHED']);

interface ImapFlowError {
  readonly code?: unknown;
  readonly authenticationFailed?: unknown;
  /** A tagged reply's status: NO (refused), BAD (not understood), BYE (closing). */
  readonly responseStatus?: unknown;
  readonly serverResponseCode?: unknown;
  /** Set by imapflow when a SELECT was refused and LIST does not find the mailbox either. */
  readonly mailboxMissing?: unknown;
}

/**
 * Classifies what imapflow throws. Socket and TLS errors keep Node's code and go through
 * classifySocketError; imapflow's own codes (time-outs, closed connection, parser limits) and the
 * server's refusals (a tagged NO or BAD with its response code) are classified here.
 */
export function classifyImapError(error: unknown, phase: CallPhase): TransportError {
  if (error instanceof TransportError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as ImapFlowError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.serverResponseCode === 'string' ? e.serverResponseCode.toUpperCase() : undefined;
  const options = { causeCode: responseCode === undefined ? (code ?? 'no code') : `IMAP ${responseCode}`, cause: error };
  const temporary = responseCode !== undefined && TEMPORARY_RESPONSE_CODES.has(responseCode);

  if (e.authenticationFailed === true) {
    // The certificate is the credential: a refused login is a refused certificate (no
    // certificate, another CA, expired, or a name that opens no mailbox).
    if (temporary) return new TransportError('network', true, `the IMAP server cannot authenticate for now (${responseCode})`, options);
    return new TransportError('tls-certificate', false, 'the IMAP server refused to log in our TLS client certificate (ORG AUTH_CLI): check it is the application mailbox\'s, from the right CA and valid', options);
  }
  if (e.mailboxMissing === true) return new TransportError('malformed-response', false, 'the IMAP folder does not exist: check the configured mailbox', { ...options, causeCode: 'IMAP NONEXISTENT' });
  if (code === 'CONNECT_TIMEOUT') return new TransportError('connect-timeout', true, 'the IMAP server did not complete the TCP connection and TLS handshake in time', options);
  if (code === 'GREETING_TIMEOUT' || code === 'ETIMEOUT' || code === 'UPGRADE_TIMEOUT') return new TransportError('response-timeout', true, 'the IMAP server stopped answering', options);
  if (code === 'ETHROTTLE') return new TransportError('network', true, 'the IMAP server is throttling us', options);
  if (code !== undefined && IMAPFLOW_CLOSED.has(code)) return new TransportError('reset', true, 'the IMAP connection was closed', options);
  if (code !== undefined && IMAPFLOW_TOO_LARGE.has(code)) return new TransportError('response-too-large', false, 'the IMAP server\'s reply is over imapflow\'s limits', options);
  if (code !== undefined && (code.startsWith('ParserError') || code === 'InvalidResponse' || code === 'UnexpectedTag' || code === 'MissingTag')) {
    return new TransportError('malformed-response', false, 'the IMAP server\'s reply is not valid IMAP', options);
  }
  if (responseCode !== undefined || e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    return temporary
      ? new TransportError('network', true, `the IMAP server refused for now (${responseCode})`, options)
      : new TransportError('malformed-response', false, `the IMAP server refused the command (${responseCode ?? String(e.responseStatus)})`, options);
  }
  return classifySocketError(error, phase);
}
