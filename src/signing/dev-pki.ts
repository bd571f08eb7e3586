/**
 * A development PKI shaped like IGC-Santé's: a root CA, an intermediate CA for organisations, and
 * for one test structure (FINESS) the two certificates the DMP and MSSanté ask for: ORG AUTH_CLI
 * (TLS client authentication) and ORG SIGN (signatures: VIHF, XAdES, CDA). It also holds a server
 * certificate for the local sandboxes. Everything is generated when asked for, never committed.
 * Keys come from Node's crypto (native, fast), certificates are issued with node-forge.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as forgeModule from 'node-forge';

// node-forge is CommonJS and attaches its members at run time, so an ES import finds them on the
// default export only; the namespace import gives their types.
const forge = (forgeModule as unknown as { default: typeof forgeModule }).default;

export interface DevPkiOptions {
  /** FINESS of the test structure, e.g. 750803447. */
  readonly finess: string;
  readonly organisation: string;
  readonly now: Date;
  /** Validity of every certificate, from one hour before `now` (clock skew). Default 365 days. */
  readonly validityDays?: number;
  /** DNS names and IP addresses of the sandbox server certificate. */
  readonly serverNames?: readonly string[];
}

/** A certificate with its private key (PKCS#8 PEM) and the chain above it, nearest first. */
export interface PemIdentity {
  readonly certificate: string;
  readonly key: string;
  readonly chain: readonly string[];
}

export interface DevPki {
  readonly root: string;
  readonly intermediate: string;
  readonly orgAuth: PemIdentity;
  readonly orgSign: PemIdentity;
  readonly server: PemIdentity;
}

type Profile = 'root' | 'intermediate' | 'client' | 'signature' | 'server';

interface Issued {
  readonly cert: forgeModule.pki.Certificate;
  readonly key: forgeModule.pki.rsa.PrivateKey;
  readonly keyPem: string;
}

export function createDevPki(options: DevPkiOptions): DevPki {
  const dn = (cn: string, ou?: string): forgeModule.pki.CertificateField[] => [
    { shortName: 'C', value: 'FR' },
    { shortName: 'O', value: ou === undefined ? 'PASSERELLE DEV (imitation IGC-Sante, not trusted anywhere)' : options.organisation },
    ...(ou === undefined ? [] : [{ shortName: 'OU', value: ou }]),
    { shortName: 'CN', value: cn },
  ];
  const root = issue(options, 'root', dn('PASSERELLE DEV AC RACINE'));
  const intermediate = issue(options, 'intermediate', dn('PASSERELLE DEV AC ORGANISATIONS'), root);
  const leaf = (profile: Profile, cn: string): PemIdentity => {
    const issued = issue(options, profile, dn(cn, options.finess), intermediate);
    return { certificate: pem(issued.cert), key: issued.keyPem, chain: [pem(intermediate.cert), pem(root.cert)] };
  };
  return {
    root: pem(root.cert),
    intermediate: pem(intermediate.cert),
    orgAuth: leaf('client', `${options.finess} ORG AUTH_CLI`),
    orgSign: leaf('signature', `${options.finess} ORG SIGN`),
    server: leaf('server', options.serverNames?.[0] ?? 'localhost'),
  };

  function issue(o: DevPkiOptions, profile: Profile, subject: forgeModule.pki.CertificateField[], issuer?: Issued): Issued {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = forge.pki.privateKeyFromPem(keyPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    // 16 random bytes, high bit cleared: a positive serial (RFC 5280 §4.1.2.2).
    const serial = randomBytes(16);
    serial[0] = (serial[0] ?? 0) & 0x7f;
    cert.serialNumber = serial.toString('hex');
    cert.validity.notBefore = new Date(o.now.getTime() - 3600_000);
    cert.validity.notAfter = new Date(o.now.getTime() + (o.validityDays ?? 365) * 86_400_000);
    cert.setSubject(subject);
    cert.setIssuer(issuer === undefined ? subject : issuer.cert.subject.attributes);
    cert.setExtensions([
      ...extensions(profile, o),
      { name: 'subjectKeyIdentifier' },
      ...(issuer === undefined ? [] : [{ name: 'authorityKeyIdentifier', keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes() }]),
    ]);
    cert.sign(issuer?.key ?? key, forge.md.sha256.create());
    return { cert, key, keyPem };
  }
}

function extensions(profile: Profile, options: DevPkiOptions): object[] {
  switch (profile) {
    case 'root':
      return [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }];
    case 'intermediate':
      return [{ name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }];
    case 'client':
      return [{ name: 'basicConstraints', cA: false, critical: true }, { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true }, { name: 'extKeyUsage', clientAuth: true }];
    case 'signature':
      return [{ name: 'basicConstraints', cA: false, critical: true }, { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true }];
    case 'server': {
      const names = options.serverNames ?? ['localhost', '127.0.0.1', '::1'];
      const altNames = names.map((name) => (/^[\d.]+$|:/.test(name) ? { type: 7, ip: name } : { type: 2, value: name }));
      return [{ name: 'basicConstraints', cA: false, critical: true }, { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true }, { name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames }];
    }
  }
}

function pem(cert: forgeModule.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** The identity as a PKCS#12 file (AES-256, SHA-256 MAC), as IGC-Santé delivers certificates. */
export function toPkcs12(identity: PemIdentity, passphrase: string, friendlyName: string): Buffer {
  const key = forge.pki.privateKeyFromPem(identity.key);
  const certs = [identity.certificate, ...identity.chain].map((c) => forge.pki.certificateFromPem(c));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, passphrase, { algorithm: 'aes256', friendlyName, generateLocalKeyId: true });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
