/**
 * The certificates a verifier trusts, and the check that a signer's certificate chains up to one
 * of them. A certificate found in a signature's KeyInfo is a claim, never a trust decision: it
 * counts only once it chains to an anchor of this store (CVE-2024-32962 was a verifier that used
 * the KeyInfo key as such).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as forgeModule from 'node-forge';
import { certificatesFromPem, describeName } from './identity.js';
import { SignatureError } from './signature-xml.js';

const forge = (forgeModule as unknown as { default: typeof forgeModule }).default;

/** Longest chain accepted, anchor included (IGC-Santé: root, intermediate, leaf). */
const MAX_CHAIN_LENGTH = 6;

/** Chains already built, by the certificates they were built from (a signer signs many documents). */
const MAX_CACHED_CHAINS = 256;

interface CachedChain {
  readonly chain: X509Certificate[];
  /** The window in which every certificate of the chain is valid. */
  readonly from: number;
  readonly until: number;
}

export class TrustStore {
  private readonly chains = new Map<string, CachedChain>();

  private constructor(readonly anchors: readonly X509Certificate[]) {}

  static fromFile(path: string): TrustStore {
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      throw new SignatureError(`cannot read the trust store ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return TrustStore.fromPem(pem);
  }

  static fromPem(pem: string): TrustStore {
    const anchors = certificatesFromPem(pem);
    if (anchors.length === 0) throw new SignatureError('the trust store holds no PEM certificate');
    for (const anchor of anchors) if (!anchor.ca) throw new SignatureError(`the trust store certificate ${describeName(anchor.subject)} is not a CA`);
    return new TrustStore(anchors);
  }

  /**
   * The chain from `leaf` to an anchor, through `intermediates` (untrusted, e.g. from KeyInfo).
   * Every certificate must be valid at `at`, every issuer a CA, each signature right, and the
   * leaf's key usage must allow signing.
   */
  verifySigner(leaf: X509Certificate, intermediates: readonly X509Certificate[], at: Date): X509Certificate[] {
    const key = [leaf, ...intermediates].map((c) => c.fingerprint256).join(' ');
    const cached = this.chains.get(key);
    if (cached !== undefined && at.getTime() >= cached.from && at.getTime() <= cached.until) return [...cached.chain];
    const chain = this.buildChain(leaf, intermediates, at);
    if (this.chains.size >= MAX_CACHED_CHAINS) this.chains.clear();
    this.chains.set(key, {
      chain,
      from: Math.max(...chain.map((c) => new Date(c.validFrom).getTime())),
      until: Math.min(...chain.map((c) => new Date(c.validTo).getTime())),
    });
    return [...chain];
  }

  private buildChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], at: Date): X509Certificate[] {
    checkValidity(leaf, at);
    checkSigningKeyUsage(leaf);
    const chain = [leaf];
    for (let current = leaf; chain.length < MAX_CHAIN_LENGTH;) {
      const anchor = this.anchors.find((a) => issued(current, a));
      if (anchor !== undefined) {
        checkValidity(anchor, at);
        if (!anchor.raw.equals(current.raw)) chain.push(anchor);
        return chain;
      }
      const issuer = intermediates.find((c) => !chain.includes(c) && c.ca && issued(current, c));
      if (issuer === undefined) throw new SignatureError(`the certificate ${describeName(current.subject)} does not chain to a trusted CA (issuer ${describeName(current.issuer)})`);
      checkValidity(issuer, at);
      chain.push(issuer);
      current = issuer;
    }
    throw new SignatureError(`the certificate chain is longer than ${String(MAX_CHAIN_LENGTH)}`);
  }
}

function issued(subject: X509Certificate, issuer: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

function checkValidity(certificate: X509Certificate, at: Date): void {
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (at < notBefore) throw new SignatureError(`the certificate ${describeName(certificate.subject)} is not valid before ${notBefore.toISOString()}`);
  if (at > notAfter) throw new SignatureError(`the certificate ${describeName(certificate.subject)} expired on ${notAfter.toISOString()}`);
}

/** RFC 5280 §4.2.1.3: when keyUsage is present, digitalSignature or nonRepudiation must be set. */
function checkSigningKeyUsage(certificate: X509Certificate): void {
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') throw new SignatureError(`the signer's key is ${certificate.publicKey.asymmetricKeyType ?? 'unknown'}, not RSA`);
  const parsed = forge.pki.certificateFromPem(certificate.toString());
  const usage = parsed.getExtension('keyUsage') as { digitalSignature?: boolean; nonRepudiation?: boolean } | null;
  if (usage !== null && usage.digitalSignature !== true && usage.nonRepudiation !== true) throw new SignatureError(`the certificate ${describeName(certificate.subject)} may not sign (keyUsage)`);
}
