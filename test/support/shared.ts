/**
 * The reference material in ../shared (the ANS CI-SIS kit, IHE schemas…), read in place, never
 * copied. Missing: the tests that need it fail with a clear message in CI, and are skipped elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const KIT_DIR = `${SHARED_DIR}ans-cisis/`;

export function requireShared(context: Mocha.Context, relative: string): string {
  const path = `${SHARED_DIR}${relative}`;
  if (existsSync(path)) return path;
  const message = `the reference material ${path} is missing (the tests read ../shared beside the checkout)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`      skipped: ${message}`);
  context.skip();
}

export interface ExpectedVerdict {
  readonly xsd: { readonly valid: boolean; readonly errors: readonly string[] };
  readonly schematron: Readonly<Record<string, { readonly failed: readonly string[]; readonly fired: number }>>;
}

/** The official pipeline's verdicts on every example and mutant, with the file each one is about. */
export function expectedVerdicts(): { file: string; path: string; verdict: ExpectedVerdict }[] {
  const read = (name: string): Record<string, ExpectedVerdict> => JSON.parse(readFileSync(`${KIT_DIR}expected/${name}`, 'utf8')) as Record<string, ExpectedVerdict>;
  return [
    ...Object.entries(read('examples.json')).map(([file, verdict]) => ({ file, path: `${KIT_DIR}examples/${file}`, verdict })),
    ...Object.entries(read('mutants.json')).map(([file, verdict]) => ({ file, path: `${KIT_DIR}mutants/${file}`, verdict })),
  ];
}
