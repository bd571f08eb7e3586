/**
 * The HL7 v2.5 data types XDS metadata carries as text (ITI TF-3 §4.2.3.1.7): CX (patient ids),
 * XCN (authorPerson, legalAuthenticator), XON (authorInstitution) and CE (authorSpecialty), in the
 * shapes the DMP expects (french-specs §3.1):
 *
 *   CX   `{id}^^^&{OID}&ISO^{type}`
 *   XCN  `{id}^{family}^{given}^^^^^^&{OID}&ISO^{D|U}^^^{IDNPS|NH|RI}`
 *   XON  `{name}^^^^^&{OID}&ISO^{IDNST}^^^{IdNat_Struct}`
 *
 * Values are escaped as HL7 v2.5 §2.7 requires: a `^`, `&`, `~`, `|` or `\` inside a value would
 * otherwise be read as a separator (a family name with `&` must not split into sub-components).
 */
import type { Cx, Xcn, Xon } from './model.js';
import { XdsFormatError } from './xml-read.js';

/** HL7 v2.5 §2.7.1: the escape sequences of the default delimiters; the escape character first. */
const ESCAPES: readonly (readonly [string, string])[] = [
  ['\\', '\\E\\'],
  ['|', '\\F\\'],
  ['^', '\\S\\'],
  ['&', '\\T\\'],
  ['~', '\\R\\'],
];
const UNESCAPES: ReadonlyMap<string, string> = new Map(ESCAPES.map(([c, e]) => [e.slice(1, -1), c]));

/** HD.3 universal id type of an OID (HL7 v2.5 Table 0301). */
const ISO = 'ISO';

/** A value as it may stand inside a component or sub-component. */
export function escapeHl7(value: string): string {
  let out = value;
  for (const [character, sequence] of ESCAPES) out = out.split(character).join(sequence);
  return out;
}

/** The value an escaped component stands for; an unknown escape sequence is kept as written. */
export function unescapeHl7(value: string): string {
  return value.replace(/\\([EFSTR])\\/g, (whole, code: string) => UNESCAPES.get(code) ?? whole);
}

/** Components joined by `^`, trailing empty ones dropped (HL7 v2.5 §2.5.3: they may be omitted). */
function joinComponents(components: readonly string[]): string {
  let end = components.length;
  while (end > 0 && components[end - 1] === '') end -= 1;
  return components.slice(0, end).join('^');
}

/** HD `&{OID}&ISO` (namespace id empty), or nothing without an OID. */
function assigningAuthority(oid: string | undefined): string {
  return oid === undefined ? '' : `&${escapeHl7(oid)}&${ISO}`;
}

const component = (value: string | undefined): string => (value === undefined ? '' : escapeHl7(value));

/** The components of `text`, each split into its sub-components, unescaped; empty ones are undefined. */
function split(text: string): (readonly (string | undefined)[])[] {
  return text.split('^').map((c) => c.split('&').map((s) => (s === '' ? undefined : unescapeHl7(s))));
}

const at = (components: (readonly (string | undefined)[])[], index: number, sub = 0): string | undefined => components[index]?.[sub];

/** HD.2 of a component that holds an HD; its type must be ISO when given. */
function oidOf(components: (readonly (string | undefined)[])[], index: number, what: string, problems: string[]): string | undefined {
  const oid = at(components, index, 1);
  const type = at(components, index, 2);
  if (oid !== undefined && type !== undefined && type !== ISO) problems.push(`${what}: the assigning authority's universal id type is ${type}, not ISO`);
  return oid;
}

export function formatCx(cx: Cx): string {
  return joinComponents([escapeHl7(cx.id), '', '', assigningAuthority(cx.assigningAuthority), component(cx.identifierTypeCode)]);
}

export function parseCx(text: string): Cx {
  const c = split(text);
  const problems: string[] = [];
  const id = at(c, 0);
  const assigning = oidOf(c, 3, 'CX', problems);
  if (id === undefined) problems.push('CX: the identifier (CX.1) is empty');
  if (assigning === undefined) problems.push('CX: the assigning authority (CX.4.2) is empty');
  if (problems.length > 0 || id === undefined || assigning === undefined) throw new XdsFormatError(problems);
  const type = at(c, 4);
  return { id, assigningAuthority: assigning, ...(type === undefined ? {} : { identifierTypeCode: type }) };
}

export function formatXcn(xcn: Xcn): string {
  return joinComponents([
    component(xcn.id), component(xcn.family), component(xcn.given), '', '', '', '', '',
    assigningAuthority(xcn.assigningAuthority), component(xcn.nameTypeCode), '', '', component(xcn.identifierTypeCode),
  ]);
}

export function parseXcn(text: string): Xcn {
  const c = split(text);
  const problems: string[] = [];
  const fields = {
    id: at(c, 0),
    family: at(c, 1),
    given: at(c, 2),
    assigningAuthority: oidOf(c, 8, 'XCN', problems),
    nameTypeCode: at(c, 9),
    identifierTypeCode: at(c, 12),
  };
  // ITI TF-3 Table 4.2.3.1.7-2: an XCN names a person by an id or a family name, at least.
  if (fields.id === undefined && fields.family === undefined) problems.push('XCN: neither the identifier (XCN.1) nor the family name (XCN.2) is given');
  if (problems.length > 0) throw new XdsFormatError(problems);
  return definedOnly(fields);
}

export function formatXon(xon: Xon): string {
  return joinComponents([escapeHl7(xon.name), '', '', '', '', assigningAuthority(xon.assigningAuthority), component(xon.identifierTypeCode), '', '', component(xon.id)]);
}

export function parseXon(text: string): Xon {
  const c = split(text);
  const problems: string[] = [];
  const name = at(c, 0);
  const assigning = oidOf(c, 5, 'XON', problems);
  if (name === undefined) problems.push('XON: the organization name (XON.1) is empty');
  if (problems.length > 0 || name === undefined) throw new XdsFormatError(problems);
  return { name, ...definedOnly({ id: at(c, 9), assigningAuthority: assigning, identifierTypeCode: at(c, 6) }) };
}

/** CE `code^text^codingSystem`, as authorSpecialty is written (french-specs §3.1, JDV_J01). */
export function formatCe(ce: { readonly code: string; readonly displayName?: string; readonly codeSystem: string }): string {
  return joinComponents([escapeHl7(ce.code), component(ce.displayName), escapeHl7(ce.codeSystem)]);
}

/** The object without its undefined properties (exactOptionalPropertyTypes: absent, not undefined). */
function definedOnly<T extends Record<string, string | undefined>>(fields: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

/** An instant as HL7 v2 DTM `YYYYMMDDhhmmss`, in UTC (XDS times: ITI TF-3 §4.2.3.1.5). */
export function formatDtm(instant: Date): string {
  return instant.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
