/**
 * Building documents in tests, and checking them against implementations this project did not
 * write: xmllint for the XSD, pdftotext for the rendered PDF, and the ANS kit's schematrons.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDocument, type BuildOptions, type BuiltDocument } from '../../src/cda/build-document.js';
import { loadCdaTemplates, type DocumentType } from '../../src/cda/templates.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { DEFAULT_NGAP_ACT_CODES } from '../../src/domain/act.js';
import { KIT_DIR } from './shared.js';

/** A clock after every fixture's act. */
export const BUILD_NOW = new Date('2026-11-22T10:00:00+01:00');
export const TEMPLATES = loadCdaTemplates();
export const XSD_PATH = `${KIT_DIR}infrastructure/cda/CDA_extended.xsd`;

export function build(report: ActReport, type: DocumentType, options: Partial<BuildOptions> = {}): Promise<BuiltDocument> {
  return buildDocument(report, { type, templates: TEMPLATES, now: BUILD_NOW, seed: 'test-seed', actCodes: DEFAULT_NGAP_ACT_CODES, ...options });
}

/** Runs a command on bytes written to a temporary file; returns its exit status and output. */
function onTempFile(bytes: Uint8Array, name: string, run: (path: string) => string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-cda-'));
  const path = join(dir, name);
  try {
    writeFileSync(path, bytes);
    return { ok: true, output: run(path) };
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return { ok: false, output: e.stderr?.toString('utf8') ?? e.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `xmllint --noout --nonet --schema CDA_extended.xsd`: ok, or its error output. */
export function xmllintSchema(xml: Uint8Array): { ok: boolean; output: string } {
  return onTempFile(xml, 'document.xml', (path) => execFileSync('xmllint', ['--noout', '--nonet', '--schema', XSD_PATH, path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8'));
}

/** The text of a PDF as poppler reads it, white space collapsed. */
export function pdfText(pdf: Uint8Array): string {
  const result = onTempFile(pdf, 'document.pdf', (path) => execFileSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8'));
  if (!result.ok) throw new Error(`pdftotext cannot read the PDF: ${result.output}`);
  return collapse(result.output);
}

/** `pdfinfo -isodates`: the PDF's metadata as poppler reads it. */
export function pdfInfo(pdf: Uint8Array): string {
  const result = onTempFile(pdf, 'document.pdf', (path) => execFileSync('pdfinfo', ['-isodates', path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8'));
  if (!result.ok) throw new Error(`pdfinfo cannot read the PDF: ${result.output}`);
  return result.output;
}

export const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();
