/**
 * Namespaces and algorithm identifiers of the signatures Passerelle makes and accepts, each with
 * the specification it comes from. Anything not listed here is refused by the verifier.
 */

/** XML Signature Syntax and Processing (W3C, 2008), §4 and §6. */
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
/** ETSI TS 101 903 v1.1.1 (XAdES), the version of the DMP's submission-set signature (DRIMbox XadesSign). */
export const XADES_111_NS = 'http://uri.etsi.org/01903/v1.1.1#';
/** SAML 2.0 assertions (OASIS saml-core-2.0-os §2), the VIHF's container. */
export const SAML2_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const HL7_V3_NS = 'urn:hl7-org:v3';

/** Canonicalization methods (XMLDSig §6.5): C14N 1.0 and Exclusive C14N 1.0, with or without comments. */
export const C14N = {
  inclusive: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  inclusiveWithComments: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  exclusive: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  exclusiveWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
} as const;
export type C14nAlgorithm = (typeof C14N)[keyof typeof C14N];

/** The enveloped-signature transform (XMLDSig §6.6.4). */
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** Digest methods: SHA-1 (XMLDSig §6.2.1), SHA-256 (XML Encryption §5.7.2). */
export const DIGEST = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;
export type DigestAlgorithm = (typeof DIGEST)[keyof typeof DIGEST];
export const DIGEST_NODE_NAME: Readonly<Record<DigestAlgorithm, 'sha1' | 'sha256'>> = { [DIGEST.sha1]: 'sha1', [DIGEST.sha256]: 'sha256' };

/** Signature methods: RSA PKCS#1 v1.5 with SHA-1 (XMLDSig §6.4.2) or SHA-256 (RFC 6931 §2.3.2). */
export const SIGNATURE = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
} as const;
export type SignatureAlgorithm = (typeof SIGNATURE)[keyof typeof SIGNATURE];
export const SIGNATURE_NODE_NAME: Readonly<Record<SignatureAlgorithm, 'RSA-SHA1' | 'RSA-SHA256'>> = { [SIGNATURE.rsaSha1]: 'RSA-SHA1', [SIGNATURE.rsaSha256]: 'RSA-SHA256' };
export const SIGNATURE_DIGEST: Readonly<Record<SignatureAlgorithm, DigestAlgorithm>> = { [SIGNATURE.rsaSha1]: DIGEST.sha1, [SIGNATURE.rsaSha256]: DIGEST.sha256 };

/** Reference types of the XAdES signature: a ds:Manifest (XMLDSig §5.1) and the XAdES SignedProperties (TS 101 903 §6.2.1). */
export const REFERENCE_TYPE = {
  manifest: 'http://www.w3.org/2000/09/xmldsig#Manifest',
  signedProperties111: 'http://uri.etsi.org/01903/v1.1.1#SignedProperties',
} as const;

/**
 * ASTM E1762 "Source" signature purpose (1.2.840.10065.1.12.1.14): what IHE DSG and the DMP's
 * submission-set signature put in SignatureProperty "purposeOfSignature" (french-specs §3.4).
 */
export const PURPOSE_OF_SIGNATURE_SOURCE = '1.2.840.10065.1.12.1.14';

/** SAML 2.0 identifiers used by the VIHF (french-specs §3.5). */
export const SAML = {
  nameIdX509Subject: 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName',
  nameIdUnspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  authnContextPrefix: 'urn:oasis:names:tc:SAML:2.0:ac:classes:',
  senderVouches: 'urn:oasis:names:tc:SAML:2.0:cm:sender-vouches',
} as const;
