import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { createDevPki, type DevPki, type PemIdentity } from '../../src/signing/dev-pki.js';
import { DEBIAN_DOVECOT_BINARY, certificateNameOf, startDovecot, type DovecotInstance } from '../../src/sim/mss/dovecot.js';
import { classifyImapError, fetchNewMessages, markProcessed, type ImapTarget } from '../../src/transports/mss/imap-reader.js';
import type { TlsClientOptions } from '../../src/transports/soap/http-client.js';
import { devPkiFolder, type DevPkiFolder } from '../support/dmp.js';
import { refusal } from '../support/transport.js';
import { requireDovecot } from '../support/tools.js';

const run = promisify(execFile);
const BAL = 'bal.passerelle@ch-test.mssante.fr';
const OTHER = 'secretariat@ch-test.mssante.fr';
const TIMEOUTS = { connectMs: 5_000, socketMs: 5_000 };

/** A message as the sandbox delivers them: CRLF lines, a Message-ID to tell them apart. */
const mail = (id: string, body = `Notification ${id}`): Buffer => Buffer.from([
  `From: <mssante-sandbox@ch-test.mssante.fr>`,
  `To: <${BAL}>`,
  `Subject: Notification de traitement ${id}`,
  `Message-ID: <${id}@sandbox.test>`,
  'Date: Mon, 01 Dec 2025 09:00:00 +0100',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  body,
  '',
].join('\r\n'));

const bundle = (identity: PemIdentity): string => [identity.certificate, ...identity.chain].join('');

/** One IMAP exchange over TLS, by hand: for what imapflow does not do (SASL EXTERNAL). */
function rawImap(port: number, tls: TlsClientOptions, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, key: tls.key, cert: tls.cert, ca: tls.ca, servername: 'localhost' });
    let text = '';
    let sent = false;
    socket.setTimeout(5_000, () => { socket.destroy(new Error(`no answer: ${text}`)); });
    socket.on('data', (data: Buffer) => {
      text += data.toString('utf8');
      if (!sent && text.includes('\r\n')) {
        sent = true;
        socket.write(`a ${command}\r\n`);
      }
      const tagged = /^a (OK|NO|BAD)[^\r\n]*/m.exec(text);
      if (tagged !== null) {
        socket.end('b LOGOUT\r\n');
        resolve(tagged[0]);
      }
    });
    socket.on('error', reject);
  });
}

describe('the application mailbox over IMAPS: a private Dovecot and the imapflow reader (real TLS on loopback)', function () {
  this.timeout(120_000);
  let pki: DevPkiFolder;
  let stranger: DevPki;
  let expired: DevPki;
  let dir: string;
  let dovecot: DovecotInstance;
  let ours: TlsClientOptions;
  const target = (overrides: Partial<ImapTarget> = {}): ImapTarget => ({ host: dovecot.host, port: dovecot.port, secure: true, tls: ours, user: BAL, timeouts: TIMEOUTS, ...overrides });
  const log = (): string => readFileSync(dovecot.logFile, 'utf8');
  /** Dovecot's log process writes a little after the client got its answer. */
  const logged = async (text: string, from = 0): Promise<string> => {
    const deadline = Date.now() + 3_000;
    while (!log().slice(from).includes(text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return log().slice(from);
  };

  before(async function () {
    requireDovecot(this, DEBIAN_DOVECOT_BINARY);
    const now = new Date();
    pki = devPkiFolder(now);
    stranger = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now });
    // Valid for one day, ten days ago: every certificate of it has expired.
    expired = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now: new Date(now.getTime() - 10 * 86_400_000), validityDays: 1 });
    ours = pki.tls(DEV_PKI_FILES.orgAuth);
    const server = pki.tls(DEV_PKI_FILES.server);
    dir = mkdtempSync(join(tmpdir(), 'passerelle-imap-'));
    dovecot = await startDovecot({
      dir,
      serverCertPem: String(server.cert),
      serverKeyPem: String(server.key),
      // It trusts the expired PKI's root too, so that the expiry, not the CA, is what it refuses.
      clientCaPem: pki.trustPem + expired.root,
      users: [
        { mailbox: BAL, certificateName: certificateNameOf(pki.identity(DEV_PKI_FILES.orgAuth).certificate) },
        // Opened by no certificate of the tests: what a login name alone must not reach.
        { mailbox: OTHER, certificateName: '750803447 SECRETARIAT' },
      ],
    });
  });
  after(async () => {
    await dovecot?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  describe('the generated configuration', () => {
    it('is what `dovecot -n` reads back: IMAPS on loopback only, TLS required, client certificates required and verified, their commonName as user name', async () => {
      const { stdout, stderr } = await run(DEBIAN_DOVECOT_BINARY, ['-n', '-c', dovecot.configFile]);
      expect(stderr, 'no warning').to.equal('');
      expect(stdout).to.not.include('/etc/dovecot');
      for (const line of ['ssl = required', 'ssl_verify_client_cert = yes', 'auth_ssl_require_client_cert = yes', 'auth_ssl_username_from_cert = yes', 'listen = 127.0.0.1', 'protocols = imap', `base_dir = ${join(dir, 'run')}`]) {
        expect(stdout).to.include(`\n${line}\n`);
      }
      // The plaintext listener is disabled (port 0); the only port is IMAPS.
      expect(stdout).to.match(/inet_listener imap \{\n\s+port = 0\n\s+\}/);
      expect(stdout).to.match(new RegExp(`inet_listener imaps \\{\\n\\s+address = 127\\.0\\.0\\.1\\n\\s+port = ${String(dovecot.port)}\\n\\s+ssl = yes\\n`));
      const all = (await run(DEBIAN_DOVECOT_BINARY, ['-a', '-c', dovecot.configFile])).stdout;
      expect(all).to.match(/^ssl_cert_username_field = commonName$/m);
      expect(all).to.match(/^ssl_min_protocol = TLSv1\.2$/m);
    });

    it('refuses users it could not write safely into its files', async () => {
      const start = (users: { mailbox: string; certificateName: string }[]): Promise<unknown> => startDovecot({ dir: join(dir, 'unused'), serverCertPem: '', serverKeyPem: '', clientCaPem: '', users });
      for (const users of [[], [{ mailbox: '../etc@x.fr', certificateName: 'A' }], [{ mailbox: 'a@x.fr', certificateName: 'A:B' }], [{ mailbox: 'a@x.fr', certificateName: 'A' }, { mailbox: 'b@x.fr', certificateName: 'A' }]]) {
        const error: unknown = await start(users).then(() => undefined, (e: unknown) => e);
        expect(error, JSON.stringify(users)).to.be.instanceOf(Error).with.property('message').that.match(/^Dovecot: /);
      }
    });
  });

  describe('delivery', () => {
    it('goes through tmp/ into new/, and is refused for a mailbox Dovecot does not have', () => {
      dovecot.deliver(OTHER, mail('for-the-secretariat'));
      const maildir = dovecot.maildir(OTHER);
      expect(readdirSync(join(maildir, 'tmp'))).to.deep.equal([]);
      const delivered = readdirSync(join(maildir, 'new'));
      expect(delivered).to.have.length(1);
      expect(readFileSync(join(maildir, 'new', delivered[0]!)).equals(mail('for-the-secretariat'))).to.equal(true);
      expect(() => { dovecot.deliver('nobody@ch-test.mssante.fr', mail('lost')); }).to.throw(/not a mailbox of this Dovecot/);
    });
  });

  describe('reading with the ORG AUTH_CLI certificate', () => {
    let uidValidity: number;
    let lastUid: number;

    it('reads two delivered messages, byte for byte, oldest first', async () => {
      dovecot.deliver(BAL, mail('one'));
      dovecot.deliver(BAL, mail('two'));
      const read = await fetchNewMessages(target());
      expect(read.messages.map((m) => m.uid)).to.deep.equal([1, 2]);
      expect(read.messages[0]?.raw.equals(mail('one'))).to.equal(true);
      expect(read.messages[1]?.raw.equals(mail('two'))).to.equal(true);
      expect(read).to.deep.include({ lastUid: 2, oversized: [] });
      expect(read.uidValidity).to.be.a('number').above(0);
      ({ uidValidity, lastUid } = read);
      // The certificate's commonName logged in, and it opened the application mailbox.
      expect(await logged(`Login: user=<${BAL}>, method=PLAIN`)).to.include(`Login: user=<${BAL}>, method=PLAIN`);
    });

    it('reads incrementally by UID: only what came after the last UID, nothing when nothing came', async () => {
      dovecot.deliver(BAL, mail('three'));
      const next = await fetchNewMessages(target(), { sinceUid: lastUid, uidValidity });
      expect(next.messages.map((m) => m.uid)).to.deep.equal([3]);
      expect(next.messages[0]?.raw.equals(mail('three'))).to.equal(true);
      expect(next.lastUid).to.equal(3);
      const nothing = await fetchNewMessages(target(), { sinceUid: next.lastUid, uidValidity });
      expect(nothing).to.deep.equal({ messages: [], lastUid: 3, uidValidity, oversized: [] });
      lastUid = 3;
    });

    it('reads at most `max` messages a call, and goes on from where it stopped', async () => {
      const first = await fetchNewMessages(target(), { max: 2 });
      expect(first.messages.map((m) => m.uid)).to.deep.equal([1, 2]);
      expect(first.lastUid).to.equal(2);
      const rest = await fetchNewMessages(target(), { sinceUid: first.lastUid, uidValidity, max: 2 });
      expect(rest.messages.map((m) => m.uid)).to.deep.equal([3]);
    });

    it('starts over when the UIDVALIDITY given is not the mailbox\'s (its UIDs were renumbered)', async () => {
      const read = await fetchNewMessages(target(), { sinceUid: lastUid, uidValidity: uidValidity + 1 });
      expect(read.messages.map((m) => m.uid)).to.deep.equal([1, 2, 3]);
    });

    it('leaves a message over the size limit unread, names it, and moves past it', async () => {
      dovecot.deliver(BAL, mail('big', 'x'.repeat(5_000)));
      dovecot.deliver(BAL, mail('after-big'));
      const read = await fetchNewMessages(target(), { sinceUid: lastUid, uidValidity, maxMessageBytes: 2_000 });
      expect(read.messages.map((m) => m.uid)).to.deep.equal([5]);
      expect(read.oversized).to.deep.equal([{ uid: 4, size: mail('big', 'x'.repeat(5_000)).length }]);
      expect(read.lastUid).to.equal(5);
      lastUid = 5;
    });

    it('changes no flag while reading; markProcessed flags \\Seen and moves the messages aside', async () => {
      const inbox = dovecot.maildir(BAL);
      const seenFiles = (folder: string): string[] => ['new', 'cur'].flatMap((sub) => (existsSync(join(folder, sub)) ? readdirSync(join(folder, sub)) : [])).filter((name) => /:2,[A-Z]*S/.test(name));
      expect(seenFiles(inbox)).to.deep.equal([]);
      await markProcessed(target(), { uids: [1] });
      expect(seenFiles(inbox)).to.have.length(1);
      await markProcessed(target(), { uids: [1, 2], moveTo: 'Traités' });
      const remaining = await fetchNewMessages(target());
      expect(remaining.messages.map((m) => m.uid)).to.deep.equal([3, 4, 5]);
      const moved = await fetchNewMessages(target(), { mailbox: 'Traités' });
      expect(moved.messages.map((m) => m.raw.toString('utf8').match(/Message-ID: <([^@]+)@/)?.[1])).to.deep.equal(['one', 'two']);
      // Maildir++ stores the folder as ".<modified UTF-7 name>" (RFC 3501 §5.1.3).
      expect(seenFiles(join(inbox, '.Trait&AOk-s'))).to.have.length(2);
    });

    it('opens the mailbox of the certificate whatever login name is sent', async () => {
      const read = await fetchNewMessages(target({ user: OTHER }));
      expect(read.messages.map((m) => m.raw.toString('utf8'))).to.not.satisfy((raws: string[]) => raws.some((raw) => raw.includes('for-the-secretariat')));
      expect(read.messages.map((m) => m.uid)).to.deep.equal([3, 4, 5]);
    });

    it('logs in with SASL EXTERNAL on the certificate alone, for the clients that speak it', async () => {
      expect(await rawImap(dovecot.port, ours, 'AUTHENTICATE EXTERNAL =')).to.match(/^a OK /);
      expect(await logged(`Login: user=<${BAL}>, method=EXTERNAL`)).to.include(`Login: user=<${BAL}>, method=EXTERNAL`);
    });

    it('refuses a mailbox that does not exist, permanently', async () => {
      const error = await refusal(fetchNewMessages(target(), { mailbox: 'Absent' }));
      expect(error).to.include({ retryable: false, code: 'partner-rejected', causeCode: 'IMAP NONEXISTENT' });
    });
  });

  describe('client certificates Dovecot refuses', () => {
    const cases = [
      { name: 'no certificate', tls: (): TlsClientOptions => ({ key: '', cert: '', ca: pki.trustPem }), logged: 'client didn\'t send a cert' },
      { name: 'a certificate from another CA', tls: (): TlsClientOptions => ({ key: stranger.orgAuth.key, cert: bundle(stranger.orgAuth), ca: pki.trustPem }), logged: 'client sent an invalid cert' },
      { name: 'an expired certificate from a trusted CA', tls: (): TlsClientOptions => ({ key: expired.orgAuth.key, cert: bundle(expired.orgAuth), ca: pki.trustPem }), logged: 'client sent an invalid cert' },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} at login (the TLS handshake passes): tls-certificate, permanent`, async () => {
        const before = log().length;
        const error = await refusal(fetchNewMessages(target({ tls: c.tls() })));
        expect(error).to.include({ kind: 'tls-certificate', retryable: false, code: 'partner-rejected' });
        expect(error.message).to.not.include(BAL);
        expect(await logged(c.logged, before)).to.include(c.logged).and.not.include('Login: user=');
      });
    }

    it('refuses SASL EXTERNAL without a valid certificate', async () => {
      const answer = await rawImap(dovecot.port, { key: stranger.orgAuth.key, cert: bundle(stranger.orgAuth), ca: pki.trustPem }, 'AUTHENTICATE EXTERNAL =');
      expect(answer).to.match(/^a NO /);
    });
  });

  describe('the server\'s certificate', () => {
    it('is refused when it does not chain to our trust store: tls-certificate, permanent', async () => {
      const error = await refusal(fetchNewMessages(target({ tls: { ...ours, ca: stranger.root } })));
      expect(error).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'SELF_SIGNED_CERT_IN_CHAIN' });
    });

    it('is refused when it does not name the host called', async () => {
      const error = await refusal(fetchNewMessages(target({ tls: { ...ours, servername: 'imap.example' } })));
      expect(error).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });
  });

  describe('network failures', () => {
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => { s.close(resolve); })));
    });
    const listen = async (server: Server): Promise<number> => {
      servers.push(server);
      server.on('connection', (s: Socket) => { sockets.add(s); });
      server.on('secureConnection', (s: Socket) => { sockets.add(s); });
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };

    it('counts a refused connection as retryable', async () => {
      const port = await listen(createTcpServer());
      await new Promise((resolve) => { servers.pop()?.close(resolve); });
      const error = await refusal(fetchNewMessages(target({ port })));
      expect(error).to.include({ kind: 'connect-refused', retryable: true, code: 'partner-unavailable', causeCode: 'ECONNREFUSED' });
    });

    it('times out a TLS handshake that never comes: connect-timeout, retryable, in time', async () => {
      const port = await listen(createTcpServer(() => undefined));
      const started = Date.now();
      const error = await refusal(fetchNewMessages(target({ port, timeouts: { connectMs: 300, socketMs: 5_000 } })));
      expect(error).to.include({ kind: 'connect-timeout', retryable: true, causeCode: 'CONNECT_TIMEOUT' });
      expect(Date.now() - started).to.be.within(250, 3_000);
    });

    it('times out a server that completes TLS but never greets: response-timeout, retryable', async () => {
      const server = pki.tls(DEV_PKI_FILES.server);
      const port = await listen(createTlsServer({ key: server.key, cert: server.cert }, () => undefined));
      const error = await refusal(fetchNewMessages(target({ port, timeouts: { connectMs: 5_000, socketMs: 300 } })));
      expect(error).to.include({ kind: 'response-timeout', retryable: true });
    });

    it('counts a server that says BYE at once and hangs up as a reset, retryable', async () => {
      const server = pki.tls(DEV_PKI_FILES.server);
      const port = await listen(createTlsServer({ key: server.key, cert: server.cert }, (socket) => { socket.end('* BYE going away\r\n'); }));
      const error = await refusal(fetchNewMessages(target({ port })));
      expect(error).to.include({ kind: 'reset', retryable: true, code: 'partner-unavailable' });
    });
  });

  describe('classification of IMAP refusals that a healthy loopback Dovecot does not produce', () => {
    const imapError = (props: Record<string, unknown>): Error => Object.assign(new Error('message never read'), props);

    it('a login refused for now (UNAVAILABLE) is retryable, any other refusal permanent', () => {
      expect(classifyImapError(imapError({ authenticationFailed: true, responseStatus: 'NO', serverResponseCode: 'UNAVAILABLE' }), 'response')).to.include({ retryable: true, causeCode: 'IMAP UNAVAILABLE' });
      expect(classifyImapError(imapError({ authenticationFailed: true, responseStatus: 'NO', serverResponseCode: 'AUTHENTICATIONFAILED' }), 'response')).to.include({ kind: 'tls-certificate', retryable: false });
      expect(classifyImapError(imapError({ responseStatus: 'NO', serverResponseCode: 'SERVERBUG' }), 'response')).to.include({ retryable: true });
      expect(classifyImapError(imapError({ responseStatus: 'NO', serverResponseCode: 'NOPERM' }), 'response')).to.include({ retryable: false });
      expect(classifyImapError(imapError({ responseStatus: 'BAD' }), 'response')).to.include({ retryable: false });
    });

    it('throttling and closed connections are retryable; replies that are not IMAP or over the limits are permanent', () => {
      expect(classifyImapError(imapError({ code: 'ETHROTTLE' }), 'response')).to.include({ retryable: true });
      expect(classifyImapError(imapError({ code: 'NoConnection' }), 'response')).to.include({ kind: 'reset', retryable: true });
      expect(classifyImapError(imapError({ code: 'ParserError11' }), 'response')).to.include({ kind: 'malformed-response', retryable: false });
      expect(classifyImapError(imapError({ code: 'LiteralTooLarge' }), 'response')).to.include({ kind: 'response-too-large', retryable: false });
      expect(classifyImapError(imapError({ code: 'ECONNRESET' }), 'response')).to.include({ kind: 'reset', retryable: true });
    });
  });

  describe('stopping', () => {
    it('ends the master and closes the port', async () => {
      const own = mkdtempSync(join(tmpdir(), 'passerelle-imap-stop-'));
      try {
        const server = pki.tls(DEV_PKI_FILES.server);
        const instance = await startDovecot({ dir: own, serverCertPem: String(server.cert), serverKeyPem: String(server.key), clientCaPem: pki.trustPem, users: [{ mailbox: BAL, certificateName: 'x' }] });
        const pid = Number(readFileSync(join(own, 'run', 'master.pid'), 'utf8'));
        await instance.stop();
        expect(() => process.kill(pid, 0)).to.throw(/ESRCH/);
        const error = await refusal(fetchNewMessages({ ...target(), port: instance.port }));
        expect(error).to.include({ kind: 'connect-refused' });
      } finally {
        rmSync(own, { recursive: true, force: true });
      }
    });
  });
});
