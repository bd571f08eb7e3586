/**
 * The VIHF ("vecteur d'identification et d'habilitation formelles"): the SAML 2.0 assertion that
 * every DMP call carries in its WS-Security header, enveloped-signed with the structure's ORG SIGN
 * key, exclusive C14N (french-specs §3.5 and its addendum). It is valid for a short window.
 */
import { randomUUID } from 'node:crypto';
import { C14N, DIGEST, ENVELOPED_SIGNATURE, HL7_V3_NS, SAML, SAML2_NS, SIGNATURE, XMLDSIG_NS, XSI_NS, type DigestAlgorithm, type SignatureAlgorithm } from './algorithms.js';
import { rfc4514Name, type SigningIdentity } from './identity.js';
import { SignatureError, elementChildren, escapeXml, isDsig, parseSignedXml, textOnly } from './signature-xml.js';
import type { TrustStore } from './trust-store.js';
import { completeSignature, keyInfoXml, signedInfoTemplateXml, verifySignature, type Signatory } from './xmldsig.js';

/** A coded value carried as an HL7 v3 CE in an AttributeValue (role, purpose of use). */
export interface VihfCode {
  readonly code: string;
  readonly codeSystem: string;
  readonly displayName?: string;
}

export type AuthenticationMode = 'DIRECTE' | 'INDIRECTE' | 'INDIRECTE_RENFORCEE';

/** The attributes of a VIHF (french-specs §3.5); which are required follows DRIMbox (addendum). */
export interface VihfAttributes {
  /** `VIHF_Version`: 3.0 in the MAP example and DRIMbox, 4.0 in the MAP table [UNVERIFIED]. */
  readonly version: string;
  /** Subject/NameID: the user's IdNat, or for an automated process the responsible person's. */
  readonly nameId: string;
  /** `urn:oasis:names:tc:xspa:1.0:subject:subject-id`: the user's name, or the software's. */
  readonly subjectId: string;
  /** `urn:oasis:names:tc:xacml:2.0:subject:role`: profession first, then savoir-faire (JDV_J65). */
  readonly roles: readonly VihfCode[];
  /** `urn:oasis:names:tc:xspa:1.0:subject:purposeofuse`. */
  readonly purposeOfUse: VihfCode;
  /** `Identifiant_Structure`: the structure's IdNat_Struct. */
  readonly structureId: string;
  /** `Secteur_Activite`: e.g. `SA07^1.2.250.1.71.4.2.4` (JDV_J61). */
  readonly sector: string;
  readonly authenticationMode: AuthenticationMode;
  /** AuthnContextClassRef suffix; `unspecified` for an automated process. */
  readonly authnContext: string;
  /** `urn:oasis:names:tc:xacml:2.0:resource:resource-id`: the patient's INS as CX, `NIR^^^&OID&ISO^NH`. */
  readonly patientId?: string;
  /** `urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code` (secret connection of a minor). */
  readonly confidentialityCode?: string;
  readonly lps: { readonly id?: string; readonly name: string; readonly version?: string; readonly homologationId: string };
}

export interface VihfOptions {
  readonly now: Date;
  readonly validitySeconds: number;
  readonly signature?: SignatureAlgorithm;
  readonly digest?: DigestAlgorithm;
}

/** `Ressource_URN` of every DMP call. */
export const VIHF_RESOURCE_URN = 'urn:dmp';

const utc = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const ce = (element: string, c: VihfCode): string => `<${element} xmlns="${HL7_V3_NS}" xsi:type="CE" code="${escapeXml(c.code)}" codeSystem="${escapeXml(c.codeSystem)}"${c.displayName === undefined ? '' : ` displayName="${escapeXml(c.displayName)}"`}/>`;

function attributesXml(a: VihfAttributes): string {
  const attribute = (name: string, ...values: string[]): string => `<saml2:Attribute Name="${name}">${values.map((v) => `<saml2:AttributeValue>${v}</saml2:AttributeValue>`).join('')}</saml2:Attribute>`;
  const text = (name: string, value: string | undefined): string => (value === undefined ? '' : attribute(name, escapeXml(value)));
  return [
    text('VIHF_Version', a.version),
    attribute('urn:oasis:names:tc:xacml:2.0:subject:role', ...a.roles.map((r) => ce('Role', r))),
    text('urn:oasis:names:tc:xspa:1.0:subject:subject-id', a.subjectId),
    attribute('urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', ce('PurposeOfUse', a.purposeOfUse)),
    text('Identifiant_Structure', a.structureId),
    text('Secteur_Activite', a.sector),
    text('Authentification_Mode', a.authenticationMode),
    text('Ressource_URN', VIHF_RESOURCE_URN),
    text('urn:oasis:names:tc:xacml:2.0:resource:resource-id', a.patientId),
    text('urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code', a.confidentialityCode),
    text('LPS_ID', a.lps.id),
    text('LPS_Nom', a.lps.name),
    text('LPS_Version', a.lps.version),
    text('LPS_ID_HOMOLOGATION_DMP', a.lps.homologationId),
  ].join('');
}

export function signVihf(attributes: VihfAttributes, identity: SigningIdentity, options: VihfOptions): Buffer {
  if (attributes.roles.length === 0) throw new SignatureError('a VIHF needs at least one subject role');
  const id = `_${randomUUID()}`;
  const notOnOrAfter = new Date(options.now.getTime() + options.validitySeconds * 1000);
  const signature = `<ds:Signature xmlns:ds="${XMLDSIG_NS}">${signedInfoTemplateXml({
    canonicalization: C14N.exclusive,
    signature: options.signature ?? SIGNATURE.rsaSha256,
    references: [{ uri: `#${id}`, transforms: [{ algorithm: ENVELOPED_SIGNATURE }, { algorithm: C14N.exclusive }], digest: options.digest ?? DIGEST.sha256 }],
  })}${keyInfoXml(identity)}</ds:Signature>`;
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<saml2:Assertion xmlns:saml2="${SAML2_NS}" xmlns:xsi="${XSI_NS}" ID="${id}" IssueInstant="${utc(options.now)}" Version="2.0">`
    + `<saml2:Issuer Format="${SAML.nameIdX509Subject}">${escapeXml(rfc4514Name(identity.certificate.subject))}</saml2:Issuer>${signature}`
    + `<saml2:Subject><saml2:NameID Format="${SAML.nameIdUnspecified}">${escapeXml(attributes.nameId)}</saml2:NameID></saml2:Subject>`
    + `<saml2:Conditions NotBefore="${utc(options.now)}" NotOnOrAfter="${utc(notOnOrAfter)}"/>`
    + `<saml2:AuthnStatement AuthnInstant="${utc(options.now)}"><saml2:AuthnContext><saml2:AuthnContextClassRef>${SAML.authnContextPrefix}${escapeXml(attributes.authnContext)}</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>`
    + `<saml2:AttributeStatement>${attributesXml(attributes)}</saml2:AttributeStatement></saml2:Assertion>`;
  const parsed = parseSignedXml(text);
  const signatureElement = elementChildren(parsed.root).find((e) => isDsig(e, 'Signature'));
  if (signatureElement === undefined) throw new SignatureError('the VIHF template did not parse');
  return Buffer.from(completeSignature(parsed, text, signatureElement, identity));
}

export interface VerifiedVihf extends Signatory {
  readonly id: string;
  readonly issuer: string;
  readonly nameId: string;
  readonly notBefore: Date;
  readonly notOnOrAfter: Date;
  /** Attribute name → its values as text (coded values as `code^codeSystem`). */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

/**
 * Verifies a VIHF: its one signature, enveloped, references the assertion itself (the root, by
 * its ID), with exactly the enveloped-signature and exclusive C14N transforms; the signer chains
 * to the trust store; `at` falls in the assertion's validity window (± `skewSeconds`).
 */
export function verifyVihf(assertion: Buffer, trust: TrustStore, at: Date, skewSeconds = 60): VerifiedVihf {
  const parsed = parseSignedXml(assertion);
  const root = parsed.root;
  if (root.namespaceURI !== SAML2_NS || root.localName !== 'Assertion') throw new SignatureError('a VIHF is a saml2:Assertion');
  const children = elementChildren(root);
  const signature = children[1];
  if (children[0]?.localName !== 'Issuer' || signature === undefined || !isDsig(signature, 'Signature')) throw new SignatureError('the assertion\'s signature must follow its Issuer (SAML core §2.3.3)');
  const verified = verifySignature(parsed, signature, { trust, at, canonicalizations: [C14N.exclusive], signatures: [SIGNATURE.rsaSha256, SIGNATURE.rsaSha1], digests: [DIGEST.sha256, DIGEST.sha1] });
  const [reference, ...more] = verified.references;
  const id = root.getAttribute('ID') ?? '';
  if (reference === undefined || more.length > 0 || reference.element !== root || id === '') throw new SignatureError('the VIHF signature must have one Reference, to the assertion itself');
  const transforms = reference.transforms.map((t) => t.algorithm).join(' ');
  if (transforms !== `${ENVELOPED_SIGNATURE} ${C14N.exclusive}`) throw new SignatureError('the VIHF reference must use the enveloped-signature then the exclusive C14N transforms');

  const child = (parent: Element, name: string): Element | undefined => elementChildren(parent).find((e) => e.namespaceURI === SAML2_NS && e.localName === name);
  const conditions = child(root, 'Conditions');
  const notBefore = new Date(conditions?.getAttribute('NotBefore') ?? '');
  const notOnOrAfter = new Date(conditions?.getAttribute('NotOnOrAfter') ?? '');
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notOnOrAfter.getTime())) throw new SignatureError('the VIHF has no Conditions NotBefore and NotOnOrAfter');
  if (at.getTime() < notBefore.getTime() - skewSeconds * 1000) throw new SignatureError(`the VIHF is not valid before ${notBefore.toISOString()}`);
  if (at.getTime() >= notOnOrAfter.getTime() + skewSeconds * 1000) throw new SignatureError(`the VIHF expired at ${notOnOrAfter.toISOString()}`);

  const attributes = new Map<string, string[]>();
  const statement = child(root, 'AttributeStatement');
  for (const attribute of statement === undefined ? [] : elementChildren(statement)) {
    const values = elementChildren(attribute).map((value) => {
      const [coded] = elementChildren(value);
      return coded === undefined ? textOnly(value, 'an AttributeValue').trim() : `${coded.getAttribute('code') ?? ''}^${coded.getAttribute('codeSystem') ?? ''}`;
    });
    attributes.set(attribute.getAttribute('Name') ?? '', values);
  }
  const subject = child(root, 'Subject');
  const nameId = subject === undefined ? undefined : child(subject, 'NameID');
  const issuer = children[0];
  return {
    signer: verified.signer,
    chain: verified.chain,
    id,
    issuer: textOnly(issuer, 'Issuer').trim(),
    nameId: nameId === undefined ? '' : textOnly(nameId, 'NameID').trim(),
    notBefore,
    notOnOrAfter,
    attributes,
  };
}
