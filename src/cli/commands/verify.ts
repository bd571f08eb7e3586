/**
 * `passerelle verify --trust CA.pem [--document FILE]… [--submission-set OID] [--at DATE-TIME]
 * [--extract FILE] FILE`: verifies a signed CDA, a XAdES submission-set signature (its Manifest
 * against the documents given) or a VIHF, trusting only the CA certificates of --trust. The kind
 * is read from the file's root element. Exit 0 valid, 1 invalid (with the reason), 2 usage.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { SAML2_NS } from '../../signing/algorithms.js';
import { verifySignedCda } from '../../signing/signed-cda.js';
import { SignatureError, elementChildren, isDsig, parseSignedXml } from '../../signing/signature-xml.js';
import { describeName } from '../../signing/identity.js';
import { TrustStore } from '../../signing/trust-store.js';
import { verifyVihf } from '../../signing/vihf.js';
import { cdaUniqueId, verifySubmissionSetSignature } from '../../signing/xades.js';
import { readInputFile, type CliIo } from '../io.js';

export function runVerify(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { trust: { type: 'string' }, document: { type: 'string', multiple: true, default: [] }, 'submission-set': { type: 'string' }, at: { type: 'string' }, extract: { type: 'string' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const problems: string[] = [];
  const trustFile = values.trust ?? config.signing.trustFile;
  if (trustFile === undefined) problems.push('--trust CA.pem is required (or PASSERELLE_TRUST_FILE)');
  if (positionals.length !== 1) problems.push('give one signed FILE');
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime())) problems.push('--at must be a date-time');
  if (problems.length > 0 || trustFile === undefined) throw new PasserelleError('usage', problems.join('; '));
  let trust: TrustStore;
  try {
    trust = TrustStore.fromPem(readInputFile(trustFile).toString('utf8'));
  } catch (error) {
    if (error instanceof SignatureError) throw new PasserelleError('usage', `${trustFile}: ${error.message}`);
    throw error;
  }
  const file = positionals[0] ?? '';
  const signed = readInputFile(file);
  try {
    const kind = signatureKind(signed);
    if (kind === 'cda') {
      const verified = verifySignedCda(signed, trust, at);
      if (values.extract !== undefined) writeFileSync(values.extract, verified.document);
      io.stdout(`${file}: valid signed CDA ${cdaUniqueId(verified.document)}, signed by ${describeName(verified.signer.subject)}\n`);
    } else if (kind === 'xades') {
      const documents = values.document.map((path) => {
        const content = readInputFile(path);
        return { uniqueId: cdaUniqueId(content), content, xml: true };
      });
      const verified = verifySubmissionSetSignature(signed, { documents, ...(values['submission-set'] === undefined ? {} : { submissionSetUniqueId: values['submission-set'] }) }, trust, at);
      io.stdout(`${file}: valid submission-set signature of ${verified.submissionSetUniqueId} (documents ${verified.documentUniqueIds.join(', ')}), signed by ${describeName(verified.signer.subject)} at ${verified.signingTime.toISOString()}\n`);
    } else {
      const verified = verifyVihf(signed, trust, at);
      io.stdout(`${file}: valid VIHF ${verified.id} for ${verified.nameId}, valid until ${verified.notOnOrAfter.toISOString()}, signed by ${describeName(verified.signer.subject)}\n`);
    }
    return Promise.resolve(0);
  } catch (error) {
    if (error instanceof SignatureError) throw new PasserelleError('signature-invalid', `${file}: invalid signature: ${error.message}`);
    throw error;
  }
}

/** What a signed file is, from its root element. */
function signatureKind(signed: Buffer): 'cda' | 'xades' | 'vihf' {
  const { root } = parseSignedXml(signed);
  if (root.namespaceURI === SAML2_NS && root.localName === 'Assertion') return 'vihf';
  if (!isDsig(root, 'Signature')) throw new SignatureError('the file is neither a ds:Signature nor a SAML assertion');
  const objects = elementChildren(root).filter((e) => isDsig(e, 'Object')).flatMap(elementChildren);
  return objects.some((e) => isDsig(e, 'Manifest')) ? 'xades' : 'cda';
}
