/**
 * Canonical XML of an element, by xml-crypto's canonicalizers (C14N 1.0 and Exclusive C14N 1.0,
 * with or without comments), and the reference transforms the signature profiles allow.
 */
import { C14nCanonicalization, C14nCanonicalizationWithComments, ExclusiveCanonicalization, ExclusiveCanonicalizationWithComments, type NamespacePrefix } from 'xml-crypto';
import { C14N, ENVELOPED_SIGNATURE, type C14nAlgorithm } from './algorithms.js';
import { SignatureError } from './signature-xml.js';

const CANONICALIZERS: Readonly<Record<C14nAlgorithm, new () => { process(node: Node, options: object): string | Node }>> = {
  [C14N.inclusive]: C14nCanonicalization,
  [C14N.inclusiveWithComments]: C14nCanonicalizationWithComments,
  [C14N.exclusive]: ExclusiveCanonicalization,
  [C14N.exclusiveWithComments]: ExclusiveCanonicalizationWithComments,
};

export const isC14nAlgorithm = (uri: string): uri is C14nAlgorithm => Object.values(C14N).includes(uri as C14nAlgorithm);

/**
 * The namespace declarations in scope at `element` from its ancestors, nearest first: inclusive
 * C14N renders them on the apex of the subset (C14N 1.0 §2.4).
 */
function ancestorNamespaces(element: Element): NamespacePrefix[] {
  const seen = new Set<string>();
  for (const attribute of Array.from(element.attributes)) if (attribute.name === 'xmlns' || attribute.prefix === 'xmlns') seen.add(attribute.prefix === 'xmlns' ? attribute.localName : '');
  const found: NamespacePrefix[] = [];
  for (let node = element.parentNode; node !== null && node.nodeType === 1; node = node.parentNode) {
    for (const attribute of Array.from((node as Element).attributes)) {
      const prefix = attribute.name === 'xmlns' ? '' : attribute.prefix === 'xmlns' ? attribute.localName : undefined;
      if (prefix === undefined || seen.has(prefix)) continue;
      seen.add(prefix);
      // An undeclaration (xmlns="") only shadows outer bindings; it is no namespace node.
      if (attribute.value !== '') found.push({ prefix, namespaceURI: attribute.value });
    }
  }
  return found;
}

export interface CanonicalOptions {
  /** An element of the subtree left out (the enveloped-signature transform). */
  readonly exclude?: Element;
  /** InclusiveNamespaces PrefixList of an exclusive canonicalization (RFC 3741 §3). */
  readonly inclusivePrefixes?: readonly string[];
}

export function canonicalize(element: Element, algorithm: C14nAlgorithm, options: CanonicalOptions = {}): string {
  let target = element;
  if (options.exclude !== undefined) {
    // The transform works on a copy: the signature stays in the document, whose SignedInfo is
    // canonicalized afterwards.
    const path: number[] = [];
    for (let node: Node = options.exclude; node !== element;) {
      const parent = node.parentNode;
      if (parent === null) throw new SignatureError('the enveloped signature is not inside the signed element');
      path.unshift(Array.prototype.indexOf.call(parent.childNodes, node));
      node = parent;
    }
    target = element.cloneNode(true) as Element;
    const excluded = path.reduce<Node>((node, index) => node.childNodes[index] as Node, target);
    excluded.parentNode?.removeChild(excluded);
  }
  const canonicalizer = new CANONICALIZERS[algorithm]();
  const ancestors = ancestorNamespaces(element);
  const result = canonicalizer.process(target, {
    ancestorNamespaces: ancestors,
    defaultNs: '',
    ...(options.inclusivePrefixes === undefined ? {} : { inclusiveNamespacesPrefixList: [...options.inclusivePrefixes] }),
  });
  if (typeof result !== 'string') throw new SignatureError('canonicalization gave no text');
  return result;
}

/** One transform of a reference: a canonicalization, or the enveloped-signature transform. */
type Canonicalization = { readonly algorithm: C14nAlgorithm; readonly inclusivePrefixes?: readonly string[] };
export type Transform = Canonicalization | { readonly algorithm: typeof ENVELOPED_SIGNATURE };

/**
 * The octets a same-document reference digests (XMLDSig §4.3.3.2): the transforms in order, then
 * C14N 1.0 when the last one leaves a node-set. Only transforms that output the element they
 * receive are allowed, so a chain is an optional enveloped-signature then at most one
 * canonicalization.
 */
export function referencedOctets(element: Element, transforms: readonly Transform[], signature: Element): string {
  let exclude: Element | undefined;
  let canonicalization: Canonicalization | undefined;
  for (const transform of transforms) {
    if (canonicalization !== undefined) throw new SignatureError('a transform follows the canonicalization of a reference');
    if (transform.algorithm === ENVELOPED_SIGNATURE) {
      if (exclude !== undefined) throw new SignatureError('the enveloped-signature transform is given twice');
      exclude = signature;
    } else {
      canonicalization = transform;
    }
  }
  const prefixes = canonicalization?.inclusivePrefixes;
  return canonicalize(element, canonicalization?.algorithm ?? C14N.inclusive, { ...(exclude === undefined ? {} : { exclude }), ...(prefixes === undefined ? {} : { inclusivePrefixes: prefixes }) });
}
