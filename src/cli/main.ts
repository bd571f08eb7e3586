/**
 * `passerelle <command>`: dispatches to one module per command and maps every error to an exit
 * code in this one place (from the error catalogue).
 */
import { ERROR_CATALOGUE, PasserelleError } from '../domain/errors.js';
import type { CliIo } from './io.js';
import { runAudit } from './commands/audit.js';
import { runCda } from './commands/cda.js';
import { runConfig } from './commands/config.js';
import { runKeys } from './commands/keys.js';
import { runPipeline } from './commands/pipeline.js';
import { runPki } from './commands/pki.js';
import { runServe } from './commands/serve.js';
import { runSign } from './commands/sign.js';
import { runSim } from './commands/sim.js';
import { runSubmissions } from './commands/submissions.js';
import { runValidate } from './commands/validate.js';
import { runVerify } from './commands/verify.js';
import { runXdm } from './commands/xdm.js';
import { runXds } from './commands/xds.js';

export const USAGE = `Usage: passerelle <command> [options]

Commands:
  serve [--dev] [--port N] [--store URL] [--config FILE]
                         start the HTTP API (--dev: sandbox tenant and API key, SQLite under ./data)
  keys create --tenant T --role submitter|support|admin [--label L]
                         create an API key (printed once)
  keys list              list API keys (ids, tenants, roles; never secrets)
  keys revoke KEY_ID     revoke an API key
  submissions list --tenant T [--status S] [--request-id R] [--limit N] [--json]
                         list a tenant's submissions, newest first
  submissions show ID --tenant T [--json]
                         a submission: status, deliveries (attempts, next attempt, last error), timeline
  submissions replay ID --tenant T [--rebuild]
  submissions replay --tenant T [--status S] [--destination dmp|mss|mss:ADDR] [--error-code C]
                     [--since DATE-TIME] [--until DATE-TIME] [--limit N] [--rebuild] [--dry-run]
                         replay a failed submission, or every one the filter matches: the stored
                         document to its failed destinations, or --rebuild (exit 1: refused, why)
  audit verify [--submission ID] [--against EXPORT]
                         check the hash chain of the event log, and against an earlier export (a cut
                         tail, a chain recomputed after an edit): exit 0 intact, 1 every broken link listed
  audit export [--out FILE]
                         write every event with its hash as JSON Lines
  pipeline status        jobs per kind and state, and the paused kinds
  pipeline pause KIND [--reason R]
  pipeline resume KIND   stop or restart claiming jobs of a kind (build, dmp, mss, webhook) in every process
  validate [--kit DIR] [--volet NAME] [--format text|json|junit|sarif] [--jobs N] [--max-bytes N] FILE|DIR...
                         validate CDA documents: input checks, XSD and schematrons of the ANS kit
                         (exit 0 all valid, 1 some invalid, 2 usage or unreadable input)
  cda build --input REPORT.json [--type tlm-cr|tlm-da] [--output FILE] [--pdf FILE] [--now DATE-TIME] [--kit DIR]
                         build the CI-SIS document of an act report and check it (built-in rules,
                         plus XSD and schematrons with a kit); --pdf writes the PDF copy
  pki dev --out DIR [--finess N] [--organisation NAME] [--days N]
                         write a development PKI imitating IGC-Santé: root and intermediate CAs,
                         ORG AUTH_CLI and ORG SIGN certificates for a test FINESS, a sandbox server
  sign --type cda|xades|vihf [--p12 FILE --passphrase-file FILE | --cert FILE --key FILE] [--trust CA.pem] [--output FILE] …
                         sign with the ORG SIGN identity: cda FILE (enveloping signed CDA);
                         xades --submission-set OID [--profile dmp|sha256] FILE… (submission-set
                         signature); vihf [--patient INS] [--name-id ID] [--structure-id ID] [--role CODE^SYSTEM]
  verify --trust CA.pem [--document FILE]… [--submission-set OID] [--at DATE-TIME] [--extract FILE] FILE
                         verify a signed CDA, a submission-set signature or a VIHF against the CAs
                         of --trust only (exit 0 valid, 1 invalid with the reason, 2 usage)
  sim dmp [--port N] [--pki DIR] [--database FILE] [--xds-schemas DIR]
                         run the DMP sandbox (XDS.b registry and repository over mutual TLS, with
                         fault injection under /_sandbox); the development PKI by default
  sim mss [--port N] [--starttls] [--pki DIR] [--mailbox ADDRESS] [--mdn processed|error|none|delayed]
                         run the MSSanté sandbox: SMTP over TLS with client certificates, an MDN for
                         each message into the application mailbox of a private Dovecot (IMAPS)
  xds metadata [--config FILE] [--masking ps,patient,legal] CDA.xml
                         print the XDS metadata (lcm:SubmitObjectsRequest) of a CDA as the DMP
                         would receive it; --masking adds the DMP masking codes (exit 1: the CDA
                         lacks what the metadata need, every reason listed)
  xdm build [--pdf FILE] [--config FILE] -o OUT.zip CDA.xml
                         write the IHE XDM archive (IHE_XDM.ZIP) of a CDA for MSSanté: INDEX.HTM,
                         README.TXT, METADATA.XML and the documents; --pdf adds the PDF copy
  xdm read ZIP           list the subsets and documents of an XDM archive, each checked against
                         its hash and size (exit 1: refused, or a document differs, every reason listed)
  config check [--config FILE]
                         validate the configuration and print it (secrets hidden)
  help                   show this help

Configuration comes from PASSERELLE_* environment variables and an optional JSON file
(PASSERELLE_CONFIG or --config); see README.md.
`;

/** What node:util parseArgs throws for a bad command line: usage errors. */
const PARSE_ARGS_ERRORS: readonly string[] = ['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'];

type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: runServe,
  keys: runKeys,
  submissions: runSubmissions,
  audit: runAudit,
  pipeline: runPipeline,
  config: runConfig,
  validate: runValidate,
  cda: runCda,
  pki: runPki,
  sign: runSign,
  sim: runSim,
  verify: runVerify,
  xds: runXds,
  xdm: runXdm,
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name === undefined ? ERROR_CATALOGUE.usage.exitCode : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`passerelle: unknown command "${name}"\n\n${USAGE}`);
    return ERROR_CATALOGUE.usage.exitCode;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof PasserelleError) {
      io.stderr(`passerelle ${name}: ${error.message}\n`);
      if (error.code !== 'config-invalid') for (const v of error.violations) io.stderr(`  - ${v.pointer || '/'}: ${v.message}${v.hint === undefined ? '' : ` (${v.hint})`}\n`);
      return error.definition.exitCode;
    }
    if (error instanceof TypeError && PARSE_ARGS_ERRORS.includes((error as NodeJS.ErrnoException).code ?? '')) {
      io.stderr(`passerelle ${name}: ${error.message}\n\n${USAGE}`);
      return ERROR_CATALOGUE.usage.exitCode;
    }
    io.stderr(`passerelle ${name}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return ERROR_CATALOGUE.internal.exitCode;
  }
}
