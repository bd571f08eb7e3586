/**
 * Signing identities (a private key, its certificate and the chain above it) loaded from PKCS#12,
 * as IGC-Santé delivers them, or from PEM files. The key lives in a KeyObject, which neither
 * prints nor serializes its material: a logged identity shows its certificate only.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import * as forgeModule from 'node-forge';
import { SignatureError } from './signature-xml.js';

// node-forge is CommonJS and attaches its members at run time (see dev-pki.ts).
const forge = (forgeModule as unknown as { default: typeof forgeModule }).default;

/** Where an identity comes from: a PKCS#12 file and its passphrase (given, or in a file), or PEM files. */
export type SigningIdentitySource =
  | { readonly pkcs12File: string; readonly passphrase?: string; readonly passphraseFile?: string }
  | { readonly certFile: string; readonly keyFile: string };

export interface SigningIdentity {
  readonly key: KeyObject;
  readonly certificate: X509Certificate;
  /** Certificates above the signer's, nearest first (the trust anchor may be left out). */
  readonly chain: readonly X509Certificate[];
}

/** An identity as PEM, for TLS: the certificate followed by its chain, and the key (PKCS#8). */
export function pemOfIdentity(identity: SigningIdentity): { readonly certificatePem: string; readonly keyPem: string } {
  return {
    certificatePem: [identity.certificate, ...identity.chain].map((c) => c.toString()).join('\n'),
    keyPem: identity.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A name as Node gives it (one attribute a line, the root's first), for people: `CN=…, O=…, C=FR`. */
export const describeName = (name: string): string => name.split('\n').reverse().join(', ');

/** RFC 4514 form of a name, as XAdES X509IssuerName and SAML X509SubjectName carry it. */
export function rfc4514Name(name: string): string {
  return name.split('\n').reverse().map((rdn) => {
    const eq = rdn.indexOf('=');
    return `${rdn.slice(0, eq)}=${rdn.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ')}`;
  }).join(',');
}

function identity(key: KeyObject, certificate: X509Certificate, chain: readonly X509Certificate[]): SigningIdentity {
  if (key.asymmetricKeyType !== 'rsa') throw new SignatureError(`the signing key is ${key.asymmetricKeyType ?? 'unknown'}, not RSA (the DMP's signatures are RSA)`);
  if (!certificate.checkPrivateKey(key)) throw new SignatureError(`the private key does not belong to the certificate ${describeName(certificate.subject)}`);
  const described = { certificate: describeName(certificate.subject), serialNumber: certificate.serialNumber, validTo: certificate.validTo };
  return Object.freeze({
    key,
    certificate,
    chain,
    toJSON: () => described,
    [inspect.custom]: () => `SigningIdentity ${JSON.stringify(described)}`,
  });
}

/** Every certificate of a PEM bundle, in order. */
export function certificatesFromPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** A PEM private key (PKCS#8 or PKCS#1) and a PEM bundle whose first certificate is the signer's. */
export function identityFromPem(keyPem: string, certificatesPem: string): SigningIdentity {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    // The reason from OpenSSL may quote the input; never echo key material.
    throw new SignatureError('the private key file is not a readable, unencrypted PEM private key');
  }
  const [certificate, ...chain] = certificatesFromPem(certificatesPem);
  if (certificate === undefined) throw new SignatureError('the certificate file holds no PEM certificate');
  return identity(key, certificate, chain);
}

/**
 * A PKCS#12 file: its one private key, the certificate that matches it, and the other certificates
 * as the chain, ordered from the signer upwards.
 */
export function identityFromPkcs12(der: Buffer, passphrase: string): SigningIdentity {
  let p12: forgeModule.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), passphrase);
  } catch {
    throw new SignatureError('the PKCS#12 file cannot be opened: wrong passphrase, or not a PKCS#12 file');
  }
  const bags = (type: string): forgeModule.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
  const oids = forge.pki.oids as Record<'pkcs8ShroudedKeyBag' | 'keyBag' | 'certBag', string>;
  const keyBags = [...bags(oids.pkcs8ShroudedKeyBag), ...bags(oids.keyBag)];
  if (keyBags.length !== 1 || keyBags[0]?.key === undefined) throw new SignatureError(`the PKCS#12 file holds ${String(keyBags.length)} private keys; one is expected`);
  const key = createPrivateKey(forge.pki.privateKeyToPem(keyBags[0].key));
  const certificates = bags(oids.certBag)
    .flatMap((bag) => (bag.cert === undefined ? [] : [new X509Certificate(forge.pki.certificateToPem(bag.cert))]));
  const signer = certificates.find((c) => c.checkPrivateKey(key));
  if (signer === undefined) throw new SignatureError('the PKCS#12 file holds no certificate for its private key');
  const chain: X509Certificate[] = [];
  let current = signer;
  for (;;) {
    const issuer = certificates.find((c) => c !== current && !chain.includes(c) && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  return identity(key, signer, chain);
}

/** Reads the files of `source`; every failure is a SignatureError naming the file, never its content. */
export function loadSigningIdentity(source: SigningIdentitySource): SigningIdentity {
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new SignatureError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  if ('pkcs12File' in source) {
    const passphrase = source.passphrase ?? (source.passphraseFile === undefined ? '' : read(source.passphraseFile).toString('utf8').replace(/\r?\n$/, ''));
    try {
      return identityFromPkcs12(read(source.pkcs12File), passphrase);
    } catch (error) {
      throw new SignatureError(`${source.pkcs12File}: ${(error as Error).message}`);
    }
  }
  return identityFromPem(read(source.keyFile).toString('utf8'), read(source.certFile).toString('utf8'));
}

/** Base64 of a certificate's DER, as XMLDSig's X509Certificate carries it. */
export const certificateBase64 = (certificate: X509Certificate): string => certificate.raw.toString('base64');
