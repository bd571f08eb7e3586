/**
 * `passerelle validate [--kit DIR] [--volet NAME] [--format text|json|junit|sarif] [--jobs N] FILE|DIR...`:
 * exit 0 when every file is valid, 1 when any is invalid, 2 for usage or I/O errors (unreadable
 * file, kit not found, not XML).
 */
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { AnsKit, KitError } from '../../validation/kit.js';
import { FORMATS, formatReports, type Format } from '../../validation/report-formats.js';
import type { DocumentReport } from '../../validation/validate-document.js';
import { validateFiles } from '../../validation/validate-files.js';
import type { CliIo } from '../io.js';

export async function runValidate(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { kit: { type: 'string' }, volet: { type: 'string' }, format: { type: 'string', default: 'text' }, 'max-bytes': { type: 'string' }, jobs: { type: 'string' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const format = values.format as Format;
  const problems: string[] = [];
  if (!(FORMATS as readonly string[]).includes(format)) problems.push(`--format must be one of ${FORMATS.join(', ')}`);
  if (positionals.length === 0) problems.push('name at least one file or directory');
  const maxBytes = values['max-bytes'] === undefined ? undefined : Number(values['max-bytes']);
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) problems.push('--max-bytes must be a positive integer');
  const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) problems.push('--jobs must be an integer from 1 to 64');
  if (problems.length > 0) throw new PasserelleError('usage', problems.join('; '));

  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const kitDir = values.kit ?? config.validation.kitDir;
  if (kitDir !== undefined) {
    try {
      new AnsKit(kitDir).dispose(); // checks the kit's layout before any work starts
    } catch (error) {
      if (error instanceof KitError) throw new PasserelleError('usage', error.message);
      throw error;
    }
  } else {
    io.stderr('passerelle validate: no kit (--kit DIR or PASSERELLE_KIT_DIR): the built-in CI-SIS rules ran, not XSD nor the kit\'s schematrons\n');
  }

  const files = collect(positionals);
  let reports: DocumentReport[];
  try {
    reports = await validateFiles(files, { ...(kitDir === undefined ? {} : { kitDir }), ...(values.volet === undefined ? {} : { volet: values.volet }), ...(maxBytes === undefined ? {} : { maxBytes }) }, jobs);
  } catch (error) {
    if (error instanceof KitError) throw new PasserelleError('usage', error.message);
    throw error;
  }
  io.stdout(formatReports(reports, format));
  if (reports.some((r) => !r.readable)) return 2;
  return reports.every((r) => r.valid) ? 0 : 1;
}

/** Files named, and the *.xml files under directories named, in a stable order. */
function collect(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      out.push(path); // reported as unreadable
      return;
    }
    if (!stat.isDirectory()) {
      out.push(path);
      return;
    }
    for (const entry of readdirSync(path).sort()) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) walk(child);
      else if (entry.toLowerCase().endsWith('.xml')) out.push(child);
    }
  };
  paths.forEach(walk);
  return out;
}
