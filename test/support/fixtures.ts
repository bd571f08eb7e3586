/** Test data: the act-report fixtures of fixtures/act-reports, as fresh mutable copies. */
import { readFileSync, readdirSync } from 'node:fs';

const DIR = new URL('../../fixtures/act-reports/', import.meta.url);

export type Mutable = Record<string, any>; // tests poke at arbitrary paths

export const FIXTURE_NAMES: readonly string[] = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

export function fixture(name: string): Mutable {
  return JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Mutable;
}

/** A base64 PDF of about `bytes` bytes: a valid header and trailer around filler. */
export function pdfOfSize(bytes: number): string {
  const head = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n';
  const tail = '\n%%EOF\n';
  return Buffer.from(head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail, 'latin1').toString('base64');
}
