/**
 * The submission-set signature the DMP expects with each ITI-41 (IHE DSG, XAdES-BES): a detached
 * signature document whose ds:Manifest references the submission set and each of its documents
 * by `urn:oid:` uniqueId, with xades:SignedProperties giving the signing time and the signing
 * certificate's digest. The layout is the one a working DMP client sends (french-specs §3.4 and
 * its addendum: ANS DRIMbox XadesSign): XAdES 1.1.1, C14N 1.0 with comments, RSA-SHA1, SHA-1.
 * SHA-256 with exclusive C14N is the other profile, chosen by configuration.
 */
import { X509Certificate } from 'node:crypto';
import { C14N, DIGEST, ENVELOPED_SIGNATURE, PURPOSE_OF_SIGNATURE_SOURCE, REFERENCE_TYPE, SIGNATURE, XADES_111_NS, XMLDSIG_NS, type C14nAlgorithm, type DigestAlgorithm, type SignatureAlgorithm } from './algorithms.js';
import { referencedOctets, type Transform } from './canonicalize.js';
import { describeName, rfc4514Name, type SigningIdentity } from './identity.js';
import { SignatureError, elementChildren, escapeXml, isDsig, parseSignedXml, strictBase64, textOnly } from './signature-xml.js';
import type { TrustStore } from './trust-store.js';
import { digestBase64, keyInfoXml, parseReference, referenceXml, restoredDigestBase64, signRootTemplate, signedInfoTemplateXml, verifySignature, type Signatory } from './xmldsig.js';

export interface XadesProfile {
  readonly canonicalization: C14nAlgorithm;
  readonly signature: SignatureAlgorithm;
  readonly digest: DigestAlgorithm;
}

export const XADES_PROFILES = {
  /** What DRIMbox sends to the DMP today (the default). */
  dmp: { canonicalization: C14N.inclusiveWithComments, signature: SIGNATURE.rsaSha1, digest: DIGEST.sha1 },
  sha256: { canonicalization: C14N.exclusive, signature: SIGNATURE.rsaSha256, digest: DIGEST.sha256 },
} as const satisfies Record<string, XadesProfile>;
export type XadesProfileName = keyof typeof XADES_PROFILES;

export const MANIFEST_ID = 'IHEManifest';
export const SIGNED_PROPERTIES_ID = 'S0-SignedProperties';
/**
 * The digest DRIMbox gives the submission set's Manifest reference: the submission set has no
 * octets of its own to digest (it is metadata), so the reference names it and carries a
 * placeholder. Verification checks its URI, not this value.
 */
const SUBMISSION_SET_DIGEST = 'AA==';

export interface SignedDocument {
  /** The document's XDS uniqueId (for a CDA: ClinicalDocument/id, root^extension). */
  readonly uniqueId: string;
  readonly content: Buffer;
  /** XML documents are digested in canonical form (with the transform named in the reference). */
  readonly xml: boolean;
}

export interface SubmissionSetToSign {
  readonly submissionSetUniqueId: string;
  readonly documents: readonly SignedDocument[];
  /** Id of the ds:Signature, also the signature DocumentEntry's id in the submission set. */
  readonly signatureId: string;
}

const serialDecimal = (certificate: X509Certificate): string => BigInt(`0x${certificate.serialNumber}`).toString(10);

function documentTransforms(document: SignedDocument, profile: XadesProfile): Transform[] {
  return document.xml ? [{ algorithm: profile.canonicalization }] : [];
}

/** The digest of a document as its Manifest reference states it. */
function documentDigest(document: SignedDocument, transforms: readonly Transform[], digest: DigestAlgorithm): string {
  const [transform, ...more] = transforms;
  if (transform === undefined) return digestBase64(digest, document.content);
  if (more.length > 0 || transform.algorithm === ENVELOPED_SIGNATURE) throw new SignatureError(`the Manifest reference of ${document.uniqueId} has transforms other than one canonicalization`);
  const parsed = parseSignedXml(document.content);
  return restoredDigestBase64(digest, parsed, referencedOctets(parsed.root, transforms, parsed.root));
}

export function signSubmissionSet(set: SubmissionSetToSign, identity: SigningIdentity, signingTime: Date, profile: XadesProfile = XADES_PROFILES.dmp): Buffer {
  if (!/^[A-Za-z_][\w.-]*$/.test(set.signatureId)) throw new SignatureError(`the signature id "${set.signatureId}" is not an XML identifier`);
  const uniqueIds = [set.submissionSetUniqueId, ...set.documents.map((d) => d.uniqueId)];
  if (new Set(uniqueIds).size !== uniqueIds.length) throw new SignatureError('the submission set and its documents need distinct uniqueIds');
  const manifest = [
    referenceXml({ uri: `urn:oid:${set.submissionSetUniqueId}`, transforms: [], digest: profile.digest }, SUBMISSION_SET_DIGEST),
    ...set.documents.map((d) => {
      const transforms = documentTransforms(d, profile);
      return referenceXml({ uri: `urn:oid:${d.uniqueId}`, transforms, digest: profile.digest }, documentDigest(d, transforms, profile.digest));
    }),
  ].join('');
  const signer = identity.certificate;
  const signedProperties = `<xades:SignedProperties Id="${SIGNED_PROPERTIES_ID}"><xades:SignedSignatureProperties><xades:SigningTime>${signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z')}</xades:SigningTime><xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${profile.digest}"/><ds:DigestValue>${digestBase64(profile.digest, signer.raw)}</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>${escapeXml(rfc4514Name(signer.issuer))}</ds:X509IssuerName><ds:X509SerialNumber>${serialDecimal(signer)}</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate><xades:SignaturePolicyIdentifier><xades:SignaturePolicyImplied/></xades:SignaturePolicyIdentifier></xades:SignedSignatureProperties><xades:SignedDataObjectProperties/></xades:SignedProperties>`;
  const template = `<?xml version="1.0" encoding="UTF-8"?>\n<ds:Signature xmlns:ds="${XMLDSIG_NS}" Id="${set.signatureId}">${signedInfoTemplateXml({
    canonicalization: profile.canonicalization,
    signature: profile.signature,
    references: [
      { uri: `#${MANIFEST_ID}`, type: REFERENCE_TYPE.manifest, transforms: [{ algorithm: profile.canonicalization }], digest: profile.digest },
      { uri: `#${SIGNED_PROPERTIES_ID}`, type: REFERENCE_TYPE.signedProperties111, transforms: [{ algorithm: profile.canonicalization }], digest: profile.digest },
    ],
  })}${keyInfoXml(identity)}<ds:Object><ds:SignatureProperties><ds:SignatureProperty Id="purposeOfSignature" Target="#${set.signatureId}">${PURPOSE_OF_SIGNATURE_SOURCE}</ds:SignatureProperty></ds:SignatureProperties></ds:Object><ds:Object><ds:Manifest Id="${MANIFEST_ID}">${manifest}</ds:Manifest></ds:Object><ds:Object><xades:QualifyingProperties xmlns:xades="${XADES_111_NS}" Target="#${set.signatureId}">${signedProperties}</xades:QualifyingProperties></ds:Object></ds:Signature>`;
  return signRootTemplate(template, identity);
}

export interface VerifiedSubmissionSetSignature extends Signatory {
  readonly signingTime: Date;
  readonly submissionSetUniqueId: string;
  /** The uniqueIds of the documents whose digests were checked. */
  readonly documentUniqueIds: readonly string[];
}

/**
 * Verifies a submission-set signature and its Manifest: exactly the submission set and the
 * `documents` given must be referenced, each document's digest must match, and the signing
 * certificate named in SignedProperties must be the signer's.
 */
export function verifySubmissionSetSignature(signature: Buffer, expected: { readonly submissionSetUniqueId?: string; readonly documents: readonly SignedDocument[] }, trust: TrustStore, at: Date): VerifiedSubmissionSetSignature {
  const parsed = parseSignedXml(signature);
  const root = parsed.root;
  if (!isDsig(root, 'Signature')) throw new SignatureError('a submission-set signature has ds:Signature as its root');
  const profiles = Object.values(XADES_PROFILES);
  const verified = verifySignature(parsed, root, { trust, at, canonicalizations: profiles.map((p) => p.canonicalization), signatures: profiles.map((p) => p.signature), digests: profiles.map((p) => p.digest) });

  const byType = (type: string): Element => {
    const matching = verified.references.filter((r) => r.type === type);
    const [only] = matching;
    if (matching.length !== 1 || only === undefined) throw new SignatureError(`the signature has ${String(matching.length)} references of type ${type}; one is expected`);
    return only.element;
  };
  if (verified.references.length !== 2) throw new SignatureError(`the signature has ${String(verified.references.length)} references; a Manifest and SignedProperties are expected`);
  const manifest = byType(REFERENCE_TYPE.manifest);
  const signedProperties = byType(REFERENCE_TYPE.signedProperties111);
  if (!isDsig(manifest, 'Manifest') || manifest.parentNode?.parentNode !== root) throw new SignatureError('the Manifest reference does not name a ds:Manifest of this signature');
  const qualifying = signedProperties.parentNode as Element | null;
  if (signedProperties.namespaceURI !== XADES_111_NS || signedProperties.localName !== 'SignedProperties' || qualifying?.localName !== 'QualifyingProperties' || qualifying.parentNode?.parentNode !== root || qualifying.getAttribute('Target') !== `#${root.getAttribute('Id') ?? ''}`) {
    throw new SignatureError('the SignedProperties reference does not name the xades:SignedProperties qualifying this signature');
  }
  const signingTime = checkSignedProperties(signedProperties, verified.signer);

  // The Manifest: the submission set first, then one reference per document, nothing else.
  const [setReference, ...documentReferences] = elementChildren(manifest).map((element) => {
    const reference = parseReference(element, false);
    if (!reference.uri.startsWith('urn:oid:')) throw new SignatureError(`a Manifest reference must be urn:oid:, not "${reference.uri}"`);
    return { ...reference, uri: reference.uri.slice('urn:oid:'.length) };
  });
  if (setReference === undefined) throw new SignatureError('the Manifest is empty');
  if (expected.submissionSetUniqueId !== undefined && setReference.uri !== expected.submissionSetUniqueId) throw new SignatureError(`the signature is for submission set ${setReference.uri}, not ${expected.submissionSetUniqueId}`);
  const given = new Map(expected.documents.map((d) => [d.uniqueId, d]));
  const referenced = documentReferences.map((r) => r.uri);
  const missing = referenced.filter((uri) => !given.has(uri));
  const extra = [...given.keys()].filter((uri) => !referenced.includes(uri));
  if (new Set(referenced).size !== referenced.length) throw new SignatureError('the Manifest references a document twice');
  if (missing.length > 0) throw new SignatureError(`the Manifest references documents that were not given: ${missing.join(', ')}`);
  if (extra.length > 0) throw new SignatureError(`the Manifest does not reference ${extra.join(', ')}`);
  for (const reference of documentReferences) {
    const document = given.get(reference.uri) as SignedDocument;
    const actual = Buffer.from(documentDigest(document, reference.transforms, reference.digest), 'base64');
    if (!actual.equals(strictBase64(reference.digestValueElement, `the DigestValue of ${reference.uri}`))) throw new SignatureError(`the digest of document ${reference.uri} does not match: the document was changed`);
  }
  return { signer: verified.signer, chain: verified.chain, signingTime, submissionSetUniqueId: setReference.uri, documentUniqueIds: referenced };
}

/** SigningTime within the signer's validity, and SigningCertificate naming the signer (XAdES §7.2.1-2). */
function checkSignedProperties(signedProperties: Element, signer: X509Certificate): Date {
  const find = (parent: Element, ns: string, name: string): Element => {
    const found = elementChildren(parent).filter((e) => e.namespaceURI === ns && e.localName === name);
    const [only] = found;
    if (found.length !== 1 || only === undefined) throw new SignatureError(`SignedProperties needs one ${name}`);
    return only;
  };
  const properties = find(signedProperties, XADES_111_NS, 'SignedSignatureProperties');
  const time = new Date(textOnly(find(properties, XADES_111_NS, 'SigningTime'), 'SigningTime').trim());
  if (Number.isNaN(time.getTime())) throw new SignatureError('SigningTime is not a date-time');
  if (time < new Date(signer.validFrom) || time > new Date(signer.validTo)) throw new SignatureError('SigningTime is outside the signer certificate\'s validity');
  const cert = find(find(properties, XADES_111_NS, 'SigningCertificate'), XADES_111_NS, 'Cert');
  const certDigest = find(cert, XADES_111_NS, 'CertDigest');
  const algorithm = find(certDigest, XMLDSIG_NS, 'DigestMethod').getAttribute('Algorithm') as DigestAlgorithm;
  if (!Object.values(DIGEST).includes(algorithm)) throw new SignatureError(`the certificate digest method ${algorithm} is not accepted`);
  if (!strictBase64(find(certDigest, XMLDSIG_NS, 'DigestValue'), 'CertDigest').equals(Buffer.from(digestBase64(algorithm, signer.raw), 'base64'))) {
    throw new SignatureError(`SigningCertificate does not name the signer's certificate (${describeName(signer.subject)})`);
  }
  const serial = textOnly(find(find(cert, XADES_111_NS, 'IssuerSerial'), XMLDSIG_NS, 'X509SerialNumber'), 'X509SerialNumber').trim();
  if (serial !== serialDecimal(signer)) throw new SignatureError('the IssuerSerial serial number is not the signer\'s');
  return time;
}

/** The XDS uniqueId of a CDA: ClinicalDocument/id, `root^extension` when it has an extension (french-specs §3.1). */
export function cdaUniqueId(cda: Buffer): string {
  const parsed = parseSignedXml(cda);
  const clinical = isDsig(parsed.root, 'Signature') ? elementChildren(parsed.root).filter((e) => isDsig(e, 'Object')).flatMap(elementChildren).find((e) => e.localName === 'ClinicalDocument') : parsed.root;
  const id = clinical === undefined ? undefined : elementChildren(clinical).find((e) => e.localName === 'id');
  const root = id?.getAttribute('root');
  if (clinical?.localName !== 'ClinicalDocument' || root === undefined || root === null || root === '') throw new SignatureError('the document is not a CDA with an id');
  const extension = id?.getAttribute('extension');
  return extension === null || extension === undefined || extension === '' ? root : `${root}^${extension}`;
}
