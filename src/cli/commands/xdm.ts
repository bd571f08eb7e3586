/**
 * `passerelle xdm build CDA.xml [--pdf FILE] -o OUT.zip [--config FILE]`: the IHE_XDM.ZIP an MSSanté
 * message carries for a CDA (french-specs §4), its metadata mapped as for the DMP with the sender's
 * identity from the configuration (`dmp.sourceId`, `dmp.contentTypeCode`; README.TXT names the
 * software of `dmp.vihf.lps` and the contact `mss.from`).
 * `passerelle xdm read ZIP`: the subsets and documents of an XDM archive, each file's size and
 * hash checked against its metadata; no patient data is printed.
 * Exit 0 written or read with every document as described, 1 the CDA cannot be mapped, the archive
 * is refused or a document differs from its metadata (every reason listed), 2 usage, 3 configuration.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { documentInvalid } from '../../xds/map-cda.js';
import { buildXdmZip, xdmPackageOfCda } from '../../xdm/build-xdm.js';
import { readXdmZip, type ReadXdm } from '../../xdm/read-xdm.js';
import { XdmError } from '../../xdm/xdm-error.js';
import { readInputFile, type CliIo } from '../io.js';

export function runXdm(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'build') return Promise.resolve(build(rest, io));
  if (sub === 'read') return Promise.resolve(read(rest, io));
  throw new PasserelleError('usage', 'xdm: the subcommand is "build" or "read"');
}

function build(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { pdf: { type: 'string' }, output: { type: 'string', short: 'o' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push('give one CDA file');
  if (values.output === undefined) problems.push('give the archive to write with -o FILE');
  if (problems.length > 0) throw new PasserelleError('usage', problems.join('; '));
  const file = positionals[0] ?? '';
  const output = values.output ?? '';
  const { dmp, mss } = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const cda = readInputFile(file);
  const pdf = values.pdf === undefined ? undefined : readInputFile(values.pdf);

  let zip: Buffer;
  try {
    const pkg = xdmPackageOfCda(cda, {
      ...(pdf === undefined ? {} : { pdf }),
      sourceId: dmp.sourceId,
      contentTypeCode: { code: dmp.contentTypeCode.code, codingScheme: dmp.contentTypeCode.codeSystem, displayName: dmp.contentTypeCode.displayName },
      now: new Date(),
    });
    zip = buildXdmZip(pkg, {
      producer: { name: dmp.vihf.lps.name, ...(dmp.vihf.lps.version === undefined ? {} : { version: dmp.vihf.lps.version }) },
      ...(mss.from === undefined ? {} : { contact: mss.from }),
    });
    io.stderr(`passerelle xdm: ${String(pkg.documents.length)} document(s) (${pkg.documents.map((d) => d.fileName).join(', ')}) in submission set ${pkg.submission.submissionSet.uniqueId}\n`);
  } catch (error) {
    throw documentInvalid(error, file) ?? error;
  }
  try {
    writeFileSync(output, zip);
  } catch (error) {
    throw new PasserelleError('usage', `cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  io.stderr(`passerelle xdm: wrote ${output} (${String(zip.length)} bytes)\n`);
  return 0;
}

function read(args: readonly string[], io: CliIo): number {
  const { positionals } = parseArgs({ args: [...args], options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new PasserelleError('usage', 'give one XDM archive');
  const file = positionals[0] ?? '';
  let archive: ReadXdm;
  try {
    archive = readXdmZip(readInputFile(file));
  } catch (error) {
    if (!(error instanceof XdmError)) throw error;
    io.stderr(`passerelle xdm: ${file} is refused (${String(error.problems.length)} problem(s)):\n`);
    // The entry's name is printed here, to the user who holds the archive, quoted so that it cannot
    // drive the terminal; messages (which logs keep) never carry it.
    for (const p of error.problems) io.stderr(`  - ${p.entry === undefined ? '' : `entry ${String(p.entry)} ${JSON.stringify(p.name ?? '')}: `}${p.message} [${p.code}]\n`);
    return 1;
  }
  let mismatches = 0;
  io.stdout(`${file}: ${String(archive.files.size)} file(s), ${String(archive.subsets.length)} subset(s)\n`);
  for (const subset of archive.subsets) {
    const metadata = subset.submission === undefined
      ? `limited metadata (not full XDS: ${String(subset.metadataProblems.length)} attribute problem(s))`
      : `XDS metadata, submission set ${subset.submission.submissionSet.uniqueId}`;
    io.stdout(`${subset.path}: ${metadata}, ${String(subset.checks.length)} document(s)\n`);
    for (const check of subset.checks) {
      const matched = [...(check.sizeMatches === true ? ['size'] : []), ...(check.hashMatches === true ? ['hash'] : [])];
      const verdict = check.problems.length > 0 ? check.problems.join('; ') : matched.length === 0 ? 'no hash or size to check' : `${matched.join(' and ')} as declared`;
      mismatches += check.problems.length;
      io.stdout(`  ${check.file ?? JSON.stringify(check.uri ?? '(no URI)')}  ${check.mimeType ?? '?'}  ${check.size === undefined ? '-' : `${String(check.size)} bytes`}  ${verdict}\n`);
    }
  }
  return mismatches === 0 ? 0 : 1;
}
