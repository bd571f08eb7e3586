/**
 * One SOAP POST over mutual TLS: the structure's ORG AUTH_CLI certificate on our side, the
 * partner's certificate verified against the configured trust store only (french-specs §3.6).
 * No retries here: a failure is classified once (transport-error.ts) and the pipeline decides.
 *
 * Three time-outs, each for one phase, so that an operator can tell which one fired: connect (DNS
 * lookup and TCP), TLS handshake, and the exchange itself (from the moment the connection is ready until the last
 * byte of the reply is read, so a partner trickling its reply cannot hold the call for ever).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { PasserelleError } from '../../domain/errors.js';
import { pemOfIdentity, type SigningIdentity } from '../../signing/identity.js';
import { formatMediaType, parseMediaType } from './media-type.js';
import { TransportError, classifySocketError, messageTooLarge, malformedMessage, type CallPhase } from './transport-error.js';

export interface TlsClientOptions {
  readonly key: string | Buffer;
  /** PEM: our certificate first, then the intermediate CAs, so that the server can build the chain. */
  readonly cert: string | Buffer;
  /** PEM bundle of the CAs the partner's certificate must chain to; it replaces Node's default roots. */
  readonly ca: string | Buffer;
  /** SNI and name to check, when it differs from the URL's host. */
  readonly servername?: string;
}

export interface Timeouts {
  readonly connectMs: number;
  readonly tlsMs: number;
  /** From the connection ready (or reused) until the whole reply is read. */
  readonly responseMs: number;
}

/** Lowest protocol accepted: TLS 1.2, as the DMP requires (french-specs §3.6, DRIMbox). */
const MIN_TLS_VERSION = 'TLSv1.2';
/** Concurrent connections to one partner by default: a burst of filings queues instead of opening hundreds. */
const DEFAULT_MAX_SOCKETS = 16;

/** The PEM bundle of a partner's CAs, read once at configuration; an unreadable file is config-invalid. */
export function readTrustPem(file: string, partner: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new PasserelleError('config-invalid', `cannot read the ${partner} trust store ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The TLS material of an identity loaded by loadSigningIdentity (PKCS#12 or PEM files). */
export function tlsClientOptions(identity: SigningIdentity, trustPem: string): TlsClientOptions {
  const { certificatePem, keyPem } = pemOfIdentity(identity);
  return { key: keyPem, cert: certificatePem, ca: trustPem };
}

/**
 * The Node TLS options of a partner connection, whatever the protocol (HTTPS, SMTP, IMAP): our
 * certificate and key, the partner's verified against the configured CAs only, TLS 1.2 at least.
 */
export function verifiedTlsOptions(tls: TlsClientOptions): { key: string | Buffer; cert: string | Buffer; ca: string | Buffer; minVersion: typeof MIN_TLS_VERSION; rejectUnauthorized: true; servername?: string } {
  return { key: tls.key, cert: tls.cert, ca: tls.ca, minVersion: MIN_TLS_VERSION, rejectUnauthorized: true, ...(tls.servername === undefined ? {} : { servername: tls.servername }) };
}

/** A keep-alive agent for one partner; it never accepts an unverified server certificate. */
export function createMtlsAgent(tls: TlsClientOptions, options: { maxSockets?: number } = {}): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
    ...verifiedTlsOptions(tls),
  });
}

export interface SoapPost {
  readonly url: string;
  readonly agent: Agent;
  /** `application/soap+xml; charset=UTF-8`, or the multipart/related type buildMtom returned. */
  readonly contentType: string;
  /** The SOAP action, set as the content type's `action` parameter when it has none (RFC 3902). */
  readonly action: string;
  readonly body: Buffer;
  readonly timeouts: Timeouts;
  readonly maxResponseBytes: number;
}

export interface SoapReply {
  readonly status: number;
  readonly contentType?: string;
  readonly body: Buffer;
}

/** The content type with `action="…"` added, as SOAP 1.2 over HTTP carries the action (no SOAPAction header). */
function withAction(contentType: string, action: string): string {
  const parsed = parseMediaType(contentType);
  if (parsed.parameters.has('action')) return contentType;
  return formatMediaType(parsed.essence, [...parsed.parameters, ['action', action]]);
}

/**
 * POSTs `body` and reads the whole reply, whatever its status: the DMP answers SOAP faults with
 * HTTP 500, so the caller reads the body before it looks at the status (httpStatusError).
 * Rejects with a TransportError, or a config-invalid PasserelleError for a URL that is not https.
 */
export function postSoap(o: SoapPost): Promise<SoapReply> {
  const url = new URL(o.url);
  if (url.protocol !== 'https:') return Promise.reject(new PasserelleError('config-invalid', `the partner URL ${url.origin} is not https: partners are only called over mutual TLS`));
  return new Promise<SoapReply>((resolve, reject) => {
    let phase: CallPhase = 'connect';
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const arm = (ms: number, fire: () => TransportError): void => {
      clearTimeout(timer);
      timer = setTimeout(() => { req.destroy(fire()); }, ms);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(classifySocketError(error, phase));
    };
    const startExchange = (): void => {
      phase = 'response';
      arm(o.timeouts.responseMs, () => new TransportError('response-timeout', true, `no complete reply within ${String(o.timeouts.responseMs)} ms`));
    };

    const req = request(url, {
      method: 'POST',
      agent: o.agent,
      // Also here: request options override the agent's, and this must never be false.
      rejectUnauthorized: true,
      headers: { 'content-type': withAction(o.contentType, o.action), 'content-length': String(o.body.length) },
    });
    req.on('socket', (socket) => {
      // A kept-alive socket is connected and its session established already.
      if (req.reusedSocket) {
        startExchange();
        return;
      }
      arm(o.timeouts.connectMs, () => new TransportError('connect-timeout', true, `no TCP connection within ${String(o.timeouts.connectMs)} ms`));
      socket.once('connect', () => {
        phase = 'tls';
        arm(o.timeouts.tlsMs, () => new TransportError('tls-handshake', true, `no TLS session within ${String(o.timeouts.tlsMs)} ms`));
      });
      // A TLSSocket's: the handshake is done and the server's certificate verified.
      socket.once('secureConnect', startExchange);
    });
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > o.maxResponseBytes) {
        req.destroy(messageTooLarge(`the reply declares ${String(declared)} bytes, over the limit of ${String(o.maxResponseBytes)}`));
        return;
      }
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        req.destroy(malformedMessage(`the reply is ${encoding}-encoded; Passerelle asks for none and reads none`));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > o.maxResponseBytes) {
          req.destroy(messageTooLarge(`the reply is over the limit of ${String(o.maxResponseBytes)} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        // 'end' after an abort would hand over a partial body: only a complete message counts.
        if (!res.complete) {
          fail(Object.assign(new Error('the reply ended before its declared length'), { code: 'ECONNRESET' }));
          return;
        }
        settled = true;
        clearTimeout(timer);
        const contentType = res.headers['content-type'];
        resolve({ status: res.statusCode ?? 0, ...(contentType === undefined ? {} : { contentType }), body: Buffer.concat(chunks) });
      });
    });
    req.end(o.body);
  });
}
