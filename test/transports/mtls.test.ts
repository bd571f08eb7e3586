import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Agent } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, type SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { PasserelleError } from '../../src/domain/errors.js';
import { createDevPki, type DevPki, type PemIdentity } from '../../src/signing/dev-pki.js';
import { identityFromPem } from '../../src/signing/identity.js';
import { createMtlsAgent, postSoap, tlsClientOptions, type TlsClientOptions } from '../../src/transports/soap/http-client.js';
import { TransportError, classifyHttpStatus, classifySocketError, httpStatusError } from '../../src/transports/soap/transport-error.js';
import { requireTool } from '../support/tools.js';
import { refusal } from '../support/transport.js';

const SOAP = 'application/soap+xml; charset=UTF-8';
const ACTION = 'urn:ihe:iti:2007:RegistryStoredQuery';
const TIMEOUTS = { connectMs: 5_000, tlsMs: 5_000, responseMs: 5_000 };
const MAX_RESPONSE = 1024 * 1024;
const REPLY = '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>';

const bundle = (identity: PemIdentity): string => [identity.certificate, ...identity.chain].join('');
const client = (identity: PemIdentity | undefined, trust: string, servername?: string): TlsClientOptions => ({
  key: identity?.key ?? '',
  cert: identity === undefined ? '' : bundle(identity),
  ca: trust,
  ...(servername === undefined ? {} : { servername }),
});

interface TestServer {
  readonly url: string;
  readonly port: number;
  /** TLS sessions the server completed. */
  readonly sessions: () => number;
  close(): Promise<void>;
}

const listening = async (server: TcpServer): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/** The partner as Node serves it: a client certificate from `trust` is required. */
async function httpsServer(o: { identity: PemIdentity; trust: string; maxVersion?: SecureVersion; handler?: (req: IncomingMessage, res: ServerResponse) => void }): Promise<TestServer> {
  const answer = o.handler ?? ((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': SOAP }).end(REPLY); });
  });
  const server = createServer({ key: o.identity.key, cert: bundle(o.identity), ca: o.trust, requestCert: true, rejectUnauthorized: true, ...(o.maxVersion === undefined ? {} : { maxVersion: o.maxVersion }) }, answer);
  let sessions = 0;
  server.on('secureConnection', () => { sessions += 1; });
  // Refused handshakes are the point of several tests; the server has nothing to say about them.
  server.on('tlsClientError', () => undefined);
  const port = await listening(server);
  return {
    url: `https://127.0.0.1:${String(port)}/registry`,
    port,
    sessions: () => sessions,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }),
  };
}

/**
 * The partner as OpenSSL serves it (as Apache httpd or nginx do): a client certificate that does
 * not verify ends the handshake with the TLS alert that says why, which Node's own server never
 * sends (it verifies after the handshake and just closes).
 */
async function opensslServer(dir: string, o: { identity: PemIdentity; trust: string; version: 'tls1_2' | 'tls1_3' }): Promise<{ url: string; process: ChildProcess }> {
  const file = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
  };
  const args = ['s_server', '-accept', '127.0.0.1:0', '-cert', file('server.pem', o.identity.certificate), '-cert_chain', file('chain.pem', o.identity.chain.join('')), '-key', file('server.key', o.identity.key), '-CAfile', file('trust.pem', o.trust), '-Verify', '3', '-verify_return_error', `-${o.version}`, '-www'];
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString('utf8');
      const match = /ACCEPT\s+\S*:(\d+)/.exec(out);
      if (match !== null) resolve(Number(match[1]));
    });
    child.on('exit', (code) => { reject(new Error(`openssl s_server exited (${String(code)}): ${out}`)); });
  });
  return { url: `https://127.0.0.1:${String(port)}/`, process: child };
}

async function call(url: string, agent: Agent, o: { body?: Buffer; timeouts?: typeof TIMEOUTS; maxResponseBytes?: number } = {}): Promise<{ status: number; contentType?: string; body: Buffer }> {
  return postSoap({ url, agent, contentType: SOAP, action: ACTION, body: o.body ?? Buffer.from('<soap:Envelope/>'), timeouts: o.timeouts ?? TIMEOUTS, maxResponseBytes: o.maxResponseBytes ?? MAX_RESPONSE });
}

describe('SOAP over mutual TLS (real TLS on loopback)', function () {
  this.timeout(120_000);
  const now = new Date();
  let ours: DevPki;
  let stranger: DevPki;
  let expired: DevPki;
  const agents: Agent[] = [];
  const agent = (options: TlsClientOptions): Agent => {
    const made = createMtlsAgent(options);
    agents.push(made);
    return made;
  };
  const ourClient = (): Agent => agent(client(ours.orgAuth, ours.root));

  before(() => {
    ours = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now });
    stranger = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now });
    // Valid for one day, ten days ago: every certificate of it has expired.
    expired = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now: new Date(now.getTime() - 10 * 86_400_000), validityDays: 1 });
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.destroy();
  });

  describe('our ORG AUTH_CLI certificate', () => {
    let server: TestServer;
    const seen: { contentType?: string; body?: Buffer; subject?: string }[] = [];
    before(async () => {
      server = await httpsServer({
        identity: ours.server,
        trust: ours.root,
        handler: (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const subject = req.socket instanceof TLSSocket ? String(req.socket.getPeerCertificate().subject.CN) : 'not TLS';
            seen.push({ ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }), body: Buffer.concat(chunks), subject });
            res.writeHead(200, { 'content-type': SOAP }).end(REPLY);
          });
        },
      });
    });
    after(async () => { await server?.close(); });

    it('is accepted: the partner sees our certificate, the SOAP 1.2 action in the content type, the body intact', async () => {
      const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
      const reply = await call(server.url, ourClient(), { body });
      expect(reply).to.deep.include({ status: 200, contentType: SOAP });
      expect(reply.body.toString('utf8')).to.equal(REPLY);
      const last = seen.at(-1);
      expect(last?.subject).to.equal('750803447 ORG AUTH_CLI');
      expect(last?.contentType).to.equal(`${SOAP}; action="${ACTION}"`);
      expect(last?.body?.equals(body)).to.equal(true);
    });

    it('works from an identity loaded as the configuration loads it (key, certificate and chain)', async () => {
      const identity = identityFromPem(ours.orgAuth.key, bundle(ours.orgAuth));
      expect((await call(server.url, agent(tlsClientOptions(identity, ours.root)))).status).to.equal(200);
    });

    it('keeps the connection alive: the next call reuses the TLS session', async () => {
      const before = server.sessions();
      const shared = ourClient();
      for (let i = 0; i < 3; i += 1) expect((await call(server.url, shared)).status).to.equal(200);
      expect(server.sessions() - before).to.equal(1);
    });

    it('never turns off the verification of the partner, and asks for TLS 1.2 at least', () => {
      const options = ourClient().options as { rejectUnauthorized?: boolean; minVersion?: string; keepAlive?: boolean };
      // That nothing turns it off anywhere is a lint rule (eslint.config.js, no-restricted-syntax).
      expect(options).to.include({ rejectUnauthorized: true, minVersion: 'TLSv1.2', keepAlive: true });
    });

    it('refuses a URL that is not https before any connection', async () => {
      const error: unknown = await postSoap({ url: 'http://127.0.0.1:1/registry', agent: ourClient(), contentType: SOAP, action: ACTION, body: Buffer.alloc(0), timeouts: TIMEOUTS, maxResponseBytes: 1 }).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(PasserelleError).with.property('code', 'config-invalid');
    });
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    describe(`a Node partner refusing client certificates (${version})`, () => {
      let server: TestServer;
      before(async () => { server = await httpsServer({ identity: ours.server, trust: ours.root, maxVersion: version }); });
      after(async () => { await server?.close(); });

      it('answers the right certificate', async () => {
        expect((await call(server.url, ourClient())).status).to.equal(200);
      });

      it('refuses a client without a certificate, classified permanent', async () => {
        const error = await refusal(call(server.url, agent(client(undefined, ours.root))));
        // TLS 1.3: the certificate_required alert; TLS 1.2: handshake_failure, which Node reports as write EPROTO.
        expect(error).to.include({ retryable: false, code: 'partner-rejected', causeCode: version === 'TLSv1.3' ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'EPROTO' });
      });

      it('refuses a certificate from another CA or an expired one by closing the connection (no alert: a reset, retryable)', async () => {
        // Node's server verifies the client's certificate after the handshake and destroys the
        // socket without an alert, so the client sees what a network reset looks like.
        for (const identity of [stranger.orgAuth, expired.orgAuth]) {
          const error = await refusal(call(server.url, agent(client(identity, ours.root))));
          expect(error.causeCode).to.equal('ECONNRESET');
          expect(error.kind).to.equal(version === 'TLSv1.3' ? 'reset' : 'tls-handshake');
        }
      });
    });
  }

  for (const version of ['tls1_3', 'tls1_2'] as const) {
    describe(`an OpenSSL partner refusing client certificates with an alert (${version})`, () => {
      let dir: string;
      let server: { url: string; process: ChildProcess } | undefined;
      before(async function () {
        requireTool(this, 'openssl', 'openssl');
        dir = mkdtempSync(join(tmpdir(), 'passerelle-mtls-'));
        // It trusts the expired PKI's root too, so that the expiry, not the CA, is what it refuses.
        server = await opensslServer(dir, { identity: ours.server, trust: ours.root + expired.root, version });
      });
      after(() => {
        server?.process.kill();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });

      const cases = [
        { name: 'no certificate', identity: (): PemIdentity | undefined => undefined, tls13: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' },
        { name: 'a certificate from another CA', identity: (): PemIdentity | undefined => stranger.orgAuth, tls13: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
        { name: 'an expired certificate', identity: (): PemIdentity | undefined => expired.orgAuth, tls13: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED' },
        { name: 'our certificate without its intermediate CA', identity: (): PemIdentity | undefined => ({ ...ours.orgAuth, chain: [] }), tls13: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
      ];
      for (const c of cases) {
        it(`is refused with ${c.name}, classified permanent`, async () => {
          const error = await refusal(call(server?.url ?? '', agent(client(c.identity(), ours.root))));
          // TLS 1.2: the alert arrives on Node's write path, which keeps the errno only.
          expect(error).to.include({ retryable: false, code: 'partner-rejected', causeCode: version === 'tls1_3' ? c.tls13 : 'EPROTO' });
          expect(error.kind).to.equal(version === 'tls1_3' ? 'tls-certificate' : 'tls-handshake');
        });
      }
    });
  }

  describe('the partner\'s certificate', () => {
    const servers: TestServer[] = [];
    afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });
    const serve = async (identity: PemIdentity): Promise<TestServer> => {
      const s = await httpsServer({ identity, trust: ours.root });
      servers.push(s);
      return s;
    };

    it('is refused when it comes from a CA we do not trust (whole chain, or the leaf alone)', async () => {
      const chained = await refusal(call((await serve(stranger.server)).url, ourClient()));
      expect(chained).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'SELF_SIGNED_CERT_IN_CHAIN' });
      const leafOnly = await refusal(call((await serve({ ...stranger.server, chain: [] })).url, ourClient()));
      expect(leafOnly).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    });

    it('is refused when it has expired, even from a trusted CA', async () => {
      const error = await refusal(call((await serve(expired.server)).url, agent(client(ours.orgAuth, ours.root + expired.root))));
      expect(error).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'CERT_HAS_EXPIRED' });
    });

    it('is refused when it does not name the host called', async () => {
      const error = await refusal(call((await serve(ours.server)).url, agent(client(ours.orgAuth, ours.root, 'dmp.example'))));
      expect(error).to.include({ kind: 'tls-certificate', retryable: false, causeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });
  });

  describe('network failures and replies', () => {
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => { await Promise.all(closers.splice(0).map((close) => close())); });
    const serve = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> => {
      const s = await httpsServer({ identity: ours.server, trust: ours.root, handler });
      closers.push(() => s.close());
      return s;
    };
    const tcp = async (onConnection: (socket: import('node:net').Socket) => void): Promise<number> => {
      const server = createTcpServer(onConnection);
      const sockets = new Set<import('node:net').Socket>();
      server.on('connection', (s) => { sockets.add(s); });
      const port = await listening(server);
      closers.push(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => { resolve(); }); }));
      return port;
    };

    it('times out a partner that never answers: response-timeout, retryable', async () => {
      const server = await serve(() => undefined);
      const started = Date.now();
      const error = await refusal(call(server.url, ourClient(), { timeouts: { ...TIMEOUTS, responseMs: 300 } }));
      expect(error).to.include({ kind: 'response-timeout', retryable: true, code: 'partner-unavailable' });
      expect(Date.now() - started).to.be.within(250, 3000);
    });

    it('counts a reply trickling in past the response time-out as a time-out', async () => {
      const server = await serve((req, res) => {
        res.writeHead(200, { 'content-type': SOAP });
        const timer = setInterval(() => { res.write(' '); }, 50);
        res.on('close', () => { clearInterval(timer); });
      });
      const error = await refusal(call(server.url, ourClient(), { timeouts: { ...TIMEOUTS, responseMs: 400 } }));
      expect(error).to.include({ kind: 'response-timeout', retryable: true });
    });

    it('times out a TLS handshake that never comes: tls-handshake, retryable', async () => {
      const port = await tcp(() => undefined);
      const error = await refusal(call(`https://127.0.0.1:${String(port)}/`, ourClient(), { timeouts: { ...TIMEOUTS, tlsMs: 300 } }));
      expect(error).to.include({ kind: 'tls-handshake', retryable: true });
    });

    it('counts a connection closed during the handshake as retryable', async () => {
      const port = await tcp((socket) => { socket.destroy(); });
      const error = await refusal(call(`https://127.0.0.1:${String(port)}/`, ourClient()));
      expect(error).to.include({ kind: 'tls-handshake', retryable: true, causeCode: 'ECONNRESET' });
    });

    it('counts a refused connection as retryable', async () => {
      const port = await tcp(() => undefined);
      await closers.pop()?.();
      const error = await refusal(call(`https://127.0.0.1:${String(port)}/`, ourClient()));
      expect(error).to.include({ kind: 'connect-refused', retryable: true, causeCode: 'ECONNREFUSED' });
    });

    it('counts TLS spoken to a plain HTTP port as permanent (a wrong URL)', async () => {
      const server = createHttpServer((req, res) => { res.end('plain'); });
      const port = await listening(server);
      closers.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }));
      const error = await refusal(call(`https://127.0.0.1:${String(port)}/`, ourClient()));
      expect(error).to.include({ kind: 'tls-handshake', retryable: false, causeCode: 'EPROTO' });
    });

    it('returns the status and body of an HTTP error, which classify as 503 retryable and 400 permanent', async () => {
      const server = await serve((req, res) => {
        const status = Number(req.url?.slice(1));
        req.resume();
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${String(status)}`);
      });
      const base = server.url.replace(/\/registry$/, '');
      const shared = ourClient();
      const unavailable = await call(`${base}/503`, shared);
      expect(unavailable).to.deep.include({ status: 503, contentType: 'text/plain' });
      expect(unavailable.body.toString()).to.equal('status 503');
      expect(httpStatusError(unavailable.status, unavailable.contentType)).to.include({ kind: 'http-status', retryable: true, code: 'partner-unavailable', httpStatus: 503 });
      const bad = await call(`${base}/400`, shared);
      expect(httpStatusError(bad.status)).to.include({ retryable: false, code: 'partner-rejected', httpStatus: 400 });
      for (const [status, verdict] of [[500, 'retryable'], [502, 'retryable'], [408, 'retryable'], [429, 'retryable'], [401, 'permanent'], [403, 'permanent'], [404, 'permanent'], [301, 'permanent']] as const) {
        expect(classifyHttpStatus(status), String(status)).to.equal(verdict);
      }
    });

    it('stops reading a reply over the size limit, declared or streamed: response-too-large, permanent', async () => {
      const server = await serve((req, res) => {
        req.resume();
        if (req.url === '/declared') res.writeHead(200, { 'content-type': SOAP, 'content-length': String(MAX_RESPONSE + 1) });
        else res.writeHead(200, { 'content-type': SOAP });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('error', () => undefined);
        pump();
      });
      const base = server.url.replace(/\/registry$/, '');
      for (const path of ['/declared', '/streamed']) {
        const error = await refusal(call(`${base}${path}`, ourClient()));
        expect(error, path).to.include({ kind: 'response-too-large', retryable: false, code: 'partner-rejected' });
      }
    });

    it('counts a connection the partner destroys in the middle of its reply as a reset, retryable', async () => {
      const server = await serve((req, res) => {
        req.resume();
        if (req.url === '/chunked') res.writeHead(200, { 'content-type': SOAP });
        else res.writeHead(200, { 'content-type': SOAP, 'content-length': '10000' });
        res.write('<soap:Envelope');
        setTimeout(() => { res.socket?.destroy(); }, 50);
      });
      const base = server.url.replace(/\/registry$/, '');
      for (const path of ['/declared', '/chunked']) {
        const error = await refusal(call(`${base}${path}`, ourClient()));
        expect(error, path).to.include({ kind: 'reset', retryable: true, code: 'partner-unavailable', causeCode: 'ECONNRESET' });
      }
    });
  });

  describe('classification of the error codes the network may give', () => {
    const classify = (code: string, phase: 'connect' | 'tls' | 'response' = 'connect'): TransportError => classifySocketError(Object.assign(new Error('message never read'), { code }), phase);

    it('DNS: a name that does not exist is permanent (a wrong URL), a resolver that fails for now is retryable', () => {
      expect(classify('ENOTFOUND')).to.include({ kind: 'dns', retryable: false });
      expect(classify('EAI_AGAIN')).to.include({ kind: 'dns', retryable: true });
    });

    it('unreachable hosts, resets and time-outs of the network are retryable; bytes that are not HTTP are permanent', () => {
      for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) expect(classify(code)).to.include({ kind: 'connect-refused', retryable: true });
      expect(classify('ETIMEDOUT')).to.include({ kind: 'connect-timeout', retryable: true });
      expect(classify('EPIPE', 'response')).to.include({ kind: 'reset', retryable: true });
      expect(classify('HPE_INVALID_CONSTANT', 'response')).to.include({ kind: 'malformed-response', retryable: false });
      expect(classify('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', 'tls')).to.include({ kind: 'tls-handshake', retryable: true });
      expect(classify('SOMETHING_NEW')).to.include({ kind: 'network', retryable: true });
    });

    it('keeps a TransportError as it is', () => {
      const original = httpStatusError(503);
      expect(classifySocketError(original, 'response')).to.equal(original);
    });
  });
});
