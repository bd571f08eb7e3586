/**
 * XML Signature core shared by the three profiles (signed CDA, XAdES submission set, VIHF):
 * completing a signature template (digests, then the signature value), and verifying a
 * signature strictly. Profiles build the template and check which references must be there.
 *
 * Templates are text, completed by splicing the computed values in: the signed content keeps its
 * bytes (a CDA enveloped by its signature stays byte-for-byte what was built), and nothing is
 * re-serialized. The DOM is only used to canonicalize.
 */
import { createHash, sign as rsaSign, timingSafeEqual, verify as rsaVerify, X509Certificate } from 'node:crypto';
import { C14N, DIGEST, DIGEST_NODE_NAME, ENVELOPED_SIGNATURE, SIGNATURE_NODE_NAME, XMLDSIG_NS, type C14nAlgorithm, type DigestAlgorithm, type SignatureAlgorithm } from './algorithms.js';
import { canonicalize, isC14nAlgorithm, referencedOctets, type Transform } from './canonicalize.js';
import { certificateBase64, type SigningIdentity } from './identity.js';
import { SignatureError, descendants, elementChildren, escapeXml, identifiedElements, isDsig, parseSignedXml, strictBase64, type ParsedXml } from './signature-xml.js';
import type { TrustStore } from './trust-store.js';

export interface ReferenceTemplate {
  readonly uri: string;
  readonly type?: string;
  readonly transforms: readonly Transform[];
  readonly digest: DigestAlgorithm;
}

export interface SignedInfoTemplate {
  readonly canonicalization: C14nAlgorithm;
  readonly signature: SignatureAlgorithm;
  readonly references: readonly ReferenceTemplate[];
}

const EMPTY_DIGEST = '<ds:DigestValue></ds:DigestValue>';
const EMPTY_SIGNATURE_VALUE = '<ds:SignatureValue></ds:SignatureValue>';

export function digestBase64(algorithm: DigestAlgorithm, data: string | Buffer): string {
  return createHash(DIGEST_NODE_NAME[algorithm]).update(data).digest('base64');
}

/** The digest of canonical output with its long runs put back, hashed piece by piece (no copy of the whole). */
export function restoredDigestBase64(algorithm: DigestAlgorithm, parsed: ParsedXml, canonical: string): string {
  const hash = createHash(DIGEST_NODE_NAME[algorithm]);
  parsed.restoreInto(canonical, (chunk) => hash.update(chunk));
  return hash.digest('base64');
}

function transformsXml(transforms: readonly Transform[]): string {
  if (transforms.length === 0) return '';
  const one = (t: Transform): string => 'inclusivePrefixes' in t && t.inclusivePrefixes.length > 0
    ? `<ds:Transform Algorithm="${t.algorithm}"><ec:InclusiveNamespaces xmlns:ec="${C14N.exclusive}" PrefixList="${escapeXml(t.inclusivePrefixes.join(' '))}"/></ds:Transform>`
    : `<ds:Transform Algorithm="${t.algorithm}"/>`;
  return `<ds:Transforms>${transforms.map(one).join('')}</ds:Transforms>`;
}

/** A ds:Reference; with no digest given, its DigestValue is left empty for completeSignature. */
export function referenceXml(reference: ReferenceTemplate, digestValue = ''): string {
  const type = reference.type === undefined ? '' : ` Type="${escapeXml(reference.type)}"`;
  return `<ds:Reference URI="${escapeXml(reference.uri)}"${type}>${transformsXml(reference.transforms)}<ds:DigestMethod Algorithm="${reference.digest}"/><ds:DigestValue>${digestValue}</ds:DigestValue></ds:Reference>`;
}

/** ds:SignedInfo and an empty ds:SignatureValue, for a template (the `ds` prefix bound by an ancestor). */
export function signedInfoTemplateXml(template: SignedInfoTemplate): string {
  return `<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${template.canonicalization}"/><ds:SignatureMethod Algorithm="${template.signature}"/>${template.references.map((r) => referenceXml(r)).join('')}</ds:SignedInfo>${EMPTY_SIGNATURE_VALUE}`;
}

/** KeyInfo with the signer's certificate, then the chain (so that a verifier needs only the root). */
export function keyInfoXml(identity: SigningIdentity): string {
  const chain = identity.chain.filter((c) => !(c.ca && c.checkIssued(c)));
  return `<ds:KeyInfo><ds:X509Data>${[identity.certificate, ...chain].map((c) => `<ds:X509Certificate>${certificateBase64(c)}</ds:X509Certificate>`).join('')}</ds:X509Data></ds:KeyInfo>`;
}

/**
 * Completes the one signature template of `text`: the digest of each reference, in order, then
 * the signature value of the canonical SignedInfo.
 */
export function completeSignature(parsed: ParsedXml, text: string, signature: Element, identity: SigningIdentity): string {
  const signedInfo = parseSignedInfo(signature);
  const ids = identifiedElements(parsed.root);
  const digests = signedInfo.references.map((reference) => {
    const target = resolve(ids, reference.uri);
    const value = restoredDigestBase64(reference.digest, parsed, referencedOctets(target, reference.transforms, signature));
    reference.digestValueElement.appendChild(parsed.document.createTextNode(value));
    return value;
  });
  const signatureValue = rsaSign(SIGNATURE_NODE_NAME[signedInfo.signature], Buffer.from(canonicalSignedInfo(signedInfo)), identity.key).toString('base64');

  const start = text.indexOf('<ds:SignedInfo>');
  let out = text.slice(0, start);
  let rest = text.slice(start);
  for (const digest of digests) {
    const at = rest.indexOf(EMPTY_DIGEST);
    if (at < 0) throw new SignatureError('the template has fewer empty digests than references');
    out += `${rest.slice(0, at)}<ds:DigestValue>${digest}</ds:DigestValue>`;
    rest = rest.slice(at + EMPTY_DIGEST.length);
  }
  const at = rest.indexOf(EMPTY_SIGNATURE_VALUE);
  if (at < 0) throw new SignatureError('the template has no empty SignatureValue');
  return `${out}${rest.slice(0, at)}<ds:SignatureValue>${signatureValue}</ds:SignatureValue>${rest.slice(at + EMPTY_SIGNATURE_VALUE.length)}`;
}

/** Completes a template whose root element is the signature (enveloping and detached profiles). */
export function signRootTemplate(template: string, identity: SigningIdentity): Buffer {
  const parsed = parseSignedXml(template);
  return Buffer.from(completeSignature(parsed, template, parsed.root, identity));
}

interface ParsedReference extends ReferenceTemplate {
  readonly element: Element;
  readonly digestValueElement: Element;
}

interface ParsedSignedInfo {
  readonly element: Element;
  readonly canonicalization: C14nAlgorithm;
  readonly inclusivePrefixes?: readonly string[];
  readonly signature: SignatureAlgorithm;
  readonly references: readonly ParsedReference[];
}

/** The octets the signature value signs (XMLDSig §3.1.2). */
function canonicalSignedInfo(signedInfo: ParsedSignedInfo): string {
  return canonicalize(signedInfo.element, signedInfo.canonicalization, signedInfo.inclusivePrefixes === undefined ? {} : { inclusivePrefixes: signedInfo.inclusivePrefixes });
}

const SIGNATURE_ALGORITHMS = new Set<string>(Object.keys(SIGNATURE_NODE_NAME));
const DIGEST_ALGORITHMS = new Set<string>(Object.values(DIGEST));

function algorithmOf(element: Element): string {
  const value = element.getAttribute('Algorithm');
  if (value === null || value === '') throw new SignatureError(`ds:${element.localName} has no Algorithm`);
  return value;
}

/** The InclusiveNamespaces PrefixList of an exclusive canonicalization (the only child allowed). */
function inclusivePrefixesOf(element: Element, algorithm: string): string[] | undefined {
  const children = elementChildren(element);
  if (children.length === 0) return undefined;
  const [only] = children;
  if (children.length > 1 || only?.localName !== 'InclusiveNamespaces' || only.namespaceURI !== C14N.exclusive || (algorithm !== C14N.exclusive && algorithm !== C14N.exclusiveWithComments)) {
    throw new SignatureError(`ds:${element.localName} has unexpected content`);
  }
  return (only.getAttribute('PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

/**
 * The SignedInfo of a signature, read strictly (XMLDSig §4.3): one CanonicalizationMethod, one
 * SignatureMethod, then References, each with only same-document URIs, allowed transforms and a
 * DigestValue that is base64 text and nothing else (CVE-2025-29775 hid a digest behind a comment).
 */
function parseSignedInfo(signature: Element): ParsedSignedInfo {
  const [signedInfo, ...others] = elementChildren(signature).filter((e) => isDsig(e, 'SignedInfo'));
  if (signedInfo === undefined) throw new SignatureError('the signature has no SignedInfo');
  if (others.length > 0) throw new SignatureError('the signature has several SignedInfo elements');
  const [c14nElement, methodElement, ...referenceElements] = elementChildren(signedInfo);
  if (c14nElement === undefined || !isDsig(c14nElement, 'CanonicalizationMethod')) throw new SignatureError('SignedInfo does not start with CanonicalizationMethod');
  if (methodElement === undefined || !isDsig(methodElement, 'SignatureMethod')) throw new SignatureError('SignedInfo has no SignatureMethod after its CanonicalizationMethod');
  const canonicalization = algorithmOf(c14nElement);
  if (!isC14nAlgorithm(canonicalization)) throw new SignatureError(`the canonicalization ${canonicalization} is not accepted`);
  const signatureAlgorithm = algorithmOf(methodElement);
  if (!SIGNATURE_ALGORITHMS.has(signatureAlgorithm)) throw new SignatureError(`the signature method ${signatureAlgorithm} is not accepted`);
  if (elementChildren(methodElement).length > 0) throw new SignatureError('SignatureMethod has unexpected content (HMACOutputLength?)');
  if (referenceElements.length === 0) throw new SignatureError('SignedInfo has no Reference');
  const references = referenceElements.map((element) => parseReference(element));
  const uris = references.map((r) => r.uri);
  if (new Set(uris).size !== uris.length) throw new SignatureError('SignedInfo references the same URI twice');
  const prefixes = inclusivePrefixesOf(c14nElement, canonicalization);
  return { element: signedInfo, canonicalization, signature: signatureAlgorithm as SignatureAlgorithm, references, ...(prefixes === undefined ? {} : { inclusivePrefixes: prefixes }) };
}

/**
 * One ds:Reference: Transforms?, DigestMethod, DigestValue. A reference of SignedInfo must name an
 * element of the document; a Manifest's may name anything else (`sameDocument` false).
 */
export function parseReference(element: Element, sameDocument = true): ParsedReference {
  if (!isDsig(element, 'Reference')) throw new SignatureError(`${(element.parentNode as Element | null)?.localName ?? 'SignedInfo'} holds ${element.localName}, not a Reference`);
  const uri = element.getAttribute('URI');
  if (uri === null || (sameDocument && (!uri.startsWith('#') || uri.length < 2))) throw new SignatureError(`a Reference URI must name an element of the document (#id), not "${uri ?? ''}"`);
  const children = elementChildren(element);
  const transformsElement = children[0] !== undefined && isDsig(children[0], 'Transforms') ? children.shift() : undefined;
  const [digestMethod, digestValueElement, ...extra] = children;
  if (digestMethod === undefined || !isDsig(digestMethod, 'DigestMethod') || digestValueElement === undefined || !isDsig(digestValueElement, 'DigestValue') || extra.length > 0) {
    throw new SignatureError(`the Reference ${uri} is not Transforms?, DigestMethod, DigestValue`);
  }
  const digest = algorithmOf(digestMethod);
  if (!DIGEST_ALGORITHMS.has(digest)) throw new SignatureError(`the digest method ${digest} is not accepted`);
  const transforms = transformsElement === undefined ? [] : parseTransforms(transformsElement);
  const type = element.getAttribute('Type');
  return { element, uri, transforms, digest: digest as DigestAlgorithm, digestValueElement, ...(type === null ? {} : { type }) };
}

function parseTransforms(transformsElement: Element): Transform[] {
  const elements = elementChildren(transformsElement);
  if (elements.length === 0) throw new SignatureError('Transforms is empty');
  return elements.map((t) => {
    if (!isDsig(t, 'Transform')) throw new SignatureError(`Transforms holds ${t.localName}`);
    const algorithm = algorithmOf(t);
    if (algorithm === ENVELOPED_SIGNATURE) {
      if (elementChildren(t).length > 0) throw new SignatureError('the enveloped-signature transform has content');
      return { algorithm };
    }
    // XPath, XSLT and base64 transforms are refused: they can make a reference mean anything.
    if (!isC14nAlgorithm(algorithm)) throw new SignatureError(`the transform ${algorithm} is not accepted`);
    const prefixes = inclusivePrefixesOf(t, algorithm);
    return prefixes === undefined ? { algorithm } : { algorithm, inclusivePrefixes: prefixes };
  });
}

function resolve(ids: ReadonlyMap<string, Element>, uri: string): Element {
  const target = ids.get(decodeURIComponent(uri.slice(1)));
  if (target === undefined) throw new SignatureError(`the Reference ${uri} names no element of the document`);
  return target;
}

export interface VerifyPolicy {
  readonly trust: TrustStore;
  /** The time at which the certificates must be valid. */
  readonly at: Date;
  readonly canonicalizations: readonly C14nAlgorithm[];
  readonly signatures: readonly SignatureAlgorithm[];
  readonly digests: readonly DigestAlgorithm[];
}

export interface VerifiedReference {
  readonly uri: string;
  readonly type?: string;
  readonly transforms: readonly Transform[];
  readonly digest: DigestAlgorithm;
  /** The element the reference resolved to. */
  readonly element: Element;
  /** The octets whose digest was checked: the signed content itself. */
  readonly octets: string;
}

/** Who signed: the signer's certificate and its chain, from the signer to the trust anchor. */
export interface Signatory {
  readonly signer: X509Certificate;
  readonly chain: readonly X509Certificate[];
}

export interface VerifiedSignature extends Signatory {
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly references: readonly VerifiedReference[];
}

/**
 * Verifies `signature`, the one ds:Signature of the document, against the trust store only:
 * structure, algorithms, the signer's chain and validity, the SignedInfo signature, then every
 * reference's digest. Returns what was checked; the profile then decides whether those are
 * exactly the references it expects.
 */
export function verifySignature(parsed: ParsedXml, signature: Element, policy: VerifyPolicy): VerifiedSignature {
  const signatures = [...descendants(parsed.root)].filter((e) => isDsig(e, 'Signature'));
  if (signatures.length !== 1 || signatures[0] !== signature) throw new SignatureError(`the document holds ${String(signatures.length)} ds:Signature elements where one is expected`);
  const children = elementChildren(signature);
  const names = children.map((c) => (c.namespaceURI === XMLDSIG_NS ? c.localName : `{${c.namespaceURI ?? ''}}${c.localName}`)).join(',');
  if (!/^SignedInfo,SignatureValue(,KeyInfo)?(,Object)*$/.test(names)) throw new SignatureError(`ds:Signature must hold SignedInfo, SignatureValue, KeyInfo and Objects in that order, not ${names}`);

  const signedInfo = parseSignedInfo(signature);
  if (!policy.canonicalizations.includes(signedInfo.canonicalization)) throw new SignatureError(`the canonicalization ${signedInfo.canonicalization} is not accepted for this signature`);
  if (!policy.signatures.includes(signedInfo.signature)) throw new SignatureError(`the signature method ${signedInfo.signature} is not accepted for this signature`);
  for (const reference of signedInfo.references) if (!policy.digests.includes(reference.digest)) throw new SignatureError(`the digest method ${reference.digest} is not accepted for this signature`);

  const [leaf, ...intermediates] = keyInfoCertificates(children.find((c) => isDsig(c, 'KeyInfo')));
  if (leaf === undefined) throw new SignatureError('the signature carries no X509Certificate to identify its signer');
  const chain = policy.trust.verifySigner(leaf, intermediates, policy.at);

  const signatureValue = strictBase64(children[1] as Element, 'SignatureValue');
  if (!rsaVerify(SIGNATURE_NODE_NAME[signedInfo.signature], Buffer.from(canonicalSignedInfo(signedInfo)), leaf.publicKey, signatureValue)) {
    throw new SignatureError('the signature value does not match SignedInfo for the signer\'s key');
  }

  const ids = identifiedElements(parsed.root);
  const references = signedInfo.references.map((reference): VerifiedReference => {
    const element = resolve(ids, reference.uri);
    const octets = parsed.restore(referencedOctets(element, reference.transforms, signature));
    const expected = strictBase64(reference.digestValueElement, `the DigestValue of ${reference.uri}`);
    const actual = createHash(DIGEST_NODE_NAME[reference.digest]).update(octets).digest();
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new SignatureError(`the digest of ${reference.uri} does not match: the signed content was changed`);
    return { uri: reference.uri, transforms: reference.transforms, digest: reference.digest, element, octets, ...(reference.type === undefined ? {} : { type: reference.type }) };
  });
  return { signer: leaf, chain, signatureAlgorithm: signedInfo.signature, references };
}

/** Certificates decoded from KeyInfo, by their base64: the same signer's comes with every signature. */
const decodedCertificates = new Map<string, X509Certificate>();
const MAX_DECODED_CERTIFICATES = 64;

/** The certificates of KeyInfo/X509Data, the signer's first. Keys given any other way are not used. */
function keyInfoCertificates(keyInfo: Element | undefined): X509Certificate[] {
  if (keyInfo === undefined) return [];
  return elementChildren(keyInfo).filter((e) => isDsig(e, 'X509Data')).flatMap((data) => elementChildren(data).filter((e) => isDsig(e, 'X509Certificate'))).map((e) => {
    try {
      const der = strictBase64(e, 'X509Certificate');
      const key = der.toString('base64');
      const known = decodedCertificates.get(key);
      if (known !== undefined) return known;
      const certificate = new X509Certificate(der);
      if (decodedCertificates.size >= MAX_DECODED_CERTIFICATES) decodedCertificates.clear();
      decodedCertificates.set(key, certificate);
      return certificate;
    } catch (error) {
      if (error instanceof SignatureError) throw error;
      throw new SignatureError('an X509Certificate of KeyInfo is not a DER certificate');
    }
  });
}
