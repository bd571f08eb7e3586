import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureVersion, type TlsOptions, type TLSSocket } from 'node:tls';
import { expect } from 'chai';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerOptions } from 'smtp-server';
import { PasserelleError } from '../../src/domain/errors.js';
import { createDevPki, type DevPki, type PemIdentity } from '../../src/signing/dev-pki.js';
import type { TlsClientOptions } from '../../src/transports/soap/http-client.js';
import { TransportError } from '../../src/transports/soap/transport-error.js';
import { buildMssMessage } from '../../src/transports/mss/message.js';
import { classifySmtpError, parseSmtpReply, SmtpReplyError } from '../../src/transports/mss/smtp-classify.js';
import { offersSaslExternal, sendMessage, type SendResult, type SmtpTarget } from '../../src/transports/mss/smtp-client.js';
import { requireTool } from '../support/tools.js';
import { refusal } from '../support/transport.js';

const BAL = 'passerelle@ch-demo.mssante.fr';
const DOCTOR = 'bernard.vacquier@medecin.mssante.fr';
const REQUESTER = 'anne.requerante@medecin.mssante.fr';
const OTHER = 'secretariat@chu-exemple.mssante.fr';
const MESSAGE_ID = '<sub_01JD0000000000000000000000@ch-demo.mssante.fr>';
const TIMEOUTS = { connectMs: 5_000, greetingMs: 5_000, socketMs: 5_000 };

const bundle = (identity: PemIdentity): string => [identity.certificate, ...identity.chain].join('');
const clientTls = (identity: PemIdentity | undefined, trust: string, servername?: string): TlsClientOptions => ({
  key: identity?.key ?? '',
  cert: identity === undefined ? '' : bundle(identity),
  ca: trust,
  ...(servername === undefined ? {} : { servername }),
});

interface Received {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: Buffer;
  readonly secure: boolean;
  readonly clientCn?: string;
  readonly dsn?: unknown;
  readonly rcptDsn?: unknown;
}

interface TestServer {
  readonly port: number;
  readonly received: Received[];
  /** MAIL FROM commands the server saw, and whether the session was encrypted then. */
  readonly mailFrom: boolean[];
  close(): Promise<void>;
}

interface ServerControls {
  /** Destroys every connection of the server, as a crash or a network cut would. */
  drop(): void;
}

/**
 * smtp-server's options with their TLS fields: its types import node:tls as a default import,
 * which this project's `esModuleInterop: false` resolves to nothing, so they lose them.
 */
type ServerOptions = SMTPServerOptions & TlsOptions;

const listening = async (server: TcpServer): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/** The MSSanté operator as smtp-server plays it: TLS (implicit or STARTTLS), a client certificate from `trust` required. */
async function smtpServer(o: {
  identity: PemIdentity;
  trust: string;
  secure: boolean;
  maxVersion?: SecureVersion;
  onMailFrom?: (server: ServerControls, callback: (error?: Error | null) => void) => void;
  onRcptTo?: (address: SMTPServerAddress, callback: (error?: Error | null) => void) => void;
  onData?: (stream: SMTPServerDataStream, server: ServerControls, callback: (error?: Error | null, message?: string) => void) => void;
  options?: ServerOptions;
}): Promise<TestServer> {
  const received: Received[] = [];
  const mailFrom: boolean[] = [];
  const cns = new WeakMap<object, string>();
  const sockets = new Set<Socket>();
  const controls: ServerControls = { drop: () => { for (const socket of sockets) socket.destroy(); } };
  const options: ServerOptions = {
    secure: o.secure,
    key: o.identity.key,
    cert: bundle(o.identity),
    ca: o.trust,
    requestCert: true,
    rejectUnauthorized: true,
    ...(o.maxVersion === undefined ? {} : { maxVersion: o.maxVersion }),
    authOptional: true,
    logger: false,
    onSecure(socket, session, callback) {
      cns.set(session, String((socket as TLSSocket).getPeerCertificate().subject.CN));
      callback();
    },
    onMailFrom(_address, session, callback) {
      mailFrom.push(session.secure);
      if (o.onMailFrom === undefined) callback();
      else o.onMailFrom(controls, callback);
    },
    onRcptTo(address, _session, callback) {
      if (o.onRcptTo === undefined) callback();
      else o.onRcptTo(address, callback);
    },
    onData(stream, session, callback) {
      if (o.onData !== undefined) {
        o.onData(stream, controls, callback);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const cn = cns.get(session);
        received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks),
          secure: session.secure,
          ...(cn === undefined ? {} : { clientCn: cn }),
          ...(session.envelope.dsn === undefined ? {} : { dsn: session.envelope.dsn }),
          ...(session.envelope.rcptTo[0]?.dsn === undefined ? {} : { rcptDsn: session.envelope.rcptTo[0].dsn }),
        });
        callback(null, '2.0.0 Ok: queued as TEST1');
      });
    },
    ...o.options,
  };
  const server = new SMTPServer(options);
  // Refused handshakes are the point of several tests.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listening(server.server);
  return {
    port,
    received,
    mailFrom,
    close: () => new Promise((resolve) => {
      controls.drop();
      server.close(() => { resolve(); });
    }),
  };
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

const target = (port: number, tls: TlsClientOptions, o: Partial<SmtpTarget> = {}): SmtpTarget => ({ host: '127.0.0.1', port, secure: true, tls, timeouts: TIMEOUTS, ...o });

describe('SMTP to MSSanté over TLS with the BAL applicative\'s certificate (real TLS on loopback)', function () {
  this.timeout(120_000);
  const now = new Date();
  let ours: DevPki;
  let stranger: DevPki;
  let expired: DevPki;
  let raw: Buffer;
  let ourTls: TlsClientOptions;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => { await Promise.all(closers.splice(0).map((close) => close())); });
  const serve = async (o: Parameters<typeof smtpServer>[0]): Promise<TestServer> => {
    const s = await smtpServer(o);
    closers.push(() => s.close());
    return s;
  };
  const send = (t: SmtpTarget, to: readonly string[] = [DOCTOR, REQUESTER]): Promise<SendResult> => sendMessage(t, { from: BAL, to }, raw);

  before(async () => {
    ours = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now });
    stranger = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now });
    expired = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now: new Date(now.getTime() - 10 * 86_400_000), validityDays: 1 });
    ourTls = clientTls(ours.orgAuth, ours.root);
    // A 300 KB archive: base64 lines, and bytes that look like SMTP's end of data once encoded or not.
    raw = await buildMssMessage({ from: BAL, to: [DOCTOR, REQUESTER], messageId: MESSAGE_ID, subject: 'Compte rendu - CH', bodyText: 'Bonjour,\n.\n..\nFin.\n', xdm: randomBytes(300_000), cdaCodes: ['85208-7'], dispositionNotificationTo: BAL, date: now });
  });

  for (const secure of [true, false]) {
    describe(secure ? 'implicit TLS' : 'STARTTLS', () => {
      it('delivers the message to every recipient: the server saw our ORG AUTH_CLI certificate and the bytes intact', async () => {
        const server = await serve({ identity: ours.server, trust: ours.root, secure });
        const result = await send(target(server.port, ourTls, { secure }));
        expect(result.messageId).to.equal(MESSAGE_ID);
        expect(result.reply).to.match(/^250 /);
        expect(result.recipients.map((r) => [r.address, r.accepted, r.replyCode])).to.deep.equal([[DOCTOR, true, 250], [REQUESTER, true, 250]]);
        expect(server.received).to.have.length(1);
        const got = server.received[0];
        expect(got).to.deep.include({ from: BAL, to: [DOCTOR, REQUESTER], secure: true, clientCn: '750803447 ORG AUTH_CLI' });
        expect(got?.data.toString('latin1').replace(/\r\n$/, '')).to.equal(raw.toString('latin1').replace(/\r\n$/, ''));
        // STARTTLS: no MAIL FROM before the upgrade.
        expect(server.mailFrom).to.deep.equal([true]);
      });

      it('returns each recipient\'s refusal with its codes: 4xx retryable, 5xx permanent, and delivers to the others', async () => {
        const server = await serve({
          identity: ours.server, trust: ours.root, secure,
          onRcptTo: (address, callback) => {
            if (address.address === REQUESTER) callback(smtpError(452, '4.2.2 mailbox full'));
            else if (address.address === OTHER) callback(smtpError(550, '5.1.1 no such mailbox'));
            else callback();
          },
        });
        const result = await send(target(server.port, ourTls, { secure }), [DOCTOR, REQUESTER, OTHER]);
        expect(result.recipients).to.deep.equal([
          // An accepted recipient carries the reply that accepted the message.
          { address: DOCTOR, accepted: true, replyCode: 250, enhancedCode: '2.0.0', reply: '250 2.0.0 Ok: queued as TEST1' },
          { address: REQUESTER, accepted: false, replyCode: 452, enhancedCode: '4.2.2', reply: '452 4.2.2 mailbox full', retryable: true },
          { address: OTHER, accepted: false, replyCode: 550, enhancedCode: '5.1.1', reply: '550 5.1.1 no such mailbox', retryable: false },
        ]);
        expect(server.received.map((m) => m.to)).to.deep.equal([[DOCTOR]]);
      });

      it('returns per-recipient refusals, without throwing, when every recipient is refused (nothing is sent)', async () => {
        const server = await serve({ identity: ours.server, trust: ours.root, secure, onRcptTo: (_a, callback) => { callback(smtpError(550, '5.7.1 not allowed')); } });
        const result = await send(target(server.port, ourTls, { secure }));
        expect(result.reply).to.equal(undefined);
        expect(result.recipients.map((r) => [r.accepted, r.replyCode, r.enhancedCode, r.retryable])).to.deep.equal([[false, 550, '5.7.1', false], [false, 550, '5.7.1', false]]);
        expect(server.received).to.deep.equal([]);
      });
    });
  }

  describe('failures of the whole transaction, thrown classified', () => {
    it('a refusal at MAIL FROM: 451 retryable, 553 permanent, with the command and the enhanced code', async () => {
      let code = 451;
      const server = await serve({ identity: ours.server, trust: ours.root, secure: true, onMailFrom: (_s, callback) => { callback(smtpError(code, `${code === 451 ? '4.3.0' : '5.7.1'} not now`)); } });
      const temporary = await refusal(send(target(server.port, ourTls)));
      expect(temporary).to.be.instanceOf(SmtpReplyError);
      expect(temporary).to.include({ retryable: true, code: 'partner-unavailable', replyCode: 451, enhancedCode: '4.3.0', command: 'MAIL FROM' });
      code = 553;
      const permanent = await refusal(send(target(server.port, ourTls)));
      expect(permanent).to.include({ retryable: false, code: 'partner-rejected', replyCode: 553, enhancedCode: '5.7.1', command: 'MAIL FROM' });
      expect(permanent.message).to.include('553 5.7.1');
    });

    it('a refusal of the message after DATA: 554 permanent, 452 retryable', async () => {
      let code = 554;
      const server = await serve({
        identity: ours.server, trust: ours.root, secure: false,
        onData: (stream, _session, callback) => {
          stream.resume();
          stream.on('end', () => { callback(smtpError(code, `${code === 554 ? '5.6.0' : '4.3.1'} refused`)); });
        },
      });
      expect(await refusal(send(target(server.port, ourTls, { secure: false })))).to.include({ retryable: false, replyCode: 554, enhancedCode: '5.6.0', command: 'DATA' });
      code = 452;
      expect(await refusal(send(target(server.port, ourTls, { secure: false })))).to.include({ retryable: true, replyCode: 452, command: 'DATA' });
    });

    it('a server that does not offer STARTTLS: the session ends before any mail command, never in plaintext', async () => {
      const server = await serve({ identity: ours.server, trust: ours.root, secure: false, options: { disabledCommands: ['STARTTLS'], hideSTARTTLS: true } });
      const error = await refusal(send(target(server.port, ourTls, { secure: false })));
      expect(error).to.include({ retryable: false, command: 'STARTTLS' });
      expect(server.mailFrom).to.deep.equal([]);
    });

    it('a connection refused: connect-refused, retryable', async () => {
      const tcp = createTcpServer();
      const port = await listening(tcp);
      await new Promise<void>((resolve) => { tcp.close(() => { resolve(); }); });
      expect(await refusal(send(target(port, ourTls)))).to.include({ kind: 'connect-refused', retryable: true, causeCode: 'ECONNREFUSED' });
    });

    it('a connection dropped after MAIL FROM, or in the middle of the data: a reset, retryable', async () => {
      for (const secure of [true, false]) {
        const afterMail = await serve({ identity: ours.server, trust: ours.root, secure, onMailFrom: (server) => { server.drop(); } });
        expect(await refusal(send(target(afterMail.port, ourTls, { secure }))), `MAIL FROM, secure ${String(secure)}`).to.include({ kind: 'reset', retryable: true });
        const inData = await serve({ identity: ours.server, trust: ours.root, secure, onData: (stream, server) => { stream.once('data', () => { server.drop(); }); } });
        expect(await refusal(send(target(inData.port, ourTls, { secure }))), `DATA, secure ${String(secure)}`).to.include({ kind: 'reset', retryable: true });
      }
    });
  });

  describe('certificates', () => {
    for (const secure of [true, false]) {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        describe(`${secure ? 'implicit TLS' : 'STARTTLS'}, ${version}, a Node (smtp-server) partner`, () => {
          it('refuses a client without a certificate with an alert: permanent', async () => {
            const server = await serve({ identity: ours.server, trust: ours.root, secure, maxVersion: version });
            const error = await refusal(send(target(server.port, clientTls(undefined, ours.root), { secure })));
            // TLS 1.3: certificate_required; TLS 1.2: handshake_failure.
            expect(error).to.include({ retryable: false, code: 'partner-rejected', causeCode: version === 'TLSv1.3' ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' });
            expect(server.mailFrom).to.deep.equal([]);
          });

          it('refuses a certificate from another CA or an expired one by closing the connection, without an alert: retryable (the bounded retries end it)', async () => {
            // Like Node's https server (transport-error.ts): the certificate is judged after the
            // handshake and the socket destroyed. TLS 1.2 sees it in the handshake, TLS 1.3 after it, before the greeting.
            const server = await serve({ identity: ours.server, trust: ours.root + expired.root, secure, maxVersion: version });
            for (const identity of [stranger.orgAuth, expired.orgAuth]) {
              const error = await refusal(send(target(server.port, clientTls(identity, ours.root), { secure })));
              expect(error).to.include({ retryable: true, kind: version === 'TLSv1.3' ? 'reset' : 'tls-handshake' });
            }
            expect(server.received).to.deep.equal([]);
          });
        });
      }
    }

    for (const version of ['tls1_3', 'tls1_2'] as const) {
      describe(`implicit TLS, an OpenSSL partner (as Postfix), ${version}`, () => {
        let dir: string;
        let child: ChildProcess | undefined;
        let port = 0;
        before(async function () {
          requireTool(this, 'openssl', 'openssl');
          dir = mkdtempSync(join(tmpdir(), 'passerelle-smtp-'));
          const file = (name: string, content: string): string => {
            writeFileSync(join(dir, name), content, { mode: 0o600 });
            return join(dir, name);
          };
          // It trusts the expired PKI's root too: the expiry, not the CA, is what it refuses.
          child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', file('server.pem', ours.server.certificate), '-cert_chain', file('chain.pem', ours.server.chain.join('')), '-key', file('server.key', ours.server.key), '-CAfile', file('trust.pem', ours.root + expired.root), '-Verify', '3', '-verify_return_error', `-${version}`], { stdio: ['pipe', 'pipe', 'ignore'] });
          port = await new Promise<number>((resolve, reject) => {
            let out = '';
            child?.stdout?.on('data', (data: Buffer) => {
              out += data.toString('utf8');
              const match = /ACCEPT\s+\S*:(\d+)/.exec(out);
              if (match !== null) resolve(Number(match[1]));
            });
            child?.on('exit', (code) => { reject(new Error(`openssl s_server exited (${String(code)})`)); });
          });
        });
        after(() => {
          child?.kill();
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        });

        const cases = [
          { name: 'no certificate', identity: (): PemIdentity | undefined => undefined, alert: version === 'tls1_3' ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' },
          { name: 'a certificate from another CA', identity: (): PemIdentity | undefined => stranger.orgAuth, alert: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
          { name: 'an expired certificate', identity: (): PemIdentity | undefined => expired.orgAuth, alert: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED' },
        ];
        for (const c of cases) {
          it(`refuses ${c.name} with the alert that says why: permanent`, async () => {
            const error = await refusal(send(target(port, clientTls(c.identity(), ours.root))));
            expect(error).to.include({ retryable: false, code: 'partner-rejected', causeCode: c.alert });
          });
        }
      });
    }

    describe('the server\'s certificate', () => {
      for (const secure of [true, false]) {
        it(`is verified against the configured CA only, and must name the host (${secure ? 'implicit TLS' : 'STARTTLS'})`, async () => {
          const cases = [
            { identity: stranger.server, ca: ours.root, cause: 'SELF_SIGNED_CERT_IN_CHAIN' },
            { identity: { ...stranger.server, chain: [] }, ca: ours.root, cause: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
            { identity: expired.server, ca: ours.root + expired.root, cause: 'CERT_HAS_EXPIRED' },
            { identity: ours.server, ca: ours.root, servername: 'mss.example', cause: 'ERR_TLS_CERT_ALTNAME_INVALID' },
          ];
          for (const c of cases) {
            const server = await serve({ identity: c.identity, trust: ours.root, secure });
            const error = await refusal(send(target(server.port, clientTls(ours.orgAuth, c.ca, c.servername), { secure })));
            expect(error, c.cause).to.include({ kind: 'tls-certificate', retryable: false, causeCode: c.cause });
            expect(server.mailFrom).to.deep.equal([]);
          }
        });
      }

      it('is refused below TLS 1.2', async () => {
        const server = await serve({ identity: ours.server, trust: ours.root, secure: true, maxVersion: 'TLSv1.1', options: { minVersion: 'TLSv1' } });
        const error = await refusal(send(target(server.port, ourTls)));
        expect(error).to.include({ kind: 'tls-handshake', retryable: false, causeCode: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      });
    });
  });

  describe('time-outs', () => {
    const silentTcp = async (): Promise<number> => {
      const sockets = new Set<Socket>();
      const tcp = createTcpServer((socket) => { sockets.add(socket); });
      const port = await listening(tcp);
      closers.push(() => new Promise((resolve) => { for (const socket of sockets) socket.destroy(); tcp.close(() => { resolve(); }); }));
      return port;
    };
    const timed = async (promise: Promise<unknown>): Promise<{ error: TransportError; ms: number }> => {
      const started = Date.now();
      const error = await refusal(promise);
      return { error, ms: Date.now() - started };
    };

    it('gives up on a TLS handshake that never comes (implicit TLS): within the connect time-out, retryable', async () => {
      const { error, ms } = await timed(send(target(await silentTcp(), ourTls, { timeouts: { ...TIMEOUTS, connectMs: 400 } })));
      expect(error).to.include({ kind: 'tls-handshake', retryable: true, causeCode: 'ETIMEDOUT' });
      expect(ms).to.be.within(350, 3000);
    });

    it('gives up on a greeting that never comes (STARTTLS): within the greeting time-out, retryable', async () => {
      const { error, ms } = await timed(send(target(await silentTcp(), ourTls, { secure: false, timeouts: { ...TIMEOUTS, greetingMs: 400 } })));
      expect(error).to.include({ kind: 'response-timeout', retryable: true, causeCode: 'ETIMEDOUT' });
      expect(ms).to.be.within(350, 3000);
    });

    it('gives up on a server that goes silent after the data: the socket time-out, retryable', async () => {
      const server = await serve({ identity: ours.server, trust: ours.root, secure: true, onData: (stream) => { stream.resume(); } });
      const { error, ms } = await timed(send(target(server.port, ourTls, { timeouts: { ...TIMEOUTS, socketMs: 400 } })));
      expect(error).to.include({ kind: 'response-timeout', retryable: true });
      expect(ms).to.be.within(350, 4000);
    });

    it('bounds the whole transaction, however slowly the server keeps answering', async () => {
      const server = await serve({ identity: ours.server, trust: ours.root, secure: true, onRcptTo: (_a, callback) => { setTimeout(() => { callback(); }, 250); } });
      const { error, ms } = await timed(send(target(server.port, ourTls, { timeouts: { ...TIMEOUTS, totalMs: 500 } }), [DOCTOR, REQUESTER, OTHER]));
      expect(error).to.include({ kind: 'response-timeout', retryable: true });
      expect(error.message).to.include('500 ms');
      expect(ms).to.be.within(450, 3000);
    });
  });

  describe('SASL EXTERNAL after the client certificate', () => {
    /** A scripted SMTP server over implicit TLS that offers AUTH EXTERNAL and grants it to a verified certificate. */
    async function externalServer(o: { advertise: boolean; grant: boolean }): Promise<{ port: number; commands: string[]; identities: string[] }> {
      const commands: string[] = [];
      const identities: string[] = [];
      const server = createTlsServer({ key: ours.server.key, cert: bundle(ours.server), ca: ours.root, requestCert: true, rejectUnauthorized: true }, (socket) => {
        let buffered = '';
        let inData = false;
        socket.on('error', () => undefined);
        socket.write('220 mss.example ESMTP test\r\n');
        socket.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('latin1');
          let end: number;
          while ((end = buffered.indexOf('\r\n')) >= 0) {
            const line = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (inData) {
              if (line === '.') { inData = false; socket.write('250 2.0.0 queued\r\n'); }
              continue;
            }
            const verb = line.split(' ')[0]?.toUpperCase() ?? '';
            commands.push(verb === 'AUTH' ? line : verb);
            if (verb === 'EHLO') socket.write(`250-mss.example\r\n${o.advertise ? '250-AUTH PLAIN EXTERNAL\r\n' : ''}250 8BITMIME\r\n`);
            else if (verb === 'AUTH') {
              const ok = o.grant && socket.authorized;
              if (ok) identities.push(String(socket.getPeerCertificate().subject.CN));
              socket.write(ok ? '235 2.7.0 Authentication successful\r\n' : '535 5.7.8 Authentication credentials invalid\r\n');
            } else if (verb === 'MAIL' || verb === 'RCPT') socket.write('250 2.1.0 Ok\r\n');
            else if (verb === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); }
            else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
            else socket.write('502 5.5.2 not implemented\r\n');
          }
        });
      });
      server.on('tlsClientError', () => undefined);
      const port = await listening(server);
      closers.push(() => new Promise((resolve) => { server.close(() => { resolve(); }); }));
      return { port, commands, identities };
    }

    it('authenticates with AUTH EXTERNAL when the server offers it (default), the identity being the certificate\'s', async () => {
      const server = await externalServer({ advertise: true, grant: true });
      const result = await send(target(server.port, ourTls));
      expect(result.recipients.every((r) => r.accepted)).to.equal(true);
      // (QUIT follows, after the result is in.)
      expect(server.commands.slice(0, 6)).to.deep.equal(['EHLO', 'AUTH EXTERNAL =', 'MAIL', 'RCPT', 'RCPT', 'DATA']);
      expect(server.identities).to.deep.equal(['750803447 ORG AUTH_CLI']);
    });

    it('does not authenticate when the server does not offer it, or when told never to', async () => {
      const silent = await externalServer({ advertise: false, grant: true });
      await send(target(silent.port, ourTls));
      expect(silent.commands).to.not.include('AUTH EXTERNAL =');
      const offered = await externalServer({ advertise: true, grant: true });
      await send(target(offered.port, ourTls, { saslExternal: 'never' }));
      expect(offered.commands).to.not.include('AUTH EXTERNAL =');
    });

    it('fails the transaction, permanently, when AUTH EXTERNAL is refused', async () => {
      const server = await externalServer({ advertise: true, grant: false });
      const error = await refusal(send(target(server.port, ourTls)));
      expect(error).to.include({ retryable: false, replyCode: 535, enhancedCode: '5.7.8', command: 'AUTH EXTERNAL' });
      expect(server.commands).to.not.include('MAIL');
    });

    it('tries it anyway with "always", and a server that does not know it says so (smtp-server: 504)', async () => {
      const server = await serve({ identity: ours.server, trust: ours.root, secure: true });
      const error = await refusal(send(target(server.port, ourTls, { saslExternal: 'always' })));
      expect(error).to.include({ retryable: false, replyCode: 504, command: 'AUTH EXTERNAL' });
    });
  });

  describe('DSN parameters (RFC 3461)', () => {
    it('asks the server for delivery status notices with the submission as envelope id, when it offers DSN', async () => {
      const server = await serve({ identity: ours.server, trust: ours.root, secure: true, options: { hideDSN: false } });
      await sendMessage(target(server.port, ourTls), { from: BAL, to: [DOCTOR], dsn: { notify: ['FAILURE', 'DELAY'], ret: 'HDRS', envelopeId: 'sub_01JD0000000000000000000000' } }, raw);
      expect(server.received[0]?.dsn).to.deep.include({ ret: 'HDRS', envid: 'sub_01JD0000000000000000000000' });
      expect(server.received[0]?.rcptDsn).to.deep.include({ notify: ['FAILURE', 'DELAY'] });
    });
  });

  it('refuses an envelope it cannot send before connecting', async () => {
    const error: unknown = await sendMessage(target(1, ourTls), { from: BAL, to: ['x\r\nRCPT TO:<y@z.fr>'] }, raw).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(PasserelleError).with.property('code', 'internal');
    const noId: unknown = await sendMessage(target(1, ourTls), { from: BAL, to: [DOCTOR] }, Buffer.from('Subject: x\r\n\r\nbody\r\n')).then(() => undefined, (e: unknown) => e);
    expect(noId).to.be.instanceOf(PasserelleError);
  });
});

describe('SMTP reply classification', () => {
  it('reads reply codes, enhanced codes and multi-line texts', () => {
    expect(parseSmtpReply('550 5.1.1 <a@b.fr>: Recipient address rejected')).to.deep.equal({ code: 550, enhancedCode: '5.1.1', text: '<a@b.fr>: Recipient address rejected' });
    expect(parseSmtpReply('421-4.7.0 too many\n421 4.7.0 try later')).to.deep.equal({ code: 421, enhancedCode: '4.7.0', text: 'too many try later' });
    expect(parseSmtpReply('452 Too many recipients')).to.deep.equal({ code: 452, text: 'Too many recipients' });
    expect(parseSmtpReply('250')).to.deep.equal({ code: 250, text: '' });
    expect(parseSmtpReply('hello')).to.equal(undefined);
  });

  it('classifies 4xx as retryable and 5xx as permanent, whatever error code nodemailer gives them', () => {
    const nm = (code: string, response: string, command: string): Error => Object.assign(new Error('message never read'), { code, response, command });
    expect(classifySmtpError(nm('EPROTOCOL', '421 4.3.2 shutting down', 'CONN'), 'response')).to.include({ retryable: true, replyCode: 421 });
    expect(classifySmtpError(nm('EPROTOCOL', '554 5.7.1 no service here', 'CONN'), 'response')).to.include({ retryable: false, replyCode: 554 });
    expect(classifySmtpError(nm('EAUTH', '535 5.7.8 bad certificate', 'AUTH EXTERNAL'), 'response')).to.include({ retryable: false, command: 'AUTH EXTERNAL' });
    expect(classifySmtpError(nm('ETLS', '454 4.7.0 TLS not available', 'STARTTLS'), 'response')).to.include({ retryable: true, command: 'STARTTLS' });
  });

  it('classifies socket and TLS errors as the SOAP transport does, and nodemailer\'s own time-outs by phase', () => {
    const socket = (originalCode: string): Error => Object.assign(new Error('x'), { code: 'ESOCKET', originalCode });
    expect(classifySmtpError(socket('ECONNREFUSED'), 'connect')).to.include({ kind: 'connect-refused', retryable: true });
    expect(classifySmtpError(socket('CERT_HAS_EXPIRED'), 'tls')).to.include({ kind: 'tls-certificate', retryable: false });
    expect(classifySmtpError(socket('ECONNRESET'), 'tls')).to.include({ kind: 'tls-handshake', retryable: true });
    expect(classifySmtpError(socket('ECONNRESET'), 'response')).to.include({ kind: 'reset', retryable: true });
    const timeout = (timeoutType: string): Error => Object.assign(new Error('x'), { code: 'ETIMEDOUT', timeoutType });
    expect(classifySmtpError(timeout('CONNECT_TIMEOUT'), 'connect')).to.include({ kind: 'connect-timeout', retryable: true });
    expect(classifySmtpError(timeout('CONNECT_TIMEOUT'), 'tls')).to.include({ kind: 'tls-handshake', retryable: true });
    expect(classifySmtpError(timeout('GREETING_TIMEOUT'), 'response')).to.include({ kind: 'response-timeout', retryable: true });
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EMESSAGE', command: 'MAIL FROM' }), 'response')).to.include({ kind: 'response-too-large', retryable: false });
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'EPROTOCOL' }), 'response')).to.include({ kind: 'malformed-response', retryable: false });
  });

  it('finds EXTERNAL among the AUTH mechanisms of an EHLO reply', () => {
    expect(offersSaslExternal('250-mx.example\n250-PIPELINING\n250-AUTH PLAIN EXTERNAL\n250 8BITMIME')).to.equal(true);
    expect(offersSaslExternal('250-mx.example\n250-AUTH=EXTERNAL\n250 8BITMIME')).to.equal(true);
    expect(offersSaslExternal('250-mx.example\n250-AUTH PLAIN LOGIN\n250 X-EXTERNAL')).to.equal(false);
  });
});

