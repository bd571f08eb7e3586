/**
 * XML to a slimdom DOM (the tree fontoxpath evaluates), with the line and column of every element.
 * A DOCTYPE is refused before parsing, whatever the source: no document Passerelle reads needs
 * one, and refusing it rules out entity expansion attacks wholesale.
 */
import type { Document, Element, Node } from 'slimdom';
import { sync } from 'slimdom-sax-parser';

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

/** Position recorded by slimdom-sax-parser on each element. */
export interface Position { readonly line: number; readonly column: number }

export function positionOf(node: object): Position | undefined {
  const position = (node as { position?: { line?: unknown; column?: unknown } }).position;
  return typeof position?.line === 'number' && typeof position.column === 'number' ? { line: position.line, column: position.column } : undefined;
}

export const DOCTYPE = /<!DOCTYPE/i;

export const isElement = (node: Node): node is Element => node.nodeType === 1;

export function parseXml(text: string, name: string): Document {
  if (DOCTYPE.test(text)) throw new XmlParseError(`${name}: a DOCTYPE is not accepted (entity declarations are refused)`);
  try {
    return sync(text, { position: true });
  } catch (error) {
    const message = (error as Error).message;
    // saxes reports "file:line:column: message"
    const at = /(\d+):(\d+): (.*)$/s.exec(message);
    throw at === null ? new XmlParseError(`${name}: ${message}`) : new XmlParseError(`${name}:${at[1] ?? ''}:${at[2] ?? ''}: ${at[3] ?? ''}`, Number(at[1]), Number(at[2]));
  }
}

/** `/ClinicalDocument[1]/recordTarget[1]/…`: local names with their rank among same-named siblings. */
export function locationOf(node: Node): string {
  const steps: string[] = [];
  let current: Node | null = node;
  while (current !== null && current.nodeType !== 9) {
    if (isElement(current)) {
      const name = current.localName;
      let rank = 1;
      for (let sibling = current.previousElementSibling; sibling !== null; sibling = sibling.previousElementSibling) if (sibling.localName === name) rank++;
      steps.unshift(`${name}[${rank}]`);
      current = current.parentNode;
    } else if (current.nodeType === 2) {
      const attribute = current as unknown as { localName: string; ownerElement: Node | null };
      steps.unshift(`@${attribute.localName}`);
      current = attribute.ownerElement;
    } else {
      current = current.parentNode;
    }
  }
  return `/${steps.join('/')}`;
}

/** Where a node is, for a finding: its XPath and, when the parser recorded them, line and column. */
export function whereOf(node: Node): { location: string; line?: number; column?: number } {
  const position = positionOf(node);
  return { location: locationOf(node), ...(position === undefined ? {} : { line: position.line, column: position.column }) };
}
