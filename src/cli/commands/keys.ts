/** `passerelle keys create|list|revoke`: API key management, straight against the store. */
import { parseArgs } from 'node:util';
import { createApiKey } from '../../auth/api-keys.js';
import { loadConfig } from '../../config/config.js';
import { PasserelleError, notFound } from '../../domain/errors.js';
import { isRole, ROLES, type Role } from '../../domain/submission.js';
import { TENANT_ID } from '../../domain/ids.js';
import { openConfiguredStore } from '../../gateway.js';
import type { CliIo } from '../io.js';

export async function runKeys(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string' }, role: { type: 'string' }, label: { type: 'string' }, config: { type: 'string' }, store: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig(io.env, { overrides: { ...(values.config === undefined ? {} : { configFile: values.config }), ...(values.store === undefined ? {} : { storeUrl: values.store }) } });
  if (action !== 'create' && action !== 'list' && action !== 'revoke') {
    throw new PasserelleError('usage', 'keys needs an action: create, list or revoke');
  }
  // The key to create, once every option is checked (all problems reported together).
  let create: { tenantId: string; role: Role } | undefined;
  if (action === 'create') {
    const tenantId = values.tenant !== undefined && TENANT_ID.test(values.tenant) ? values.tenant : undefined;
    const role = values.role !== undefined && isRole(values.role) ? values.role : undefined;
    if (tenantId === undefined || role === undefined) {
      const problems: string[] = [];
      if (tenantId === undefined) problems.push('--tenant is required: lower-case letters, digits and dashes');
      if (role === undefined) problems.push(`--role is required: one of ${ROLES.join(', ')}`);
      throw new PasserelleError('usage', problems.join('; '));
    }
    create = { tenantId, role };
  }
  if (action === 'revoke' && positionals.length !== 1) throw new PasserelleError('usage', 'keys revoke takes one key id');

  const store = await openConfiguredStore(config);
  try {
    if (create !== undefined) {
      const { record, token } = await createApiKey(store, { ...create, label: values.label ?? '' });
      io.stderr(`Created key ${record.id} for tenant ${record.tenantId} (${record.role}). The key is shown once:\n`);
      io.stdout(`${token}\n`);
    } else if (action === 'list') {
      const keys = await store.listApiKeys();
      io.stdout(`${['ID', 'TENANT', 'ROLE', 'CREATED', 'REVOKED', 'LABEL'].join('\t')}\n`);
      for (const k of keys) io.stdout(`${[k.id, k.tenantId, k.role, k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? '-', k.label].join('\t')}\n`);
    } else {
      const id = positionals[0] ?? '';
      if (!(await store.revokeApiKey(id, new Date()))) throw notFound(`no active key ${id}`);
      io.stdout(`Revoked ${id}\n`);
    }
  } finally {
    await store.close();
  }
  return 0;
}
