/**
 * Identifiers of the documents Passerelle builds. A document id must be an OID to become an XDS
 * uniqueId (ITI TF-3 4.2.3.2.26), and Passerelle has no registered OID arc of its own, so ids are
 * UUID-derived OIDs under 2.25 (ITU-T X.667 §8): no registration needed, unique by construction.
 * They are derived from a seed (the submission id) rather than drawn at random, so the same
 * submission always builds the same document, and a replay keeps the same uniqueId.
 */
import { createHash } from 'node:crypto';
import type { II } from './model.js';

/** `2.25.<decimal>` of a version-8 (custom) UUID taken from SHA-256 of the seed and a purpose. */
export function uuidOid(seed: string, purpose: string): string {
  const bytes = createHash('sha256').update(`passerelle:${purpose}:${seed}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8 (RFC 9562 §5.8)
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/** The document a new version replaces: its id, its set and its version. */
export interface ReplacedDocument {
  readonly id: II;
  readonly setId: II;
  readonly versionNumber: number;
}

export interface DocumentIdentity {
  readonly id: II;
  readonly setId: II;
  readonly versionNumber: number;
  readonly replaces?: ReplacedDocument;
}

/** A first version opens its own set; a replacement keeps the set and increments the version. */
export function documentIdentity(seed: string, replaced?: ReplacedDocument): DocumentIdentity {
  const id = { root: uuidOid(seed, 'document') };
  if (replaced === undefined) return { id, setId: { root: uuidOid(seed, 'set') }, versionNumber: 1 };
  return { id, setId: replaced.setId, versionNumber: replaced.versionNumber + 1, replaces: replaced };
}

/** An instance identifier as an XDS uniqueId (ITI TF-3 4.2.3.2.26): `root`, or `root^extension`. */
export function uniqueIdOf(id: II): string {
  return id.extension === undefined ? id.root : `${id.root}^${id.extension}`;
}

export function idOfUniqueId(uniqueId: string): II {
  const at = uniqueId.indexOf('^');
  return at < 0 ? { root: uniqueId } : { root: uniqueId.slice(0, at), extension: uniqueId.slice(at + 1) };
}
