/**
 * `passerelle cda build --input REPORT.json [--type tlm-cr|tlm-da] [--output FILE] [--pdf FILE]
 * [--now DATE-TIME] [--kit DIR] [--config FILE]`: the gateway's builder on one act report. The
 * report goes through the same checks as `POST /v1/act-reports`, the document through the same
 * validation as before sending. Exit 0 written, 1 report or document refused, 2 usage or I/O.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DOCUMENT_TYPES, type DocumentType } from '../../cda/templates.js';
import { loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { ActReportValidator } from '../../intake/act-report-validator.js';
import { configuredDocumentFactory, produceDocument } from '../../pipeline/produce-document.js';
import { AnsKit, KitError } from '../../validation/kit.js';
import { readInputFile, type CliIo } from '../io.js';

export async function runCda(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'build') throw new PasserelleError('usage', 'cda: the subcommand is "build"');
  const { values, positionals } = parseArgs({
    args: rest,
    options: { input: { type: 'string' }, type: { type: 'string', default: 'tlm-cr' }, output: { type: 'string' }, pdf: { type: 'string' }, now: { type: 'string' }, kit: { type: 'string' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const problems: string[] = [];
  if (values.input === undefined) problems.push('--input REPORT.json is required');
  if (positionals.length > 0) problems.push(`unexpected argument ${positionals.join(' ')}`);
  if (!(DOCUMENT_TYPES as readonly string[]).includes(values.type)) problems.push(`--type must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime())) problems.push('--now must be a date-time such as 2026-11-20T10:00:00+01:00');
  if (problems.length > 0 || values.input === undefined) throw new PasserelleError('usage', problems.join('; '));
  const type = values.type as DocumentType;

  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const bytes = readInputFile(values.input, config.http.maxBodyBytes, 'http.maxBodyBytes');
  let input: unknown;
  try {
    input = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PasserelleError('malformed-json', `${values.input} is not JSON: ${(error as Error).message}`);
  }
  const validator = new ActReportValidator(() => ({ now, clockSkewMs: config.intake.clockSkewMs, maxPdfBytes: config.intake.maxPdfBytes, ngapActCodes: config.intake.ngapActCodes }));
  const checked = validator.validate(input);
  if (!checked.ok) throw new PasserelleError('validation-failed', `${values.input} breaks ${String(checked.violations.length)} rule(s)`, { violations: checked.violations });
  if (checked.report.replaces !== undefined && 'submissionId' in checked.report.replaces) {
    throw new PasserelleError('document-not-buildable', 'replaces.submissionId names a submission of the gateway, which this command cannot read', {
      violations: [{ pointer: '/replaces', rule: 'REPLACES_SUBMISSION_OFFLINE', message: 'only the gateway can resolve a submission id', hint: 'Give replaces.documentId, replaces.setId and replaces.versionNumber of the replaced document.' }],
    });
  }

  const kitDir = values.kit ?? config.validation.kitDir;
  let kit: AnsKit | undefined;
  try {
    kit = kitDir === undefined ? undefined : new AnsKit(kitDir);
  } catch (error) {
    if (error instanceof KitError) throw new PasserelleError('usage', error.message);
    throw error;
  }
  try {
    // Same input, same clock, same document: the ids derive from the input's bytes and the clock.
    const seed = createHash('sha256').update(bytes).update(now.toISOString()).digest('hex');
    const { document, issues } = await produceDocument(checked.report, { type, seed, now }, configuredDocumentFactory(config, kit));
    for (const issue of issues) io.stderr(`passerelle cda: ${issue.severity} ${issue.rule ?? issue.source}: ${issue.message}\n`);
    if (values.output === undefined) io.stdout(document.xml.toString('utf8'));
    else writeFileSync(values.output, document.xml);
    if (values.pdf !== undefined) {
      if (document.pdf === undefined) throw new PasserelleError('usage', `--pdf: a ${type.toUpperCase()} has no PDF copy`);
      writeFileSync(values.pdf, document.pdf);
    }
    io.stderr(`passerelle cda: ${document.volet} ${document.id.root} version ${String(document.versionNumber)}${kit === undefined ? ' (checked with the built-in rules; --kit DIR adds XSD and schematrons)' : ' (checked with the built-in rules and the ANS kit)'}\n`);
    return 0;
  } finally {
    kit?.dispose();
  }
}
