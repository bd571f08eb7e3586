/**
 * Configuration: read once from the environment and an optional JSON file, validated, then passed
 * as a value. This is the only module that reads process.env. Environment variables win over the
 * file so that a container can override one setting without rewriting the file.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_NGAP_ACT_CODES, ACT_TYPES, type NgapActCode } from '../domain/act.js';
import { PasserelleError, type Violation } from '../domain/errors.js';
import { TENANT_ID } from '../domain/ids.js';
import { isRole, type Role } from '../domain/submission.js';
import type { SigningIdentitySource } from '../signing/identity.js';

export type ClientAuthMode = 'off' | 'optional' | 'required';

export interface ClientCertificateBinding {
  /** SHA-256 fingerprint of the client certificate, hex with or without colons. */
  readonly fingerprint256: string;
  readonly tenantId: string;
  readonly role: Role;
}

export interface Config {
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly maxBodyBytes: number;
    /** When set, the API is served over HTTPS with these PEM files. */
    readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string; readonly clientAuth: ClientAuthMode };
    readonly clientCertificates: readonly ClientCertificateBinding[];
    /**
     * Tenants whose admins control the pipeline over HTTP (pauses, the queue): its jobs are every
     * tenant's, so a tenant's admin alone may not. `passerelle pipeline` needs no tenant.
     */
    readonly operatorTenants: readonly string[];
  };
  /** `schema`: PostgreSQL schema holding the gateway's tables (default: the server's search_path). */
  readonly store: { readonly url: string; readonly poolMax: number; readonly schema?: string };
  readonly intake: { readonly maxPdfBytes: number; readonly clockSkewMs: number; readonly ngapActCodes: readonly NgapActCode[] };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** How CDA documents are built: time zone of their own times, body of a report without a PDF. */
  readonly documents: { readonly timeZone: string; readonly textBodyAs: 'pdf' | 'text' };
  /** The ANS CI-SIS test kit used by `passerelle validate` (and, when set, by the gateway). */
  readonly validation: { readonly kitDir?: string };
  readonly signing: SigningConfig;
  readonly dmp: DmpConfig;
  readonly mss: MssConfig;
  readonly pipeline: PipelineConfig;
  /** Per tenant, where terminal states are told (POST, signed with an HMAC). */
  readonly webhooks: readonly WebhookConfig[];
  /** Development mode: creates and prints an API key for the sandbox tenant. Never in production. */
  readonly dev: boolean;
  readonly dataDir: string;
}

export interface SigningConfig {
  readonly identity?: SigningIdentitySource;
  /** PEM bundle of the CA certificates signatures are verified against. */
  readonly trustFile?: string;
  /** Algorithms of the XAdES submission-set signature: `dmp` (what DRIMbox sends) or `sha256`. */
  readonly xadesProfile: 'dmp' | 'sha256';
  readonly vihfValiditySeconds: number;
}

/** A coded value of the configuration (XDS contentTypeCode, VIHF role…). */
export interface ConfiguredCode {
  readonly code: string;
  readonly codeSystem: string;
  readonly displayName: string;
}

/** The VIHF of every DMP call, per structure (french-specs §3.5); the patient's INS is added per call. */
export interface VihfConfig {
  readonly version: string;
  /** Subject/NameID: IdNat of the person responsible for the automated sending. */
  readonly nameId: string;
  readonly subjectId: string;
  readonly roles: readonly ConfiguredCode[];
  readonly purposeOfUse: ConfiguredCode;
  /** Secteur_Activite, `code^codeSystem` (JDV_J61). */
  readonly sector: string;
  readonly authenticationMode: 'DIRECTE' | 'INDIRECTE' | 'INDIRECTE_RENFORCEE';
  readonly authnContext: string;
  readonly lps: { readonly id?: string; readonly name: string; readonly version?: string; readonly homologationId: string };
}

/**
 * The DMP client. Without a URL the gateway does not feed the DMP. The identity is the
 * structure's ORG AUTH_CLI certificate (mutual TLS); signatures use `signing.identity` (ORG SIGN).
 */
export interface DmpConfig {
  /** Base URL of the DMP services; `/registry`, `/repository` and `/patients` are appended (french-specs §3.6). */
  readonly url?: string;
  readonly tlsIdentity?: SigningIdentitySource;
  /** PEM bundle the DMP's server certificate is verified against (default: signing.trustFile). */
  readonly trustFile?: string;
  readonly connectTimeoutMs: number;
  readonly tlsTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** XDS repositoryUniqueId of the DMP repository. */
  readonly repositoryUniqueId: string;
  /** XDS SubmissionSet.sourceId: the OID of this gateway installation. */
  readonly sourceId: string;
  /** SubmissionSet.contentTypeCode (JDV_J59). */
  readonly contentTypeCode: ConfiguredCode;
  /** `td0.2`: ask the DMP whether the patient has an active DMP and does not object; `skip`: the platform knows. */
  readonly patientCheck: 'td0.2' | 'skip';
  /** IdNat_Struct of the structure (Identifiant_Structure), e.g. `1` + FINESS. */
  readonly structureId: string;
  readonly vihf: VihfConfig;
}

/**
 * MSSanté: the application mailbox (BAL applicative) that sends the reports and reads their
 * acknowledgements, authenticated by its TLS client certificate on SMTP and IMAP (french-specs
 * §4). Without an SMTP host the gateway sends no mail.
 */
export interface MssConfig {
  readonly smtp?: { readonly host: string; readonly port: number; readonly tls: 'implicit' | 'starttls' };
  readonly imap?: { readonly host: string; readonly port: number };
  /** The application mailbox's address: From, and where acknowledgements come back. */
  readonly from?: string;
  readonly tlsIdentity?: SigningIdentitySource;
  /** PEM bundle the MSSanté servers' certificates are verified against (default: signing.trustFile). */
  readonly trustFile?: string;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Also attach the PDF copy next to IHE_XDM.ZIP. */
  readonly attachPdf: boolean;
  /** Ask for an acknowledgement (Disposition-Notification-To). */
  readonly requestAcknowledgement: boolean;
  /** Extra `X-MSS-*` headers, whose semantics are [UNVERIFIED]: name → value. */
  readonly headers: Readonly<Record<string, string>>;
}

/** How the delivery pipeline claims, retries and protects its partners (src/pipeline). */
export interface PipelineConfig {
  /** Jobs run at once by this process. */
  readonly concurrency: number;
  /** Pause between two looks at the queue when it was empty (a new report wakes the worker at once). */
  readonly pollMs: number;
  /**
   * How long a claimed job is this process's without news from it: the worker renews the leases
   * of its jobs in flight every third of it, so after a crash another process takes them over
   * within this time (and checks with the DMP before filing again).
   */
  readonly leaseMs: number;
  readonly retry: { readonly baseMs: number; readonly maxDelayMs: number; readonly maxAttempts: number; readonly maxAgeMs: number };
  /** Consecutive retryable failures of one kind that open its circuit, and how long it stays open. */
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  /** How often the application mailbox is read for acknowledgements. */
  readonly acknowledgementPollMs: number;
}

export interface WebhookConfig {
  readonly tenantId: string;
  /** https:// (http:// only on loopback, for development). */
  readonly url: string;
  /** The shared HMAC secret, read from this file at start. */
  readonly secretFile: string;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 16 * 1024 * 1024,
  maxPdfBytes: 10 * 1024 * 1024,
  clockSkewSeconds: 300,
  storeUrl: 'sqlite:./data/passerelle.db',
  poolMax: 10,
  logLevel: 'info',
  dataDir: './data',
  timeZone: 'Europe/Paris',
  vihfValiditySeconds: 300,
  dmpConnectTimeoutMs: 5_000,
  dmpTlsTimeoutMs: 5_000,
  dmpResponseTimeoutMs: 30_000,
  dmpMaxResponseBytes: 64 * 1024 * 1024,
  /**
   * Development values, under 2.999, the arc ITU-T X.660 | ISO/IEC 9834-1 reserves for examples
   * (no real system is registered there): a real installation sets its own (the DMP gives its
   * repositoryUniqueId; sourceId is an OID of the installation's organisation).
   */
  dmpRepositoryUniqueId: '2.999.1.1',
  dmpSourceId: '2.999.1.2',
  mssConnectTimeoutMs: 10_000,
  mssResponseTimeoutMs: 60_000,
  workerConcurrency: 8,
  workerPollMs: 200,
  workerLeaseMs: 30_000,
  retryBaseMs: 2_000,
  retryMaxDelayMs: 600_000,
  retryMaxAttempts: 10,
  retryMaxAgeSeconds: 86_400,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
  acknowledgementPollMs: 5_000,
} as const;

/**
 * SubmissionSet.contentTypeCode by default: TRE_R209-TypeActivite `07`, the code the ANS HL7 v2
 * transmission volet maps an outpatient visit (PV1-2 = O) to, which a telemedicine act is, with
 * the label of the RASS value set JDV_J138. JDV_J59's contents are not public [UNVERIFIED]: set
 * dmp.contentTypeCode.
 */
export const DEFAULT_CONTENT_TYPE_CODE: ConfiguredCode = { code: '07', codeSystem: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' };

/**
 * The VIHF of an automated sender as DRIMbox and the MAP describe it; names and ids are
 * development values to be replaced by the structure's own.
 */
/** The subject role of an automated process (TRE_A00-ProducteurDocNonPS, JDV_J65; french-specs §3.5). */
const AUTOMATE_ROLE: ConfiguredCode = { code: 'AUTOMATE', codeSystem: '1.2.250.1.213.1.1.4.6', displayName: 'Automate' };

export const DEFAULT_VIHF: VihfConfig = {
  version: '3.0',
  nameId: '801234567897',
  subjectId: 'Passerelle',
  roles: [AUTOMATE_ROLE],
  purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248', displayName: 'Accès normal' },
  sector: 'SA07^1.2.250.1.71.4.2.4',
  authenticationMode: 'INDIRECTE',
  authnContext: 'unspecified',
  lps: { name: 'Passerelle', version: '0.1.0', homologationId: 'PASSERELLE-DEV' },
};

/** Environment variables and the file key each one overrides. */
export const ENVIRONMENT = {
  PASSERELLE_CONFIG: 'path of an optional JSON configuration file',
  PASSERELLE_HOST: 'http.host',
  PASSERELLE_PORT: 'http.port',
  PASSERELLE_MAX_BODY_BYTES: 'http.maxBodyBytes',
  PASSERELLE_TLS_CERT_FILE: 'http.tls.certFile',
  PASSERELLE_TLS_KEY_FILE: 'http.tls.keyFile',
  PASSERELLE_TLS_CA_FILE: 'http.tls.caFile',
  PASSERELLE_TLS_CLIENT_AUTH: 'http.tls.clientAuth',
  PASSERELLE_OPERATOR_TENANTS: 'http.operatorTenants',
  PASSERELLE_STORE_URL: 'store.url',
  PASSERELLE_STORE_POOL_MAX: 'store.poolMax',
  PASSERELLE_STORE_SCHEMA: 'store.schema',
  PASSERELLE_MAX_PDF_BYTES: 'intake.maxPdfBytes',
  PASSERELLE_CLOCK_SKEW_SECONDS: 'intake.clockSkewSeconds',
  PASSERELLE_LOG_LEVEL: 'log.level',
  PASSERELLE_DATA_DIR: 'dataDir',
  PASSERELLE_KIT_DIR: 'validation.kitDir',
  PASSERELLE_TIME_ZONE: 'documents.timeZone',
  PASSERELLE_TEXT_BODY_AS: 'documents.textBodyAs',
  PASSERELLE_SIGNING_PKCS12_FILE: 'signing.identity.pkcs12File',
  PASSERELLE_SIGNING_PASSPHRASE: 'signing.identity.passphrase',
  PASSERELLE_SIGNING_PASSPHRASE_FILE: 'signing.identity.passphraseFile',
  PASSERELLE_SIGNING_CERT_FILE: 'signing.identity.certFile',
  PASSERELLE_SIGNING_KEY_FILE: 'signing.identity.keyFile',
  PASSERELLE_TRUST_FILE: 'signing.trustFile',
  PASSERELLE_XADES_PROFILE: 'signing.xadesProfile',
  PASSERELLE_VIHF_VALIDITY_SECONDS: 'signing.vihfValiditySeconds',
  PASSERELLE_DMP_URL: 'dmp.url',
  PASSERELLE_DMP_PKCS12_FILE: 'dmp.tlsIdentity.pkcs12File',
  PASSERELLE_DMP_PASSPHRASE_FILE: 'dmp.tlsIdentity.passphraseFile',
  PASSERELLE_DMP_TRUST_FILE: 'dmp.trustFile',
  PASSERELLE_DMP_CONNECT_TIMEOUT_MS: 'dmp.connectTimeoutMs',
  PASSERELLE_DMP_TLS_TIMEOUT_MS: 'dmp.tlsTimeoutMs',
  PASSERELLE_DMP_RESPONSE_TIMEOUT_MS: 'dmp.responseTimeoutMs',
  PASSERELLE_DMP_REPOSITORY_UNIQUE_ID: 'dmp.repositoryUniqueId',
  PASSERELLE_DMP_SOURCE_ID: 'dmp.sourceId',
  PASSERELLE_DMP_PATIENT_CHECK: 'dmp.patientCheck',
  PASSERELLE_DMP_STRUCTURE_ID: 'dmp.structureId',
  PASSERELLE_MSS_SMTP_HOST: 'mss.smtp.host',
  PASSERELLE_MSS_SMTP_PORT: 'mss.smtp.port',
  PASSERELLE_MSS_SMTP_TLS: 'mss.smtp.tls',
  PASSERELLE_MSS_IMAP_HOST: 'mss.imap.host',
  PASSERELLE_MSS_IMAP_PORT: 'mss.imap.port',
  PASSERELLE_MSS_FROM: 'mss.from',
  PASSERELLE_MSS_PKCS12_FILE: 'mss.tlsIdentity.pkcs12File',
  PASSERELLE_MSS_PASSPHRASE_FILE: 'mss.tlsIdentity.passphraseFile',
  PASSERELLE_MSS_TRUST_FILE: 'mss.trustFile',
  PASSERELLE_MSS_CONNECT_TIMEOUT_MS: 'mss.connectTimeoutMs',
  PASSERELLE_MSS_RESPONSE_TIMEOUT_MS: 'mss.responseTimeoutMs',
  PASSERELLE_MSS_ATTACH_PDF: 'mss.attachPdf',
  PASSERELLE_MSS_REQUEST_ACKNOWLEDGEMENT: 'mss.requestAcknowledgement',
  PASSERELLE_WORKER_CONCURRENCY: 'pipeline.concurrency',
  PASSERELLE_WORKER_POLL_MS: 'pipeline.pollMs',
  PASSERELLE_WORKER_LEASE_MS: 'pipeline.leaseMs',
  PASSERELLE_RETRY_BASE_MS: 'pipeline.retry.baseMs',
  PASSERELLE_RETRY_MAX_DELAY_MS: 'pipeline.retry.maxDelayMs',
  PASSERELLE_RETRY_MAX_ATTEMPTS: 'pipeline.retry.maxAttempts',
  PASSERELLE_RETRY_MAX_AGE_SECONDS: 'pipeline.retry.maxAgeSeconds',
  PASSERELLE_BREAKER_THRESHOLD: 'pipeline.breaker.failureThreshold',
  PASSERELLE_BREAKER_COOLDOWN_MS: 'pipeline.breaker.cooldownMs',
  PASSERELLE_ACK_POLL_MS: 'pipeline.acknowledgementPollMs',
} as const;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A store URL fit to print: the password (and user) of `postgres://user:password@host` hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

type Source = Readonly<Record<string, string | undefined>>;
type Obj = Record<string, unknown>;

export interface LoadOptions {
  /** Overrides coming from command-line flags (e.g. `--port`, `--dev`). */
  readonly overrides?: { readonly port?: number; readonly storeUrl?: string; readonly dev?: boolean; readonly configFile?: string };
}

export function loadConfig(env: Source = process.env, options: LoadOptions = {}): Config {
  const problems: Violation[] = [];
  const file = readConfigFile(options.overrides?.configFile ?? env.PASSERELLE_CONFIG, problems);
  const reader = new Reader(env, file, problems);

  const certFile = reader.string('PASSERELLE_TLS_CERT_FILE', ['http', 'tls', 'certFile']);
  const keyFile = reader.string('PASSERELLE_TLS_KEY_FILE', ['http', 'tls', 'keyFile']);
  const caFile = reader.string('PASSERELLE_TLS_CA_FILE', ['http', 'tls', 'caFile']);
  const clientAuth = reader.oneOf('PASSERELLE_TLS_CLIENT_AUTH', ['http', 'tls', 'clientAuth'], ['off', 'optional', 'required'] as const, 'off');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push({ pointer: '/http/tls', rule: 'CONFIG_TLS_PAIR', message: 'TLS needs both a certificate and a key file', hint: 'Set PASSERELLE_TLS_CERT_FILE and PASSERELLE_TLS_KEY_FILE together.' });
  }
  if (clientAuth !== 'off' && caFile === undefined) {
    problems.push({ pointer: '/http/tls/caFile', rule: 'CONFIG_TLS_CLIENT_CA', message: 'client-certificate authentication needs the CA that issues client certificates', hint: 'Set PASSERELLE_TLS_CA_FILE to a PEM bundle.' });
  }
  const kitDir = reader.string('PASSERELLE_KIT_DIR', ['validation', 'kitDir']);
  const storeSchema = reader.string('PASSERELLE_STORE_SCHEMA', ['store', 'schema']);
  if (storeSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(storeSchema)) {
    problems.push({ pointer: '/store/schema', rule: 'CONFIG_STORE_SCHEMA', message: 'must be a lower-case PostgreSQL identifier', hint: 'e.g. passerelle' });
  }
  const timeZone = reader.string('PASSERELLE_TIME_ZONE', ['documents', 'timeZone']) ?? DEFAULTS.timeZone;
  if (!isTimeZone(timeZone)) {
    problems.push({ pointer: '/documents/timeZone', rule: 'CONFIG_TIME_ZONE', message: `"${timeZone}" is not an IANA time zone`, hint: 'e.g. Europe/Paris, America/Cayenne, Indian/Reunion' });
  }
  const tls = certFile !== undefined && keyFile !== undefined ? { certFile, keyFile, clientAuth, ...(caFile === undefined ? {} : { caFile }) } : undefined;

  const config: Config = {
    http: {
      host: reader.string('PASSERELLE_HOST', ['http', 'host']) ?? DEFAULTS.host,
      port: options.overrides?.port ?? reader.integer('PASSERELLE_PORT', ['http', 'port'], DEFAULTS.port, 0, 65535),
      maxBodyBytes: reader.integer('PASSERELLE_MAX_BODY_BYTES', ['http', 'maxBodyBytes'], DEFAULTS.maxBodyBytes, 1024, 1024 ** 3),
      ...(tls === undefined ? {} : { tls }),
      clientCertificates: clientCertificates(file, problems),
      operatorTenants: reader.tenants('PASSERELLE_OPERATOR_TENANTS', ['http', 'operatorTenants']),
    },
    store: {
      url: options.overrides?.storeUrl ?? reader.string('PASSERELLE_STORE_URL', ['store', 'url']) ?? DEFAULTS.storeUrl,
      poolMax: reader.integer('PASSERELLE_STORE_POOL_MAX', ['store', 'poolMax'], DEFAULTS.poolMax, 1, 200),
      ...(storeSchema === undefined ? {} : { schema: storeSchema }),
    },
    intake: {
      maxPdfBytes: reader.integer('PASSERELLE_MAX_PDF_BYTES', ['intake', 'maxPdfBytes'], DEFAULTS.maxPdfBytes, 1024, 1024 ** 3),
      clockSkewMs: 1000 * reader.integer('PASSERELLE_CLOCK_SKEW_SECONDS', ['intake', 'clockSkewSeconds'], DEFAULTS.clockSkewSeconds, 0, 86400),
      ngapActCodes: ngapActCodes(file, problems),
    },
    log: { level: reader.oneOf('PASSERELLE_LOG_LEVEL', ['log', 'level'], ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, DEFAULTS.logLevel) },
    documents: { timeZone, textBodyAs: reader.oneOf('PASSERELLE_TEXT_BODY_AS', ['documents', 'textBodyAs'], ['pdf', 'text'] as const, 'pdf') },
    validation: kitDir === undefined ? {} : { kitDir },
    signing: signingConfig(reader, problems),
    dmp: dmpConfig(reader, file, problems),
    mss: mssConfig(reader, file, problems),
    pipeline: pipelineConfig(reader, problems),
    webhooks: webhooksConfig(file.webhooks, problems),
    dev: options.overrides?.dev ?? false,
    dataDir: reader.string('PASSERELLE_DATA_DIR', ['dataDir']) ?? DEFAULTS.dataDir,
  };
  if (config.intake.maxPdfBytes * 4 / 3 > config.http.maxBodyBytes) {
    problems.push({ pointer: '/intake/maxPdfBytes', rule: 'CONFIG_PDF_EXCEEDS_BODY', message: 'a PDF of maxPdfBytes, base64-encoded, would not fit in maxBodyBytes', hint: 'Keep maxBodyBytes at least 4/3 × maxPdfBytes plus room for the rest of the report.' });
  }
  if (problems.length > 0) {
    throw new PasserelleError('config-invalid', `the configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p.pointer}: ${p.message}${p.hint === undefined ? '' : ` (${p.hint})`}`).join('\n')}`, { violations: problems });
  }
  return config;
}

function signingConfig(reader: Reader, problems: Violation[]): SigningConfig {
  const pkcs12File = reader.string('PASSERELLE_SIGNING_PKCS12_FILE', ['signing', 'identity', 'pkcs12File']);
  const passphrase = reader.string('PASSERELLE_SIGNING_PASSPHRASE', ['signing', 'identity', 'passphrase']);
  const passphraseFile = reader.string('PASSERELLE_SIGNING_PASSPHRASE_FILE', ['signing', 'identity', 'passphraseFile']);
  const certFile = reader.string('PASSERELLE_SIGNING_CERT_FILE', ['signing', 'identity', 'certFile']);
  const keyFile = reader.string('PASSERELLE_SIGNING_KEY_FILE', ['signing', 'identity', 'keyFile']);
  const trustFile = reader.string('PASSERELLE_TRUST_FILE', ['signing', 'trustFile']);
  let identity: SigningIdentitySource | undefined;
  if (pkcs12File !== undefined) {
    if (certFile !== undefined || keyFile !== undefined) problems.push({ pointer: '/signing/identity', rule: 'CONFIG_SIGNING_IDENTITY', message: 'give a PKCS#12 file or PEM certificate and key files, not both' });
    if ((passphrase === undefined) === (passphraseFile === undefined)) problems.push({ pointer: '/signing/identity', rule: 'CONFIG_SIGNING_PASSPHRASE', message: 'a PKCS#12 file needs its passphrase, from the environment or from a file (one of them)', hint: 'Set PASSERELLE_SIGNING_PASSPHRASE_FILE (or PASSERELLE_SIGNING_PASSPHRASE).' });
    identity = { pkcs12File, ...(passphrase === undefined ? {} : { passphrase }), ...(passphraseFile === undefined ? {} : { passphraseFile }) };
  } else if (certFile !== undefined || keyFile !== undefined) {
    if (certFile === undefined || keyFile === undefined) problems.push({ pointer: '/signing/identity', rule: 'CONFIG_SIGNING_PEM_PAIR', message: 'a PEM signing identity needs both a certificate and a key file' });
    else identity = { certFile, keyFile };
  }
  if (identity !== undefined && trustFile === undefined) problems.push({ pointer: '/signing/trustFile', rule: 'CONFIG_SIGNING_TRUST', message: 'a signing identity needs the trust store its certificate is checked against', hint: 'Set PASSERELLE_TRUST_FILE to the PEM bundle of the CA certificates (IGC-Santé roots).' });
  return {
    ...(identity === undefined ? {} : { identity }),
    ...(trustFile === undefined ? {} : { trustFile }),
    xadesProfile: reader.oneOf('PASSERELLE_XADES_PROFILE', ['signing', 'xadesProfile'], ['dmp', 'sha256'] as const, 'dmp'),
    vihfValiditySeconds: reader.integer('PASSERELLE_VIHF_VALIDITY_SECONDS', ['signing', 'vihfValiditySeconds'], DEFAULTS.vihfValiditySeconds, 30, 3600),
  };
}

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

function dmpConfig(reader: Reader, file: Obj, problems: Violation[]): DmpConfig {
  const url = reader.string('PASSERELLE_DMP_URL', ['dmp', 'url']);
  if (url !== undefined && !/^https:\/\/[^\s/]+/.test(url)) problems.push({ pointer: '/dmp/url', rule: 'CONFIG_DMP_URL', message: 'must be an https:// URL (the DMP is reached over mutual TLS only)' });
  const pkcs12File = reader.string('PASSERELLE_DMP_PKCS12_FILE', ['dmp', 'tlsIdentity', 'pkcs12File']);
  const passphraseFile = reader.string('PASSERELLE_DMP_PASSPHRASE_FILE', ['dmp', 'tlsIdentity', 'passphraseFile']);
  if ((pkcs12File === undefined) !== (passphraseFile === undefined)) problems.push({ pointer: '/dmp/tlsIdentity', rule: 'CONFIG_DMP_IDENTITY', message: 'the ORG AUTH_CLI identity needs its PKCS#12 file and its passphrase file together' });
  if (url !== undefined && pkcs12File === undefined) problems.push({ pointer: '/dmp/tlsIdentity', rule: 'CONFIG_DMP_IDENTITY', message: 'the DMP needs the structure\'s ORG AUTH_CLI certificate for mutual TLS', hint: 'Set PASSERELLE_DMP_PKCS12_FILE and PASSERELLE_DMP_PASSPHRASE_FILE.' });
  const oid = (name: 'PASSERELLE_DMP_REPOSITORY_UNIQUE_ID' | 'PASSERELLE_DMP_SOURCE_ID', key: string, fallback: string): string => {
    const value = reader.string(name, ['dmp', key]) ?? fallback;
    if (!OID.test(value)) problems.push({ pointer: `/dmp/${key}`, rule: 'CONFIG_OID', message: 'must be an OID' });
    return value;
  };
  const section = (file.dmp ?? {}) as Obj;
  const trustFile = reader.string('PASSERELLE_DMP_TRUST_FILE', ['dmp', 'trustFile']);
  return {
    ...(url === undefined ? {} : { url: url.replace(/\/+$/, '') }),
    ...(pkcs12File === undefined || passphraseFile === undefined ? {} : { tlsIdentity: { pkcs12File, passphraseFile } }),
    ...(trustFile === undefined ? {} : { trustFile }),
    connectTimeoutMs: reader.integer('PASSERELLE_DMP_CONNECT_TIMEOUT_MS', ['dmp', 'connectTimeoutMs'], DEFAULTS.dmpConnectTimeoutMs, 100, 120_000),
    tlsTimeoutMs: reader.integer('PASSERELLE_DMP_TLS_TIMEOUT_MS', ['dmp', 'tlsTimeoutMs'], DEFAULTS.dmpTlsTimeoutMs, 100, 120_000),
    responseTimeoutMs: reader.integer('PASSERELLE_DMP_RESPONSE_TIMEOUT_MS', ['dmp', 'responseTimeoutMs'], DEFAULTS.dmpResponseTimeoutMs, 100, 600_000),
    maxResponseBytes: DEFAULTS.dmpMaxResponseBytes,
    repositoryUniqueId: oid('PASSERELLE_DMP_REPOSITORY_UNIQUE_ID', 'repositoryUniqueId', DEFAULTS.dmpRepositoryUniqueId),
    sourceId: oid('PASSERELLE_DMP_SOURCE_ID', 'sourceId', DEFAULTS.dmpSourceId),
    contentTypeCode: configuredCode(section.contentTypeCode, '/dmp/contentTypeCode', problems) ?? DEFAULT_CONTENT_TYPE_CODE,
    patientCheck: reader.oneOf('PASSERELLE_DMP_PATIENT_CHECK', ['dmp', 'patientCheck'], ['td0.2', 'skip'] as const, 'td0.2'),
    structureId: reader.string('PASSERELLE_DMP_STRUCTURE_ID', ['dmp', 'structureId']) ?? '1750803447',
    vihf: vihfConfig(section.vihf, problems),
  };
}

/** An address as RFC 5321 allows a mailbox, simply: local part, @, a domain with a dot. */
const MAILBOX = /^[^\s@<>()[\],;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

function mssConfig(reader: Reader, file: Obj, problems: Violation[]): MssConfig {
  const smtpHost = reader.string('PASSERELLE_MSS_SMTP_HOST', ['mss', 'smtp', 'host']);
  const smtpTls = reader.oneOf('PASSERELLE_MSS_SMTP_TLS', ['mss', 'smtp', 'tls'], ['implicit', 'starttls'] as const, 'implicit');
  const smtpPort = reader.integer('PASSERELLE_MSS_SMTP_PORT', ['mss', 'smtp', 'port'], smtpTls === 'implicit' ? 465 : 587, 1, 65535);
  const imapHost = reader.string('PASSERELLE_MSS_IMAP_HOST', ['mss', 'imap', 'host']);
  const imapPort = reader.integer('PASSERELLE_MSS_IMAP_PORT', ['mss', 'imap', 'port'], 993, 1, 65535);
  const from = reader.string('PASSERELLE_MSS_FROM', ['mss', 'from']);
  const pkcs12File = reader.string('PASSERELLE_MSS_PKCS12_FILE', ['mss', 'tlsIdentity', 'pkcs12File']);
  const passphraseFile = reader.string('PASSERELLE_MSS_PASSPHRASE_FILE', ['mss', 'tlsIdentity', 'passphraseFile']);
  const trustFile = reader.string('PASSERELLE_MSS_TRUST_FILE', ['mss', 'trustFile']);
  if (from !== undefined && !MAILBOX.test(from)) problems.push({ pointer: '/mss/from', rule: 'CONFIG_MSS_FROM', message: 'must be the application mailbox\'s address' });
  if ((pkcs12File === undefined) !== (passphraseFile === undefined)) problems.push({ pointer: '/mss/tlsIdentity', rule: 'CONFIG_MSS_IDENTITY', message: 'the application mailbox\'s certificate needs its PKCS#12 file and its passphrase file together' });
  if ((smtpHost !== undefined || imapHost !== undefined) && (pkcs12File === undefined || from === undefined)) {
    problems.push({ pointer: '/mss', rule: 'CONFIG_MSS_MAILBOX', message: 'MSSanté needs the application mailbox: its address (mss.from) and its TLS client certificate (mss.tlsIdentity)', hint: 'Set PASSERELLE_MSS_FROM, PASSERELLE_MSS_PKCS12_FILE and PASSERELLE_MSS_PASSPHRASE_FILE.' });
  }
  const section = (file.mss ?? {}) as Obj;
  const headers: Record<string, string> = {};
  if (section.headers !== undefined) {
    const entries = typeof section.headers === 'object' && section.headers !== null && !Array.isArray(section.headers) ? Object.entries(section.headers) : undefined;
    if (entries === undefined) problems.push({ pointer: '/mss/headers', rule: 'CONFIG_TYPE', message: 'must be an object of X-MSS-* header names to values' });
    for (const [name, value] of entries ?? []) {
      // Header names and values end up in the message: no line breaks, the X-MSS- family only.
      if (/^X-MSS-[A-Za-z0-9-]+$/i.test(name) && typeof value === 'string' && !/[\r\n]/.test(value)) headers[name] = value;
      else problems.push({ pointer: `/mss/headers/${name}`, rule: 'CONFIG_MSS_HEADER', message: 'must be an X-MSS-… header with a one-line string value' });
    }
  }
  return {
    ...(smtpHost === undefined ? {} : { smtp: { host: smtpHost, port: smtpPort, tls: smtpTls } }),
    ...(imapHost === undefined ? {} : { imap: { host: imapHost, port: imapPort } }),
    ...(from === undefined ? {} : { from }),
    ...(pkcs12File === undefined || passphraseFile === undefined ? {} : { tlsIdentity: { pkcs12File, passphraseFile } }),
    ...(trustFile === undefined ? {} : { trustFile }),
    connectTimeoutMs: reader.integer('PASSERELLE_MSS_CONNECT_TIMEOUT_MS', ['mss', 'connectTimeoutMs'], DEFAULTS.mssConnectTimeoutMs, 100, 120_000),
    responseTimeoutMs: reader.integer('PASSERELLE_MSS_RESPONSE_TIMEOUT_MS', ['mss', 'responseTimeoutMs'], DEFAULTS.mssResponseTimeoutMs, 100, 600_000),
    attachPdf: reader.boolean('PASSERELLE_MSS_ATTACH_PDF', ['mss', 'attachPdf'], true),
    requestAcknowledgement: reader.boolean('PASSERELLE_MSS_REQUEST_ACKNOWLEDGEMENT', ['mss', 'requestAcknowledgement'], true),
    headers,
  };
}

function pipelineConfig(reader: Reader, problems: Violation[]): PipelineConfig {
  const leaseMs = reader.integer('PASSERELLE_WORKER_LEASE_MS', ['pipeline', 'leaseMs'], DEFAULTS.workerLeaseMs, 1_000, 3_600_000);
  const retry = {
    baseMs: reader.integer('PASSERELLE_RETRY_BASE_MS', ['pipeline', 'retry', 'baseMs'], DEFAULTS.retryBaseMs, 10, 3_600_000),
    maxDelayMs: reader.integer('PASSERELLE_RETRY_MAX_DELAY_MS', ['pipeline', 'retry', 'maxDelayMs'], DEFAULTS.retryMaxDelayMs, 10, 86_400_000),
    maxAttempts: reader.integer('PASSERELLE_RETRY_MAX_ATTEMPTS', ['pipeline', 'retry', 'maxAttempts'], DEFAULTS.retryMaxAttempts, 1, 1_000),
    maxAgeMs: 1000 * reader.integer('PASSERELLE_RETRY_MAX_AGE_SECONDS', ['pipeline', 'retry', 'maxAgeSeconds'], DEFAULTS.retryMaxAgeSeconds, 1, 30 * 86_400),
  };
  if (retry.maxDelayMs < retry.baseMs) problems.push({ pointer: '/pipeline/retry/maxDelayMs', rule: 'CONFIG_RETRY_DELAYS', message: 'the longest delay between attempts cannot be shorter than the first one' });
  return {
    concurrency: reader.integer('PASSERELLE_WORKER_CONCURRENCY', ['pipeline', 'concurrency'], DEFAULTS.workerConcurrency, 1, 256),
    pollMs: reader.integer('PASSERELLE_WORKER_POLL_MS', ['pipeline', 'pollMs'], DEFAULTS.workerPollMs, 10, 60_000),
    leaseMs,
    retry,
    breaker: {
      failureThreshold: reader.integer('PASSERELLE_BREAKER_THRESHOLD', ['pipeline', 'breaker', 'failureThreshold'], DEFAULTS.breakerThreshold, 1, 1_000),
      cooldownMs: reader.integer('PASSERELLE_BREAKER_COOLDOWN_MS', ['pipeline', 'breaker', 'cooldownMs'], DEFAULTS.breakerCooldownMs, 10, 3_600_000),
    },
    acknowledgementPollMs: reader.integer('PASSERELLE_ACK_POLL_MS', ['pipeline', 'acknowledgementPollMs'], DEFAULTS.acknowledgementPollMs, 100, 3_600_000),
  };
}

function webhooksConfig(value: unknown, problems: Violation[]): WebhookConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ pointer: '/webhooks', rule: 'CONFIG_TYPE', message: 'must be an array of { tenantId, url, secretFile }' });
    return [];
  }
  const webhooks: WebhookConfig[] = [];
  const tenants = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const at = `/webhooks/${String(i)}`;
    const o = (typeof entry === 'object' && entry !== null ? entry : {}) as Obj;
    const { tenantId, url, secretFile } = o;
    const before = problems.length;
    if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) problems.push({ pointer: `${at}/tenantId`, rule: 'CONFIG_WEBHOOK_TENANT', message: 'must be a tenant id' });
    else if (tenants.has(tenantId)) problems.push({ pointer: `${at}/tenantId`, rule: 'CONFIG_WEBHOOK_TENANT', message: 'a tenant has one webhook' });
    // Plain HTTP would hand the signature and the statuses to anyone on the path: loopback only.
    if (typeof url !== 'string' || !/^(https:\/\/[^\s/]+|http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?)(\/\S*)?$/.test(url)) problems.push({ pointer: `${at}/url`, rule: 'CONFIG_WEBHOOK_URL', message: 'must be an https:// URL (http:// only on loopback)' });
    if (typeof secretFile !== 'string' || secretFile === '') problems.push({ pointer: `${at}/secretFile`, rule: 'CONFIG_WEBHOOK_SECRET', message: 'must name the file holding the HMAC secret' });
    if (problems.length > before) return;
    tenants.add(tenantId as string);
    webhooks.push({ tenantId: tenantId as string, url: url as string, secretFile: secretFile as string });
  });
  return webhooks;
}

function configuredCode(value: unknown, pointer: string, problems: Violation[]): ConfiguredCode | undefined {
  if (value === undefined) return undefined;
  const o = (typeof value === 'object' && value !== null ? value : {}) as Obj;
  if (typeof o.code === 'string' && o.code !== '' && typeof o.codeSystem === 'string' && OID.test(o.codeSystem) && typeof o.displayName === 'string') {
    return { code: o.code, codeSystem: o.codeSystem, displayName: o.displayName };
  }
  problems.push({ pointer, rule: 'CONFIG_CODE', message: 'must be {code, codeSystem (an OID), displayName}' });
  return undefined;
}

/** dmp.vihf in the file: each field replaces the development default. */
function vihfConfig(value: unknown, problems: Violation[]): VihfConfig {
  if (value === undefined) return DEFAULT_VIHF;
  if (typeof value !== 'object' || value === null) {
    problems.push({ pointer: '/dmp/vihf', rule: 'CONFIG_TYPE', message: 'must be an object' });
    return DEFAULT_VIHF;
  }
  const o = value as Obj;
  const text = (key: 'version' | 'nameId' | 'subjectId' | 'sector' | 'authnContext'): string => {
    const v = o[key];
    if (v === undefined) return DEFAULT_VIHF[key];
    if (typeof v === 'string' && v !== '') return v;
    problems.push({ pointer: `/dmp/vihf/${key}`, rule: 'CONFIG_TYPE', message: 'must be a non-empty string' });
    return DEFAULT_VIHF[key];
  };
  const modes = ['DIRECTE', 'INDIRECTE', 'INDIRECTE_RENFORCEE'] as const;
  const mode = o.authenticationMode ?? DEFAULT_VIHF.authenticationMode;
  if (!(modes as readonly unknown[]).includes(mode)) problems.push({ pointer: '/dmp/vihf/authenticationMode', rule: 'CONFIG_ENUM', message: `must be one of: ${modes.join(', ')}` });
  const roles = o.roles === undefined ? DEFAULT_VIHF.roles : Array.isArray(o.roles) && o.roles.length > 0
    ? o.roles.map((r: unknown, i) => configuredCode(r, `/dmp/vihf/roles/${i}`, problems) ?? AUTOMATE_ROLE)
    : (problems.push({ pointer: '/dmp/vihf/roles', rule: 'CONFIG_TYPE', message: 'must be a non-empty array of codes' }), DEFAULT_VIHF.roles);
  const lps = (typeof o.lps === 'object' && o.lps !== null ? o.lps : {}) as Obj;
  const lpsText = (key: 'id' | 'name' | 'version' | 'homologationId'): string | undefined => {
    const v = lps[key];
    if (v === undefined) return DEFAULT_VIHF.lps[key];
    if (typeof v === 'string' && v !== '') return v;
    problems.push({ pointer: `/dmp/vihf/lps/${key}`, rule: 'CONFIG_TYPE', message: 'must be a non-empty string' });
    return DEFAULT_VIHF.lps[key];
  };
  const lpsId = lpsText('id');
  const lpsVersion = lpsText('version');
  return {
    version: text('version'),
    nameId: text('nameId'),
    subjectId: text('subjectId'),
    roles,
    purposeOfUse: configuredCode(o.purposeOfUse, '/dmp/vihf/purposeOfUse', problems) ?? DEFAULT_VIHF.purposeOfUse,
    sector: text('sector'),
    authenticationMode: (modes as readonly unknown[]).includes(mode) ? mode as VihfConfig['authenticationMode'] : DEFAULT_VIHF.authenticationMode,
    authnContext: text('authnContext'),
    lps: { name: lpsText('name') ?? DEFAULT_VIHF.lps.name, homologationId: lpsText('homologationId') ?? DEFAULT_VIHF.lps.homologationId, ...(lpsId === undefined ? {} : { id: lpsId }), ...(lpsVersion === undefined ? {} : { version: lpsVersion }) },
  };
}

/** The configuration fit to print: passwords in URLs and the signing passphrase hidden. */
export function redactConfig(config: Config): unknown {
  const identity = config.signing.identity;
  return {
    ...config,
    store: { ...config.store, url: redactUrl(config.store.url) },
    intake: { ...config.intake, ngapActCodes: config.intake.ngapActCodes.map((c) => c.code) },
    signing: { ...config.signing, ...(identity === undefined ? {} : { identity: 'passphrase' in identity ? { ...identity, passphrase: '***' } : identity }) },
  };
}

function readConfigFile(path: string | undefined, problems: Violation[]): Obj {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push({ pointer: '', rule: 'CONFIG_FILE_UNREADABLE', message: `cannot read the configuration file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, hint: 'Check PASSERELLE_CONFIG / --config.' });
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Obj;
    problems.push({ pointer: '', rule: 'CONFIG_FILE_NOT_OBJECT', message: `${path} must hold a JSON object` });
  } catch (error) {
    problems.push({ pointer: '', rule: 'CONFIG_FILE_NOT_JSON', message: `${path} is not valid JSON: ${(error as Error).message}` });
  }
  return {};
}

/** Reads one setting from the environment, else from the file, recording every problem. */
class Reader {
  constructor(private readonly env: Source, private readonly file: Obj, private readonly problems: Violation[]) {}

  private raw(name: keyof typeof ENVIRONMENT, path: readonly string[]): { value: unknown; where: string } | undefined {
    const fromEnv = this.env[name];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, where: name };
    let node: unknown = this.file;
    for (const key of path) node = typeof node === 'object' && node !== null ? (node as Obj)[key] : undefined;
    return node === undefined ? undefined : { value: node, where: `file:/${path.join('/')}` };
  }

  string(name: keyof typeof ENVIRONMENT, path: readonly string[]): string | undefined {
    const r = this.raw(name, path);
    if (r === undefined) return undefined;
    if (typeof r.value === 'string') return r.value;
    this.problems.push({ pointer: `/${path.join('/')}`, rule: 'CONFIG_TYPE', message: `${r.where} must be a string` });
    return undefined;
  }

  integer(name: keyof typeof ENVIRONMENT, path: readonly string[], fallback: number, min: number, max: number): number {
    const r = this.raw(name, path);
    if (r === undefined) return fallback;
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'string' && /^\d+$/.test(r.value) ? Number(r.value) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    this.problems.push({ pointer: `/${path.join('/')}`, rule: 'CONFIG_RANGE', message: `${r.where} must be an integer between ${min} and ${max}` });
    return fallback;
  }

  /** `true` or `false`, as JSON booleans in the file or as text in the environment. */
  boolean(name: keyof typeof ENVIRONMENT, path: readonly string[], fallback: boolean): boolean {
    const r = this.raw(name, path);
    if (r === undefined) return fallback;
    if (r.value === true || r.value === 'true') return true;
    if (r.value === false || r.value === 'false') return false;
    this.problems.push({ pointer: `/${path.join('/')}`, rule: 'CONFIG_TYPE', message: `${r.where} must be true or false` });
    return fallback;
  }

  /** Tenant ids: comma-separated in the environment, an array of strings in the file. */
  tenants(name: keyof typeof ENVIRONMENT, path: readonly string[]): string[] {
    const r = this.raw(name, path);
    if (r === undefined) return [];
    const list = typeof r.value === 'string' ? r.value.split(',').map((t) => t.trim()) : r.value;
    if (Array.isArray(list) && list.every((t): t is string => typeof t === 'string' && TENANT_ID.test(t))) return list;
    this.problems.push({ pointer: `/${path.join('/')}`, rule: 'CONFIG_TYPE', message: `${r.where} must list tenant ids (lower-case letters, digits and dashes)` });
    return [];
  }

  oneOf<T extends string>(name: keyof typeof ENVIRONMENT, path: readonly string[], allowed: readonly T[], fallback: T): T {
    const r = this.raw(name, path);
    if (r === undefined) return fallback;
    if (typeof r.value === 'string' && (allowed as readonly string[]).includes(r.value)) return r.value as T;
    this.problems.push({ pointer: `/${path.join('/')}`, rule: 'CONFIG_ENUM', message: `${r.where} must be one of: ${allowed.join(', ')}` });
    return fallback;
  }
}

function clientCertificates(file: Obj, problems: Violation[]): ClientCertificateBinding[] {
  const list = (file.http as Obj | undefined)?.clientCertificates;
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    problems.push({ pointer: '/http/clientCertificates', rule: 'CONFIG_TYPE', message: 'must be an array of {fingerprint256, tenantId, role}' });
    return [];
  }
  const out: ClientCertificateBinding[] = [];
  list.forEach((item: unknown, i) => {
    const o = (typeof item === 'object' && item !== null ? item : {}) as Obj;
    const fp = typeof o.fingerprint256 === 'string' ? o.fingerprint256.replace(/:/g, '').toUpperCase() : '';
    if (!/^[0-9A-F]{64}$/.test(fp) || typeof o.tenantId !== 'string' || o.tenantId === '' || typeof o.role !== 'string' || !isRole(o.role)) {
      problems.push({ pointer: `/http/clientCertificates/${i}`, rule: 'CONFIG_CLIENT_CERTIFICATE', message: 'needs fingerprint256 (64 hex digits), tenantId and role (submitter, support, admin)' });
      return;
    }
    out.push({ fingerprint256: fp, tenantId: o.tenantId, role: o.role });
  });
  return out;
}

function ngapActCodes(file: Obj, problems: Violation[]): readonly NgapActCode[] {
  const list = (file.intake as Obj | undefined)?.ngapActCodes;
  if (list === undefined) return DEFAULT_NGAP_ACT_CODES;
  const valid = Array.isArray(list) && list.length > 0 && list.every((c: unknown) => {
    const o = (typeof c === 'object' && c !== null ? c : {}) as Obj;
    return typeof o.code === 'string' && /^[A-Z0-9]{1,8}$/.test(o.code) && typeof o.label === 'string' &&
      Array.isArray(o.actTypes) && o.actTypes.every((t) => (ACT_TYPES as readonly unknown[]).includes(t)) &&
      (o.teleExpertiseLevel === undefined || o.teleExpertiseLevel === 1 || o.teleExpertiseLevel === 2);
  });
  if (!valid) {
    problems.push({ pointer: '/intake/ngapActCodes', rule: 'CONFIG_NGAP', message: 'must be a non-empty array of {code, label, actTypes[, teleExpertiseLevel]}', hint: `actTypes among ${ACT_TYPES.join(', ')}.` });
    return DEFAULT_NGAP_ACT_CODES;
  }
  return list as NgapActCode[];
}
