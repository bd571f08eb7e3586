/**
 * Signing in tests: development PKIs written to temporary folders (for xmlsec1, the reference C
 * implementation the signatures are checked against), and a runner for xmlsec1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevPki } from '../../src/signing/dev-pki.js';
import { identityFromPem, type SigningIdentity } from '../../src/signing/identity.js';
import { TrustStore } from '../../src/signing/trust-store.js';

export interface TestSigner {
  readonly dir: string;
  readonly rootFile: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly intermediateFile: string;
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
  remove(): void;
}

/** A development PKI valid from one hour before `now` for `validityDays`; its ORG SIGN identity. */
export function testSigner(now = new Date(), validityDays = 30): TestSigner {
  const pki = createDevPki({ finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now, validityDays });
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-sign-'));
  const file = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
  };
  return {
    dir,
    rootFile: file('root.pem', pki.root),
    keyFile: file('org-sign.key', pki.orgSign.key),
    certFile: file('org-sign.pem', pki.orgSign.certificate),
    intermediateFile: file('intermediate.pem', pki.intermediate),
    identity: identityFromPem(pki.orgSign.key, [pki.orgSign.certificate, ...pki.orgSign.chain].join('')),
    trust: TrustStore.fromPem(pki.root),
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** ID attributes xmlsec1 must be told about: SAML's ID and XAdES's SignedProperties Id. */
export const XMLSEC_ID_ATTRIBUTES = ['--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion', '--id-attr:Id', 'http://uri.etsi.org/01903/v1.1.1#:SignedProperties'];

/** Runs xmlsec1 on `input` written to a file (its last argument); ok, and what it printed. */
export function xmlsec1(args: readonly string[], input: Buffer): { ok: boolean; output: string; file: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-xmlsec-'));
  const path = join(dir, 'input.xml');
  const out = join(dir, 'output.xml');
  writeFileSync(path, input);
  try {
    const printed = execFileSync('xmlsec1', [...args, ...(args[0] === '--sign' ? ['--output', out] : []), path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
    return { ok: true, output: printed, file: args[0] === '--sign' ? readFileSync(out) : Buffer.alloc(0) };
  } catch (error) {
    const e = error as { stderr?: Buffer; stdout?: Buffer; message: string };
    return { ok: false, output: `${e.stdout?.toString('utf8') ?? ''}${e.stderr?.toString('utf8') ?? e.message}`, file: Buffer.alloc(0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `xmlsec1 --verify` trusting only `rootFile`. */
export function xmlsecVerify(signed: Buffer, rootFile: string, extra: readonly string[] = []): { ok: boolean; output: string } {
  return xmlsec1(['--verify', '--trusted-pem', rootFile, ...XMLSEC_ID_ATTRIBUTES, ...extra], signed);
}
