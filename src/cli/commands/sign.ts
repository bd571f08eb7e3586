/**
 * `passerelle sign --type cda|xades|vihf …`: signs with the configured ORG SIGN identity (or the
 * one given by --p12/--passphrase-file or --cert/--key), checked against the trust store first.
 *   cda    FILE                       the enveloping signed CDA of FILE
 *   xades  --submission-set OID FILE… the submission-set signature of the documents FILE…
 *   vihf   [--patient INS] …          a VIHF assertion valid for signing.vihfValiditySeconds
 * Exit 0 written, 1 refused (e.g. not a CDA), 2 usage or unreadable input.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { isValidNir } from '../../domain/identifiers.js';
import { loadSigner } from '../../signing/configured-signer.js';
import { describeName, type SigningIdentitySource } from '../../signing/identity.js';
import { signCda } from '../../signing/signed-cda.js';
import { SignatureError } from '../../signing/signature-xml.js';
import { signVihf, type AuthenticationMode, type VihfAttributes } from '../../signing/vihf.js';
import { cdaUniqueId, signSubmissionSet, XADES_PROFILES } from '../../signing/xades.js';
import { readInputFile, type CliIo } from '../io.js';

/** INS OID of a NIR used as INS (1.2.250.1.213.1.4.8), as the VIHF resource-id carries it. */
const INS_NIR_OID = '1.2.250.1.213.1.4.8';

export function runSign(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      type: { type: 'string' }, output: { type: 'string' }, config: { type: 'string' },
      p12: { type: 'string' }, 'passphrase-file': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, trust: { type: 'string' },
      'submission-set': { type: 'string' }, 'signature-id': { type: 'string', default: 'submission-set-signature' }, profile: { type: 'string' },
      patient: { type: 'string' }, 'name-id': { type: 'string' }, 'subject-id': { type: 'string', default: 'Passerelle' }, 'structure-id': { type: 'string' },
      sector: { type: 'string', default: 'SA07^1.2.250.1.71.4.2.4' }, role: { type: 'string', default: '10^1.2.250.1.71.1.2.7' }, mode: { type: 'string', default: 'INDIRECTE' },
    },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const problems: string[] = [];
  const type = values.type;
  if (type !== 'cda' && type !== 'xades' && type !== 'vihf') problems.push('--type must be cda, xades or vihf');
  if (type === 'cda' && positionals.length !== 1) problems.push('--type cda signs one FILE');
  if (type === 'xades' && (positionals.length === 0 || values['submission-set'] === undefined)) problems.push('--type xades needs --submission-set OID and the documents of the submission set');
  if (type === 'vihf' && positionals.length > 0) problems.push('--type vihf takes no FILE');
  if (values.patient !== undefined && !isValidNir(values.patient)) problems.push('--patient must be an INS (a NIR or NIA of 15 digits whose key is right)');
  const profile = values.profile ?? config.signing.xadesProfile;
  if (profile !== 'dmp' && profile !== 'sha256') problems.push('--profile must be dmp or sha256');
  if (!['DIRECTE', 'INDIRECTE', 'INDIRECTE_RENFORCEE'].includes(values.mode)) problems.push('--mode must be DIRECTE, INDIRECTE or INDIRECTE_RENFORCEE');
  const [roleCode, roleSystem] = values.role.split('^');
  if (roleCode === undefined || roleSystem === undefined) problems.push('--role must be CODE^CODESYSTEM');
  const source = identitySource(values, config.signing.identity);
  const trustFile = values.trust ?? config.signing.trustFile;
  if (source === undefined) problems.push('no signing identity: give --p12 FILE --passphrase-file FILE, or --cert FILE --key FILE, or configure signing.identity');
  if (trustFile === undefined) problems.push('no trust store: give --trust CA.pem or set PASSERELLE_TRUST_FILE');
  if (problems.length > 0 || source === undefined || trustFile === undefined) throw new PasserelleError('usage', problems.join('; '));

  const now = new Date();
  const { identity } = loadSigner(source, trustFile, now);
  let out: Buffer;
  try {
    if (type === 'cda') {
      out = signCda(readInputFile(positionals[0] ?? ''), identity);
    } else if (type === 'xades') {
      const documents = positionals.map((path) => {
        const content = readInputFile(path);
        return { uniqueId: cdaUniqueId(content), content, xml: true };
      });
      out = signSubmissionSet({ submissionSetUniqueId: values['submission-set'] ?? '', documents, signatureId: values['signature-id'] }, identity, now, XADES_PROFILES[profile as 'dmp' | 'sha256']);
    } else {
      const structureId = values['structure-id'] ?? `1${/OU=(\d{9})/.exec(identity.certificate.subject.replace(/\n/g, ','))?.[1] ?? ''}`;
      const attributes: VihfAttributes = {
        version: '3.0',
        nameId: values['name-id'] ?? structureId,
        subjectId: values['subject-id'],
        roles: [{ code: roleCode ?? '', codeSystem: roleSystem ?? '' }],
        purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248' },
        structureId,
        sector: values.sector,
        authenticationMode: values.mode as AuthenticationMode,
        authnContext: 'unspecified',
        ...(values.patient === undefined ? {} : { patientId: `${values.patient}^^^&${INS_NIR_OID}&ISO^NH` }),
        lps: { name: 'Passerelle', version: '0.1.0', homologationId: 'PASSERELLE-NON-HOMOLOGUE' },
      };
      out = signVihf(attributes, identity, { now, validitySeconds: config.signing.vihfValiditySeconds });
    }
  } catch (error) {
    if (error instanceof SignatureError) throw new PasserelleError('document-invalid', error.message);
    throw error;
  }
  if (values.output === undefined) io.stdout(out.toString('utf8'));
  else writeFileSync(values.output, out);
  io.stderr(`passerelle sign: ${type} signed by ${describeName(identity.certificate.subject)}\n`);
  return Promise.resolve(0);
}

function identitySource(values: { p12?: string | undefined; 'passphrase-file'?: string | undefined; cert?: string | undefined; key?: string | undefined }, configured: SigningIdentitySource | undefined): SigningIdentitySource | undefined {
  if (values.p12 !== undefined) return { pkcs12File: values.p12, ...(values['passphrase-file'] === undefined ? {} : { passphraseFile: values['passphrase-file'] }) };
  if (values.cert !== undefined && values.key !== undefined) return { certFile: values.cert, keyFile: values.key };
  return configured;
}
