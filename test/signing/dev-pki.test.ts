import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runCli } from '../support/cli.js';
import { requireTool } from '../support/tools.js';

/** Opens a TLS connection to a server requiring client certificates; resolves with what each side saw. */
async function handshake(dir: string, client: { cert: string; key: string }): Promise<{ clientAuthorized: boolean; serverSawClient: boolean; error?: string }> {
  const read = (name: string): Buffer => readFileSync(join(dir, name));
  let serverSawClient = false;
  const server = createServer({ cert: read('server.pem'), key: read('server.key'), ca: read('trust.pem'), requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
    serverSawClient = socket.authorized;
    socket.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: read('trust.pem'), cert: client.cert, key: client.key });
      socket.once('data', () => { resolve({ clientAuthorized: socket.authorized, serverSawClient }); socket.destroy(); });
      socket.once('error', (error) => { resolve({ clientAuthorized: false, serverSawClient, error: error.message }); });
      socket.once('end', () => { resolve({ clientAuthorized: socket.authorized, serverSawClient, error: 'closed by the server' }); });
    });
  } finally {
    server.close();
  }
}

describe('passerelle pki dev', function () {
  this.timeout(60_000);
  let dir: string;
  let other: string;
  before(async function () {
    const base = mkdtempSync(join(tmpdir(), 'passerelle-pki-'));
    dir = join(base, 'pki');
    other = join(base, 'other');
    const r = await runCli(['pki', 'dev', '--out', dir, '--finess', '750803447']);
    expect(r.code, r.stderr).to.equal(0);
    expect((await runCli(['pki', 'dev', '--out', other])).code).to.equal(0);
  });
  after(() => { if (dir !== undefined) rmSync(join(dir, '..'), { recursive: true, force: true }); });

  it('issues ORG AUTH_CLI, ORG SIGN and server certificates that openssl verifies up to the root, for their purposes', function () {
    requireTool(this, 'openssl', 'openssl');
    const verify = (name: string, purpose: string): string => execFileSync('openssl', ['verify', '-CAfile', join(dir, 'trust.pem'), '-untrusted', join(dir, 'intermediate-ca.pem'), '-purpose', purpose, join(dir, `${name}.pem`)], { encoding: 'utf8' });
    expect(verify('org-auth', 'sslclient')).to.contain(': OK');
    expect(verify('server', 'sslserver')).to.contain(': OK');
    expect(verify('org-sign', 'any')).to.contain(': OK');
    const text = (name: string): string => execFileSync('openssl', ['x509', '-in', join(dir, `${name}.pem`), '-noout', '-subject', '-ext', 'keyUsage,extendedKeyUsage,subjectAltName'], { encoding: 'utf8' });
    expect(text('org-auth')).to.match(/CN = 750803447 ORG AUTH_CLI/).and.match(/TLS Web Client Authentication/);
    expect(text('org-sign')).to.match(/CN = 750803447 ORG SIGN/).and.match(/Non Repudiation/).and.not.match(/TLS Web/);
    expect(text('server')).to.match(/DNS:localhost/).and.match(/IP Address:127\.0\.0\.1/);
    // Another PKI's certificate does not chain to this root.
    expect(() => execFileSync('openssl', ['verify', '-CAfile', join(dir, 'trust.pem'), '-untrusted', join(other, 'intermediate-ca.pem'), join(other, 'org-auth.pem')], { stdio: 'pipe' })).to.throw();
  });

  it('writes PKCS#12 files that openssl opens with the generated passphrase, and keeps keys owner-readable', function () {
    requireTool(this, 'openssl', 'openssl');
    const passphrase = readFileSync(join(dir, 'pkcs12-passphrase'), 'utf8').trim();
    const listed = execFileSync('openssl', ['pkcs12', '-in', join(dir, 'org-sign.p12'), '-passin', `pass:${passphrase}`, '-nokeys'], { encoding: 'utf8' });
    expect(listed.match(/BEGIN CERTIFICATE/g)).to.have.length(3);
    expect(() => execFileSync('openssl', ['pkcs12', '-in', join(dir, 'org-sign.p12'), '-passin', 'pass:wrong', '-nokeys'], { stdio: 'pipe' })).to.throw();
    for (const name of ['org-auth.key', 'org-sign.key', 'server.key', 'org-sign.p12', 'pkcs12-passphrase']) expect(statSync(join(dir, name)).mode & 0o077, name).to.equal(0);
  });

  it('gives a working mutual TLS on loopback, and a server that refuses a client from another PKI', async () => {
    const ours = await handshake(dir, { cert: readFileSync(join(dir, 'org-auth.pem'), 'utf8'), key: readFileSync(join(dir, 'org-auth.key'), 'utf8') });
    expect(ours).to.deep.equal({ clientAuthorized: true, serverSawClient: true });
    const theirs = await handshake(dir, { cert: readFileSync(join(other, 'org-auth.pem'), 'utf8'), key: readFileSync(join(other, 'org-auth.key'), 'utf8') });
    expect(theirs.serverSawClient).to.equal(false);
    expect(theirs.error).to.not.equal(undefined);
  });

  it('refuses to overwrite a PKI and checks its options', async () => {
    expect((await runCli(['pki', 'dev', '--out', dir])).code).to.equal(2);
    const bad = await runCli(['pki', 'dev', '--out', join(dir, 'x'), '--finess', '750803448', '--days', '0']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--finess').and.contain('--days');
  });
});
