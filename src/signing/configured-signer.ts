/**
 * The signing identity and trust store of the configuration, loaded once and checked together:
 * the ORG SIGN certificate must chain to the trust store and be valid now, or the gateway does not
 * start (and the CLI does not sign).
 */
import { PasserelleError } from '../domain/errors.js';
import { loadSigningIdentity, type SigningIdentity, type SigningIdentitySource } from './identity.js';
import { SignatureError } from './signature-xml.js';
import { TrustStore } from './trust-store.js';

export interface Signer {
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
}

export function loadSigner(source: SigningIdentitySource, trustFile: string, now: Date): Signer {
  try {
    const identity = loadSigningIdentity(source);
    const trust = TrustStore.fromFile(trustFile);
    trust.verifySigner(identity.certificate, identity.chain, now);
    return { identity, trust };
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    throw new PasserelleError('config-invalid', `the signing identity cannot be used: ${error.message}`, {
      violations: [{ pointer: '/signing/identity', rule: 'CONFIG_SIGNING_IDENTITY', message: error.message, hint: 'Check the ORG SIGN certificate, its key or passphrase, and PASSERELLE_TRUST_FILE.' }],
    });
  }
}
