/**
 * Transport failures of a partner call (DMP, MSSanté), classified once, here: `retryable` (the
 * network, the partner busy or down: the pipeline tries again later) or permanent (our
 * configuration, our certificate, or a reply we cannot read: the same call would fail again).
 *
 * Node errors are classified by their `code` only, never by their message, which changes between
 * Node and OpenSSL versions. The TLS codes are those Node 20 / OpenSSL 3 were seen to produce over
 * loopback (test/transports/mtls.test.ts):
 * - our certificate refused by a server that says why with an alert (OpenSSL-based servers:
 *   Apache httpd, nginx, s_server): TLS 1.3 gives ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED,
 *   ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED; TLS 1.2 gives
 *   `write EPROTO` for all of them. Permanent.
 * - refused by a Node server: it sends no alert for a certificate that does not verify (it checks
 *   after the handshake and closes), so the client sees ECONNRESET, which is what a network
 *   reset looks like: retryable, and the pipeline's bounded retries end it. Only "no certificate"
 *   gets an alert from a Node server.
 * - the server's certificate refused by us: SELF_SIGNED_CERT_IN_CHAIN (unknown CA, chain sent),
 *   UNABLE_TO_VERIFY_LEAF_SIGNATURE (unknown CA, leaf alone), CERT_HAS_EXPIRED,
 *   ERR_TLS_CERT_ALTNAME_INVALID (host name). Permanent.
 */
import { PasserelleError } from '../../domain/errors.js';
import type { SoapFault } from './envelope.js';

export type TransportFailureKind =
  | 'dns'
  | 'connect-refused'
  | 'connect-timeout'
  | 'tls-handshake'
  | 'tls-certificate'
  | 'reset'
  | 'response-timeout'
  | 'http-status'
  | 'response-too-large'
  | 'malformed-response'
  /** The partner answered with a SOAP Fault. */
  | 'soap-fault'
  /** An SMTP command refused with a 4xx or 5xx reply (the reply code says which). */
  | 'smtp-reply'
  /** Any other socket error: nothing says it is lasting. */
  | 'network';

/** Where in the call the error happened; it only refines the kind of a reset. */
export type CallPhase = 'connect' | 'tls' | 'response';

export class TransportError extends PasserelleError {
  override readonly name = 'TransportError';
  readonly kind: TransportFailureKind;
  readonly retryable: boolean;
  readonly httpStatus?: number;
  /** The Node or OpenSSL code the failure was classified by, e.g. `ECONNREFUSED`. */
  readonly causeCode?: string;

  constructor(kind: TransportFailureKind, retryable: boolean, detail: string, options: { httpStatus?: number; causeCode?: string; cause?: unknown } = {}) {
    super(retryable ? 'partner-unavailable' : 'partner-rejected', detail, options.cause === undefined ? {} : { cause: options.cause });
    this.kind = kind;
    this.retryable = retryable;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    if (options.causeCode !== undefined) this.causeCode = options.causeCode;
  }
}

/** A reply (or, at the sandbox, a request) that breaks SOAP, MTOM or HTTP: sending it again changes nothing. */
export const malformedMessage = (detail: string, cause?: unknown): TransportError =>
  new TransportError('malformed-response', false, detail, cause === undefined ? {} : { cause });

/** A message over a configured limit (bytes, parts). */
export const messageTooLarge = (detail: string): TransportError => new TransportError('response-too-large', false, detail);

/**
 * For an HTTP status that is not a success: 5xx (the partner is down or failing), 408 (it timed
 * out waiting for us) and 429 (it is busy) may pass later; any other 4xx, or a redirection (never
 * followed: the configured URL is wrong), will not.
 */
export function classifyHttpStatus(status: number): 'retryable' | 'permanent' {
  return status >= 500 || status === 408 || status === 429 ? 'retryable' : 'permanent';
}

/** The error for a reply whose status is not a success and whose body says nothing more (no SOAP fault). */
export function httpStatusError(status: number, contentType?: string): TransportError {
  const retryable = classifyHttpStatus(status) === 'retryable';
  return new TransportError('http-status', retryable, `the partner answered HTTP ${String(status)}${contentType === undefined ? '' : ` (${contentType})`}`, { httpStatus: status });
}

/**
 * A SOAP fault: Receiver (SOAP 1.1: Server) says the partner failed, not our message, so it may
 * pass later; Sender (Client), MustUnderstand, VersionMismatch and DataEncodingUnknown blame the
 * message (a WS-Security subcode such as InvalidSecurity or FailedAuthentication: the VIHF), so
 * they are permanent. The DMP answers faults with HTTP 500 (french-specs §3.6), so the status
 * does not decide.
 */
/** Of a fault's reason kept in the error: enough to tell faults apart, not a partner's whole dump. */
const MAX_REASON_CHARS = 300;

export function soapFaultError(fault: SoapFault, httpStatus: number): TransportError {
  const retryable = fault.code === 'Receiver' || fault.code === 'Server';
  const code = [fault.code, ...fault.subcodes].join('/');
  return new TransportError('soap-fault', retryable, `the partner answered a SOAP fault ${code}: ${fault.reason.slice(0, MAX_REASON_CHARS)}`, { httpStatus, causeCode: code });
}

/**
 * DNS: a name that does not exist (ENOTFOUND, getaddrinfo's EAI_NONAME/EAI_NODATA) is a wrong
 * URL in the configuration, so permanent: retrying for hours would only hide the typo. EAI_AGAIN
 * is the resolver saying "temporary failure, try again", so retryable.
 */
const DNS_PERMANENT = new Set(['ENOTFOUND', 'EAI_FAIL']);
const DNS_RETRYABLE = new Set(['EAI_AGAIN']);
/** Nobody listens, or no route there for now: the partner or the network is down. */
const CONNECT_FAILED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL']);
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * The server's certificate does not verify against our trust store, or does not name the host
 * (OpenSSL's X509_V_ERR_* as Node names them, and Node's own hostname check).
 */
const SERVER_CERTIFICATE_REFUSED = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** TLS alerts by which the server refuses our certificate (RFC 8446 §6.2), as OpenSSL names them. */
const CLIENT_CERTIFICATE_REFUSED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
]);

/**
 * A handshake refused rather than interrupted: no common protocol version or cipher, TLS spoken
 * to a port that does not speak it, or (TLS 1.2) a server that requires a client certificate and
 * got none (`handshake_failure`). Configuration, so permanent.
 *
 * EPROTO: in TLS 1.2 the alert the server sends back arrives on Node's write path, which keeps
 * only the errno: every refusal of our certificate (unknown_ca, certificate_expired,
 * handshake_failure…) and a plain-HTTP port all surface as `write EPROTO`, seen over loopback
 * against openssl s_server. No interruption produces it (those are ECONNRESET), so it is permanent.
 */
const TLS_NEGOTIATION_FAILED = new Set([
  'EPROTO',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_SHARED_CIPHER',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** Classifies an error of the socket or the HTTP exchange; a TransportError is returned as it is. */
export function classifySocketError(error: unknown, phase: CallPhase): TransportError {
  if (error instanceof TransportError) return error;
  const code = codeOf(error) ?? 'no code';
  const fail = (kind: TransportFailureKind, retryable: boolean, what: string): TransportError =>
    new TransportError(kind, retryable, `${what} (${code})`, { causeCode: code, cause: error });

  if (DNS_PERMANENT.has(code)) return fail('dns', false, 'the partner\'s host name does not resolve: check the configured URL');
  if (DNS_RETRYABLE.has(code)) return fail('dns', true, 'the DNS resolver failed for now');
  if (CONNECT_FAILED.has(code)) return fail('connect-refused', true, 'the partner cannot be reached');
  if (code === 'ETIMEDOUT') return fail(phase === 'connect' ? 'connect-timeout' : 'response-timeout', true, 'the network timed out');
  if (SERVER_CERTIFICATE_REFUSED.has(code)) return fail('tls-certificate', false, 'the partner\'s TLS certificate does not verify against the configured trust store or host name');
  if (CLIENT_CERTIFICATE_REFUSED.has(code)) return fail('tls-certificate', false, 'the partner refused our TLS client certificate (ORG AUTH_CLI): check it is the right one, from the right CA and valid');
  if (TLS_NEGOTIATION_FAILED.has(code)) return fail('tls-handshake', false, 'the partner refused the TLS handshake: our client certificate (ORG AUTH_CLI), the protocol or the port is wrong');
  if (RESETS.has(code)) return fail(phase === 'tls' ? 'tls-handshake' : 'reset', true, phase === 'tls' ? 'the connection closed during the TLS handshake' : 'the connection was closed before the reply was complete');
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return fail('tls-handshake', true, 'the TLS session was interrupted');
  // llhttp's codes: the partner's bytes are not HTTP.
  if (code.startsWith('HPE_')) return fail('malformed-response', false, 'the partner\'s reply is not valid HTTP');
  return fail('network', true, 'the connection to the partner failed');
}
