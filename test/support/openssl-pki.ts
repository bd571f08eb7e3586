/**
 * A throw-away PKI made with the openssl command (Debian's `openssl`): a CA, a server certificate
 * for 127.0.0.1, and client certificates from that CA and from an unrelated one. For TLS tests
 * until the project's own development PKI (passerelle pki dev) exists.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly client: { readonly cert: Buffer; readonly key: Buffer; readonly fingerprint256: string };
  readonly stranger: { readonly cert: Buffer; readonly key: Buffer };
  readonly ca: Buffer;
  remove(): void;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-pki-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ca = (name: string): void => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.pem`), '-days', '2', '-subj', `/O=Passerelle tests/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (name: string, issuer: string, extensions: string): void => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/O=Passerelle tests/CN=${name}`);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${issuer}.pem`), '-CAkey', path(`${issuer}.key`), '-CAcreateserial', '-out', path(`${name}.pem`), '-days', '2', '-extfile', path(`${name}.ext`));
  };
  ca('test-ca');
  ca('stranger-ca');
  leaf('server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const fingerprint = openssl('x509', '-in', path('client.pem'), '-noout', '-fingerprint', '-sha256').trim().replace(/^.*=/, '').replace(/:/g, '');
  return {
    dir,
    caFile: path('test-ca.pem'),
    serverCertFile: path('server.pem'),
    serverKeyFile: path('server.key'),
    ca: readFileSync(path('test-ca.pem')),
    client: { cert: readFileSync(path('client.pem')), key: readFileSync(path('client.key')), fingerprint256: fingerprint },
    stranger: { cert: readFileSync(path('stranger.pem')), key: readFileSync(path('stranger.key')) },
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}
