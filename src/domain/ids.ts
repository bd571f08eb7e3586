/**
 * Identifiers that appear in URLs: `<prefix>_<26 Crockford base32 chars>`, the first 10 chars
 * encoding the creation time in milliseconds (so ids sort by creation time, which the cursor
 * pagination relies on) and the last 16 chars 80 random bits. URL-safe by construction.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ID_PATTERN = /^[a-z]{1,8}_[0-9A-HJKMNP-TV-Z]{26}$/;

/** `randomBytes` must hold at least 10 bytes from a cryptographic source. */
export function encodeId(prefix: string, timeMs: number, randomBytes: Uint8Array): string {
  if (!/^[a-z]{1,8}$/.test(prefix)) throw new RangeError(`invalid id prefix "${prefix}"`);
  if (randomBytes.length < 10) throw new RangeError('an id needs 10 random bytes');
  let time = '';
  let t = Math.floor(timeMs);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  let bits = 0;
  let value = 0;
  for (const byte of randomBytes.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      random += CROCKFORD.charAt((value >> bits) & 31);
    }
    value &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${random}`;
}

export function isId(value: string, prefix?: string): boolean {
  return ID_PATTERN.test(value) && (prefix === undefined || value.startsWith(`${prefix}_`));
}

/** A tenant id: lower-case letters, digits and dashes, as it appears in keys, logs and configuration. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
