/**
 * The MSSanté sandbox: an SMTP server that, like an MSSanté operator, accepts mail only over TLS
 * from a client certificate of the configured CA (implicit TLS, or STARTTLS required before
 * MAIL), keeps what it receives, and answers each message that asks for it with an MDN (RFC 8098)
 * per recipient, delivered to the sender's mailbox on the IMAP server the gateway reads (Dovecot,
 * dovecot.ts). The acknowledgement is configurable — processed, error, none, delayed — and
 * faults can be injected (faults.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { TlsOptions, TLSSocket } from 'node:tls';
import { simpleParser, type AddressObject } from 'mailparser';
// smtp-server's types import node:tls in a way that loses TlsOptions: they are added back here.
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SigningIdentity } from '../../signing/identity.js';
import { mutualTlsServerOptions } from '../mutual-tls.js';
import type { Logger } from '../../support/logger.js';
import { buildMdn } from '../../transports/mss/acknowledgements.js';
import { MssFaults } from './faults.js';

export type MdnMode = 'processed' | 'error' | 'none' | 'delayed';
export const MDN_MODES: readonly MdnMode[] = ['processed', 'error', 'none', 'delayed'];

/** Where the sandbox puts the acknowledgements: the application mailboxes (Dovecot's Maildirs). */
export interface Mailboxes {
  deliver(mailbox: string, raw: Buffer): void;
}

export interface MssSandboxOptions {
  readonly host?: string;
  /** 0: any free port. */
  readonly port: number;
  readonly tls: 'implicit' | 'starttls';
  readonly serverIdentity: SigningIdentity;
  /** PEM of the CAs whose client certificates are accepted (the application mailbox's issuer). */
  readonly clientCaPem: string;
  readonly mailboxes?: Mailboxes;
  readonly mdn?: MdnMode;
  /** How long a `delayed` acknowledgement waits. */
  readonly mdnDelayMs?: number;
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
  readonly messageId?: string;
  /** Subject of the client certificate the message came with. */
  readonly clientCertificate: string;
}

export interface MssSandbox {
  readonly host: string;
  readonly port: number;
  readonly faults: MssFaults;
  /** What the next messages get as acknowledgement. */
  mdn: MdnMode;
  received(): readonly ReceivedMail[];
  close(): Promise<void>;
}

/** The error an MDN of mode `error` carries (french-specs §4: `processed/Error: {code}^{label}`) [UNVERIFIED codes]. */
const SANDBOX_ERROR = { code: 'ERR_INTEGRATION', label: 'Document non intégré (sandbox)' } as const;
const REPORTING_UA = 'Passerelle MSSanté sandbox';
const DEFAULT_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

/** An SMTP error with its reply code, as smtp-server sends them. */
function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startMssSandbox(options: MssSandboxOptions): Promise<MssSandbox> {
  const faults = new MssFaults();
  const received: ReceivedMail[] = [];
  const now = options.now ?? (() => new Date());
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const timers = new Set<NodeJS.Timeout>();
  // smtp-server's sessions do not hold their socket: kept here, by session id, from onSecure.
  const sockets = new Map<string, TLSSocket>();
  const state: { mdn: MdnMode } = { mdn: options.mdn ?? 'processed' };

  const acknowledge = async (mail: ReceivedMail, notifyTo: string): Promise<void> => {
    const mode = state.mdn;
    if (mode === 'none' || options.mailboxes === undefined || mail.messageId === undefined) return;
    for (const recipient of mail.to) {
      const mdn = await buildMdn({
        // The original comes back whole, as the ANS MDN guide asks (struct-msg-mdn.md).
        original: { messageId: mail.messageId, from: mail.from, to: recipient, raw: mail.raw },
        reportingUa: REPORTING_UA,
        disposition: mode === 'error' ? 'error' : 'processed',
        ...(mode === 'error' ? { error: SANDBOX_ERROR } : {}),
        date: now(),
        messageId: `<mdn-${randomUUID()}@sandbox.mssante.test>`,
        from: recipient,
        to: notifyTo,
      });
      const mailboxes = options.mailboxes;
      if (mode === 'delayed') {
        const timer = setTimeout(() => { timers.delete(timer); mailboxes.deliver(notifyTo, mdn); }, options.mdnDelayMs ?? 2000);
        timers.add(timer);
      } else {
        mailboxes.deliver(notifyTo, mdn);
      }
    }
  };

  const serverOptions: SMTPServerOptions & TlsOptions = {
    secure: options.tls === 'implicit',
    ...mutualTlsServerOptions(options.serverIdentity, options.clientCaPem),
    // The application mailbox is authenticated by its certificate, not by a password.
    authOptional: true,
    disabledCommands: ['AUTH'],
    size: maxBytes,
    banner: 'Passerelle MSSanté sandbox',
    // No reverse DNS of the client: on loopback it only waits for the resolver.
    disableReverseLookup: true,
    logger: false,
    onSecure(socket, session, callback) {
      const tls = socket as TLSSocket;
      // "TLS refusal": the session ends as soon as its handshake does, before any SMTP. (Not on the
      // raw connection: smtp-server wraps it in TLS afterwards, and wrapping a destroyed socket
      // crashes Node 20's TLS binding.)
      if (faults.takeTlsRefusal()) {
        tls.destroy();
        return;
      }
      sockets.set(session.id, tls);
      tls.once('close', () => { sockets.delete(session.id); });
      // Checked here too: a STARTTLS upgrade must also end with a verified client certificate.
      callback(tls.authorized ? null : smtpError(535, '5.7.8 the client certificate was not accepted'));
    },
    onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, callback) {
      if (!session.secure) { callback(smtpError(530, '5.7.0 Must issue a STARTTLS command first')); return; }
      if (faults.takeDrop()) {
        sockets.get(session.id)?.destroy();
        return;
      }
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const fault = faults.takeRecipient(address.address);
      if (fault === undefined) { callback(); return; }
      callback(smtpError(fault.code, `${fault.enhancedCode ?? (fault.code < 500 ? '4.0.0' : '5.0.0')} ${fault.text ?? 'refused by the sandbox (fault injection)'}`));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      stream.on('end', () => {
        if (stream.sizeExceeded) { callback(smtpError(552, `5.3.4 the message is over ${String(maxBytes)} bytes`)); return; }
        const raw = Buffer.concat(chunks);
        void simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true }).then(async (parsed) => {
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          const peer = sockets.get(session.id)?.getPeerX509Certificate();
          const certificate = peer === undefined ? '' : peer.subject;
          const mail: ReceivedMail = { from, to: session.envelope.rcptTo.map((r) => r.address), raw, ...(parsed.messageId === undefined ? {} : { messageId: parsed.messageId }), clientCertificate: certificate };
          received.push(mail);
          // mailparser reads Disposition-Notification-To as an address header.
          const address = (parsed.headers.get('disposition-notification-to') as AddressObject | undefined)?.value[0]?.address;
          if (address !== undefined) await acknowledge(mail, address);
          callback(null, `2.0.0 Ok: queued as ${randomUUID()}`);
        }).catch((error: unknown) => {
          options.logger?.error({ err: error }, 'MSSanté sandbox: a received message could not be read');
          callback(smtpError(451, '4.3.0 the sandbox could not read the message'));
        });
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // The listening socket (smtp-server's types lose node:net's, as they lose node:tls's).
  const listener = (server as unknown as { server: NetServer }).server;
  server.on('error', (error) => { options.logger?.warn({ err: error }, 'MSSanté sandbox: SMTP session error'); });

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => { listener.off('error', reject); resolve(); });
  });
  const address = listener.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    faults,
    get mdn() { return state.mdn; },
    set mdn(mode: MdnMode) { state.mdn = mode; },
    received: () => [...received],
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
    },
  };
}
