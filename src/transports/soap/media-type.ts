/**
 * Media types with parameters (RFC 2045 §5.1, RFC 9110 §8.3.1): `multipart/related;
 * boundary=…; type="application/xop+xml"; start="<…>"`. Names are compared case-insensitively;
 * values may be tokens or quoted strings with backslash escapes.
 */

export interface MediaType {
  /** `type/subtype`, lower-cased. */
  readonly essence: string;
  /** Parameter names lower-cased; values unquoted. */
  readonly parameters: ReadonlyMap<string, string>;
}

/** RFC 2045 tspecials excluded from a token; a value with any of them (or a space) is quoted. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseMediaType(header: string): MediaType {
  const semicolon = header.indexOf(';');
  const essence = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const parameters = new Map<string, string>();
  let i = semicolon < 0 ? header.length : semicolon + 1;
  while (i < header.length) {
    const eq = header.indexOf('=', i);
    if (eq < 0) break;
    const name = header.slice(i, eq).trim().replace(/^;+/, '').trim().toLowerCase();
    let j = eq + 1;
    while (header[j] === ' ' || header[j] === '\t') j += 1;
    let value = '';
    if (header[j] === '"') {
      j += 1;
      while (j < header.length && header[j] !== '"') {
        if (header[j] === '\\' && j + 1 < header.length) j += 1;
        value += header.charAt(j);
        j += 1;
      }
      const end = header.indexOf(';', j);
      i = end < 0 ? header.length : end + 1;
    } else {
      const end = header.indexOf(';', j);
      value = header.slice(j, end < 0 ? header.length : end).trim();
      i = end < 0 ? header.length : end + 1;
    }
    // The first occurrence wins: a repeated parameter is an error of the sender, not a new value.
    if (name !== '' && !parameters.has(name)) parameters.set(name, value);
  }
  return { essence, parameters };
}

const quoted = (value: string): string => (TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`);

/** `essence; name=value; …`, quoting values that are not tokens. Values must not hold CR or LF. */
export function formatMediaType(essence: string, parameters: readonly (readonly [string, string])[]): string {
  for (const [name, value] of parameters) {
    if (/[\r\n]/.test(value) || !TOKEN.test(name)) throw new Error(`media type parameter ${name} cannot be written in a header`);
  }
  return [essence, ...parameters.map(([name, value]) => `${name}=${quoted(value)}`)].join('; ');
}
