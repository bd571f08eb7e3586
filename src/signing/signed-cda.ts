/**
 * Signed CDA as the CI-SIS describes it (DC-GEN, french-specs §1.1): an enveloping XML signature
 * whose root is ds:Signature and whose one ds:Object holds the ClinicalDocument; RSA-SHA256,
 * exclusive C14N, SHA-256, the signer's certificate (and its chain) in KeyInfo/X509Data.
 *
 * The ClinicalDocument is spliced in as text: extracted again, it is byte-for-byte what was built.
 */
import { C14N, DIGEST, HL7_V3_NS, SIGNATURE, XMLDSIG_NS } from './algorithms.js';
import { canonicalize } from './canonicalize.js';
import type { SigningIdentity } from './identity.js';
import { SignatureError, elementChildren, isDsig, offsetOf, parseSignedXml } from './signature-xml.js';
import type { TrustStore } from './trust-store.js';
import { keyInfoXml, signRootTemplate, signedInfoTemplateXml, verifySignature, type Signatory } from './xmldsig.js';

/** Id of the ds:Object enveloping the document; the one Reference points to it. */
export const SIGNED_CDA_OBJECT_ID = 'ClinicalDocument';
/** What may come before the root element: a byte-order mark, the declaration, PIs, comments. */
const PROLOG = /^\uFEFF?(\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/;

/** The text without what follows the root element's end tag: white space, PIs, comments. */
function withoutEpilog(text: string): string {
  for (let end = text.trimEnd(); ;) {
    const cut = end.endsWith('-->') ? end.lastIndexOf('<!--') : end.endsWith('?>') ? end.lastIndexOf('<?') : -1;
    if (cut < 0) return end;
    end = end.slice(0, cut).trimEnd();
  }
}
const UTF8_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Signs the ClinicalDocument element of `cda`. Its prolog (declaration, processing instructions
 * such as a stylesheet, comments) is not part of a signed CDA, which has ds:Signature for root.
 */
export function signCda(cda: Buffer, identity: SigningIdentity): Buffer {
  const element = withoutEpilog(cda.toString('utf8').replace(PROLOG, ''));
  if (!/^<(\w[\w.-]*:)?ClinicalDocument[\s>]/.test(element)) throw new SignatureError('the document to sign is not a ClinicalDocument');
  const template = `${UTF8_DECLARATION}<ds:Signature xmlns:ds="${XMLDSIG_NS}">${signedInfoTemplateXml({
    canonicalization: C14N.exclusive,
    signature: SIGNATURE.rsaSha256,
    references: [{ uri: `#${SIGNED_CDA_OBJECT_ID}`, transforms: [{ algorithm: C14N.exclusive }], digest: DIGEST.sha256 }],
  })}${keyInfoXml(identity)}<ds:Object Id="${SIGNED_CDA_OBJECT_ID}">${element}</ds:Object></ds:Signature>`;
  return signRootTemplate(template, identity);
}

export interface VerifiedCda extends Signatory {
  /** The ClinicalDocument as it stands in the signed file, with a UTF-8 XML declaration. */
  readonly document: Buffer;
}

/**
 * Verifies a signed CDA against the trust store and returns the ClinicalDocument it signs. The
 * returned bytes are checked to canonicalize to the very content whose digest was verified.
 */
export function verifySignedCda(signed: Buffer, trust: TrustStore, at: Date): VerifiedCda {
  const parsed = parseSignedXml(signed);
  const root = parsed.root;
  if (!isDsig(root, 'Signature')) throw new SignatureError('a signed CDA has ds:Signature as its root');
  const objects = elementChildren(root).filter((e) => isDsig(e, 'Object'));
  const [object] = objects;
  if (objects.length !== 1 || object === undefined) throw new SignatureError(`a signed CDA has one ds:Object, not ${String(objects.length)}`);
  const content = elementChildren(object);
  const [clinical] = content;
  if (content.length !== 1 || clinical === undefined || clinical.namespaceURI !== HL7_V3_NS || clinical.localName !== 'ClinicalDocument') throw new SignatureError('the ds:Object of a signed CDA holds exactly one ClinicalDocument');
  for (let n = object.firstChild; n !== null; n = n.nextSibling) if (n.nodeType !== 1 && !(n.nodeType === 3 && /^\s*$/.test(n.nodeValue ?? ''))) throw new SignatureError('the ds:Object of a signed CDA holds something besides the ClinicalDocument');

  const verified = verifySignature(parsed, root, { trust, at, canonicalizations: [C14N.exclusive, C14N.inclusive], signatures: [SIGNATURE.rsaSha256], digests: [DIGEST.sha256] });
  const objectId = object.getAttribute('Id');
  const [reference, ...more] = verified.references;
  if (reference === undefined || more.length > 0 || objectId === null || reference.element !== object) throw new SignatureError('a signed CDA has exactly one Reference, to its ds:Object');

  const document = Buffer.from(UTF8_DECLARATION + parsed.restore(extractElement(parsed.reduced, clinical)));
  // Belt and braces: what is returned must canonicalize to the ClinicalDocument that was verified.
  const signedForm = parsed.restore(canonicalize(clinical, C14N.exclusive));
  const again = parseSignedXml(document);
  if (again.restore(canonicalize(again.root, C14N.exclusive)) !== signedForm) {
    throw new SignatureError('the ClinicalDocument could not be extracted exactly as signed');
  }
  return { signer: verified.signer, chain: verified.chain, document };
}

/** The text of an element in `reduced`, from its start tag to its end tag. */
function extractElement(reduced: string, element: Element): string {
  const start = offsetOf(reduced, element);
  const parent = element.parentNode;
  let next: Node | null = parent?.nextSibling ?? null;
  while (next !== null && offsetOf(reduced, next) === undefined) next = next.nextSibling;
  const limit = next === null ? reduced.length : (offsetOf(reduced, next) ?? reduced.length);
  const closing = `</${element.tagName}`;
  const end = start === undefined ? -1 : reduced.lastIndexOf(closing, limit);
  if (start === undefined || !reduced.startsWith(`<${element.tagName}`, start) || end < start) throw new SignatureError('the ClinicalDocument could not be located in the signed file');
  const close = reduced.indexOf('>', end);
  return reduced.slice(start, close + 1);
}
