/**
 * `passerelle xds metadata CDA.xml [--config FILE] [--masking ps,patient,legal]`: the XDS metadata
 * the DMP would receive for a CDA (a signed CDA too), as the lcm:SubmitObjectsRequest of its
 * submission: what the document says, mapped as french-specs §3.1 describes, plus the identity of
 * the sender (repository, sourceId, contentTypeCode) from the configuration (`dmp`), development
 * values by default.
 * Exit 0 printed, 1 the CDA cannot be mapped (every reason listed), 2 usage, 3 configuration.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { readCdaHeader } from '../../cda/read-header.js';
import { DEFAULTS, loadConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { uuidOidOf } from '../../transports/dmp/ids.js';
import { submitObjectsRequestXml } from '../../xds/ebrim.js';
import { documentInvalid, submissionOfCda, type DmpMasking } from '../../xds/map-cda.js';
import { readInputFile, type CliIo } from '../io.js';

/** `--masking` words and the flag each one sets. */
const MASKING_WORDS: Readonly<Record<string, keyof DmpMasking>> = {
  ps: 'hiddenFromProfessionals',
  patient: 'hiddenFromPatient',
  legal: 'hiddenFromLegalRepresentatives',
};

export function runXds(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'metadata') throw new PasserelleError('usage', 'xds: the subcommand is "metadata"');
  const { values, positionals } = parseArgs({ args: rest, options: { config: { type: 'string' }, masking: { type: 'string' } }, allowPositionals: true, strict: true });
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push('give one CDA file');
  const masking = values.masking === undefined ? {} : maskingOf(values.masking, problems);
  if (problems.length > 0) throw new PasserelleError('usage', problems.join('; '));
  const file = positionals[0] ?? '';
  const { dmp } = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const contentTypeCode = { code: dmp.contentTypeCode.code, codingScheme: dmp.contentTypeCode.codeSystem, displayName: dmp.contentTypeCode.displayName };
  const cda = readInputFile(file);

  const now = new Date();
  const documentEntryUUID = `urn:uuid:${randomUUID()}`;
  const submissionSetUUID = `urn:uuid:${randomUUID()}`;
  try {
    const header = readCdaHeader(cda);
    const request = submissionOfCda(cda, {
      document: { entryUUID: documentEntryUUID, repositoryUniqueId: dmp.repositoryUniqueId, masking },
      submissionSet: { entryUUID: submissionSetUUID, uniqueId: uuidOidOf(submissionSetUUID), sourceId: dmp.sourceId, contentTypeCode, submissionTime: now },
    }, header);
    io.stdout(submitObjectsRequestXml(request));
    const entry = request.documentEntries[0];
    io.stderr(`passerelle xds: metadata of ${entry?.uniqueId ?? ''} (${entry?.typeCode.displayName ?? ''}) in submission set ${request.submissionSet.uniqueId}${dmp.repositoryUniqueId === DEFAULTS.dmpRepositoryUniqueId ? ' (development repository and sourceId: the configuration sets them)' : ''}\n`);
    for (const related of header.relatedDocuments.filter((r) => r.typeCode === 'RPLC')) {
      io.stderr(`passerelle xds: this CDA replaces ${related.parentDocumentId.root}: filing adds an RPLC association to that document's entryUUID, which only the DMP knows (ITI-18), so it is not printed here\n`);
    }
    return Promise.resolve(0);
  } catch (error) {
    throw documentInvalid(error, file) ?? error;
  }
}

function maskingOf(list: string, problems: string[]): DmpMasking {
  const masking: Partial<Record<keyof DmpMasking, boolean>> = {};
  for (const word of list.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    const flag = MASKING_WORDS[word];
    if (flag === undefined) problems.push(`--masking: "${word}" is not one of ${Object.keys(MASKING_WORDS).join(', ')}`);
    else masking[flag] = true;
  }
  return masking;
}
