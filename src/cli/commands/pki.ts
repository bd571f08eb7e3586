/**
 * `passerelle pki dev --out DIR [--finess N] [--organisation NAME] [--days N]`: writes a
 * development PKI shaped like IGC-Santé's (see src/signing/dev-pki.ts). Private keys and PKCS#12
 * files are written readable by the owner only; the PKCS#12 passphrase is generated and written
 * to DIR/pkcs12-passphrase. Refuses to overwrite an existing PKI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isValidFiness } from '../../domain/identifiers.js';
import { PasserelleError } from '../../domain/errors.js';
import { createDevPki, toPkcs12, type DevPkiOptions, type PemIdentity } from '../../signing/dev-pki.js';
import { loadSigningIdentity, type SigningIdentity } from '../../signing/identity.js';
import type { CliIo } from '../io.js';

export function runPki(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'dev') throw new PasserelleError('usage', 'pki: the subcommand is "dev"');
  const { values } = parseArgs({
    args: rest,
    options: { out: { type: 'string' }, finess: { type: 'string', default: '750803447' }, organisation: { type: 'string', default: 'ETABLISSEMENT DE DEVELOPPEMENT PASSERELLE' }, days: { type: 'string', default: '365' } },
    strict: true,
  });
  const problems: string[] = [];
  if (values.out === undefined) problems.push('--out DIR is required');
  if (!isValidFiness(values.finess)) problems.push('--finess must be a FINESS whose check digit is right, e.g. 750803447');
  const days = Number(values.days);
  if (!(Number.isInteger(days) && days >= 1 && days <= 3650)) problems.push('--days must be an integer from 1 to 3650');
  if (problems.length > 0 || values.out === undefined) throw new PasserelleError('usage', problems.join('; '));
  const out = values.out;
  if (existsSync(join(out, 'root-ca.pem'))) throw new PasserelleError('usage', `${out} already holds a PKI (root-ca.pem); choose another folder or remove it`);

  writeDevPki(out, { finess: values.finess, organisation: values.organisation, now: new Date(), validityDays: days });
  io.stdout(`development PKI for FINESS ${values.finess} written to ${out}:
  trust.pem (root CA), intermediate-ca.pem
  org-auth.{pem,key,p12}   ORG AUTH_CLI: TLS client authentication (DMP, MSSanté)
  org-sign.{pem,key,p12}   ORG SIGN: VIHF, XAdES and CDA signatures
  server.{pem,key,p12}     the sandboxes' TLS server (localhost, 127.0.0.1, ::1)
  pkcs12-passphrase        passphrase of the .p12 files (owner-readable only, as the keys)
Never use it outside development: it imitates IGC-Santé and is trusted by nothing else.
`);
  return Promise.resolve(0);
}

/** File names of a development PKI folder, as `serve --dev` and the sandboxes read them. */
export const DEV_PKI_FILES = { trust: 'trust.pem', passphrase: 'pkcs12-passphrase', orgSign: 'org-sign.p12', orgAuth: 'org-auth.p12', server: 'server.p12' } as const;

/** Writes a development PKI to `out`: PEM and PKCS#12 of each identity, keys owner-readable only. */
export function writeDevPki(out: string, options: DevPkiOptions): void {
  const pki = createDevPki(options);
  const passphrase = randomBytes(24).toString('base64url');
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const write = (name: string, content: string | Buffer, secret = false): void => {
    writeFileSync(join(out, name), content, { mode: secret ? 0o600 : 0o644 });
  };
  write('root-ca.pem', pki.root);
  write('intermediate-ca.pem', pki.intermediate);
  write(DEV_PKI_FILES.trust, pki.root);
  write(DEV_PKI_FILES.passphrase, `${passphrase}\n`, true);
  const identity = (name: string, id: PemIdentity): void => {
    write(`${name}.pem`, [id.certificate, ...id.chain].join(''));
    write(`${name}.key`, id.key, true);
    write(`${name}.p12`, toPkcs12(id, passphrase, name), true);
  };
  identity('org-auth', pki.orgAuth);
  identity('org-sign', pki.orgSign);
  identity('server', pki.server);
}

/** FINESS of the development structure (its check digit is right; it is the ANS examples' one). */
const DEV_FINESS = '750803447';

/** The development PKI folder of a data directory, made on first use. */
export function ensureDevPki(dataDir: string): string {
  const dir = join(dataDir, 'pki');
  if (!existsSync(join(dir, DEV_PKI_FILES.trust))) writeDevPki(dir, { finess: DEV_FINESS, organisation: 'ETABLISSEMENT DE DEVELOPPEMENT PASSERELLE', now: new Date(), validityDays: 365 });
  return dir;
}


/** A development PKI folder as its users read it: the trust anchors, and each identity by file name. */
export function readDevPki(dir: string): { readonly trustPem: string; readonly identity: (file: string) => SigningIdentity } {
  const passphrase = readFileSync(join(dir, DEV_PKI_FILES.passphrase), 'utf8').trim();
  return { trustPem: readFileSync(join(dir, DEV_PKI_FILES.trust), 'utf8'), identity: (file) => loadSigningIdentity({ pkcs12File: join(dir, file), passphrase }) };
}
