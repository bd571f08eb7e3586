/**
 * Authentication (API key, or a TLS client certificate bound to a tenant in configuration) and
 * role checks. A request without valid credentials never reaches a handler or the body parser.
 */
import { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import { authenticateApiKey, type Principal } from '../auth/api-keys.js';
import type { ClientCertificateBinding } from '../config/config.js';
import { PasserelleError, forbidden } from '../domain/errors.js';
import type { Role } from '../domain/submission.js';
import type { Store } from '../store/store.js';

export function authenticate(store: Store, certificateBindings: readonly ClientCertificateBinding[]): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer !== undefined) {
      authenticateApiKey(store, bearer).then((principal) => {
        if (principal === undefined) throw new PasserelleError('unauthenticated', 'the API key is unknown, malformed or revoked');
        res.locals.principal = principal;
        next();
      }).catch(next);
      return;
    }
    const principal = req.socket instanceof TLSSocket ? fromClientCertificate(req.socket, certificateBindings) : undefined;
    if (principal !== undefined) {
      res.locals.principal = principal;
      next();
      return;
    }
    next(new PasserelleError('unauthenticated', header === undefined ? 'send an API key as "Authorization: Bearer <key>"' : 'the Authorization header must be "Bearer <key>"'));
  };
}

function fromClientCertificate(socket: TLSSocket, bindings: readonly ClientCertificateBinding[]): Principal | undefined {
  // Only a certificate the TLS layer verified against our CA counts (optional client auth lets
  // unverified ones through the handshake; they are ignored here).
  if (bindings.length === 0 || !socket.authorized) return undefined;
  const fingerprint = socket.getPeerCertificate().fingerprint256.replace(/:/g, '').toUpperCase();
  const binding = bindings.find((b) => b.fingerprint256 === fingerprint);
  return binding === undefined ? undefined : { tenantId: binding.tenantId, role: binding.role, actor: `cert:${fingerprint.slice(0, 16)}` };
}

export function requireRole(...roles: readonly Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = res.locals.principal as Principal | undefined;
    if (principal === undefined) {
      next(new PasserelleError('unauthenticated', 'authentication is required'));
    } else if (!roles.includes(principal.role)) {
      next(forbidden(`a ${principal.role} key may not do this; it needs one of: ${roles.join(', ')}`));
    } else {
      next();
    }
  };
}
