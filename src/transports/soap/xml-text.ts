/**
 * The small amount of XML text handling the SOAP layer does itself, around fast-xml-parser:
 * entity references (parsed with processEntities off, so that no entity is ever expanded by the
 * parser) and the namespace declarations of one start tag, read at an offset the parser reported.
 */
import { malformedMessage } from './transport-error.js';

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Character and predefined entity references decoded (XML 1.0 §4.1, §4.6); any other entity is refused. */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]*);?/g, (reference, name: string) => {
    const predefined = PREDEFINED[name];
    if (predefined !== undefined && reference.endsWith(';')) return predefined;
    const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
    const codePoint = numeric === null ? NaN : numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
    if (reference.endsWith(';') && Number.isInteger(codePoint) && codePoint > 0 && codePoint <= 0x10ffff) return String.fromCodePoint(codePoint);
    throw malformedMessage(`the XML holds the reference ${reference.slice(0, 12)}, which is not a predefined entity nor a character reference`);
  });
}

/** `<name attr="…" …>` at `offset`: its qualified name, its end, and the namespaces it declares (prefix `''` is the default). */
export function readStartTag(xml: string, offset: number): { name: string; end: number; namespaces: Map<string, string> } {
  const tag = /<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/y;
  tag.lastIndex = offset;
  const match = tag.exec(xml);
  if (match === null) throw malformedMessage(`no well-formed start tag at character ${String(offset)}`);
  const namespaces = new Map<string, string>();
  for (const [, name = '', double, single] of (match[2] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (name === 'xmlns') namespaces.set('', decodeXmlText(double ?? single ?? ''));
    else if (name.startsWith('xmlns:')) namespaces.set(name.slice(6), decodeXmlText(double ?? single ?? ''));
  }
  return { name: match[1] ?? '', end: offset + match[0].length, namespaces };
}

export const prefixOf = (qualifiedName: string): string => {
  const colon = qualifiedName.indexOf(':');
  return colon < 0 ? '' : qualifiedName.slice(0, colon);
};

export const localNameOf = (qualifiedName: string): string => qualifiedName.slice(qualifiedName.indexOf(':') + 1);
