/**
 * API keys: `<keyId>.<secret>`, sent as `Authorization: Bearer <key>`. The key id is public (it
 * appears in listings, logs and audit events); only the SHA-256 of the 256-bit random secret is
 * stored, and it is compared in constant time. A plain hash suffices because the secret is random,
 * not a password: there is nothing to brute-force from a dictionary.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../domain/submission.js';
import { isId } from '../domain/ids.js';
import type { ApiKeyRecord, Store } from '../store/store.js';
import { newId } from '../support/new-id.js';

export interface Principal {
  readonly tenantId: string;
  readonly role: Role;
  /** Who acts, as recorded in audit events: `apikey:<id>` or `cert:<fingerprint prefix>`. */
  readonly actor: string;
}

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

export async function createApiKey(store: Store, options: { tenantId: string; role: Role; label: string; now?: Date }): Promise<{ record: ApiKeyRecord; token: string }> {
  const now = options.now ?? new Date();
  const id = newId('key', now);
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = { id, tenantId: options.tenantId, role: options.role, label: options.label, secretHash: hashSecret(secret), createdAt: now, revokedAt: null };
  await store.createApiKey(record);
  return { record, token: `${id}.${secret}` };
}

/** The principal of a valid, unrevoked key; undefined for anything else (no detail is leaked). */
export async function authenticateApiKey(store: Store, token: string): Promise<Principal | undefined> {
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!isId(id, 'key') || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  const record = await store.findApiKey(id);
  // Hash even when the key is unknown so that timing does not reveal which ids exist.
  const presented = hashSecret(secret);
  const expected = record?.secretHash ?? Buffer.alloc(presented.length);
  const match = expected.length === presented.length && timingSafeEqual(expected, presented);
  if (record === undefined || !match || record.revokedAt !== null) return undefined;
  return { tenantId: record.tenantId, role: record.role, actor: `apikey:${record.id}` };
}
