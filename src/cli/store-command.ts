/**
 * What the operator commands (submissions, audit, pipeline) share: `--config`/`--store` to find
 * the store, the store opened and closed around the work, and who acts (`cli:<user>`, recorded
 * on the events and pauses they write).
 */
import { userInfo } from 'node:os';
import { loadConfig } from '../config/config.js';
import { PasserelleError } from '../domain/errors.js';
import { openConfiguredStore } from '../gateway.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './io.js';

export const STORE_OPTIONS = { config: { type: 'string' }, store: { type: 'string' } } as const;

export async function withStore<T>(io: CliIo, values: { readonly config?: string | undefined; readonly store?: string | undefined }, work: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env, { overrides: { ...(values.config === undefined ? {} : { configFile: values.config }), ...(values.store === undefined ? {} : { storeUrl: values.store }) } });
  const store = await openConfiguredStore(config);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

/** A positive integer option within bounds (fallback when absent); a problem is noted otherwise. */
export function integerOption(name: string, text: string | undefined, fallback: number, max: number, problems: string[]): number {
  if (text === undefined) return fallback;
  const value = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (value >= 1 && value <= max) return value;
  problems.push(`--${name} must be an integer from 1 to ${max}`);
  return fallback;
}

/** An RFC 3339 date-time option; a problem is noted when it is not one. */
export function instantOption(name: string, text: string | undefined, problems: string[]): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(date.getTime())) return date;
  problems.push(`--${name} must be an RFC 3339 date-time (e.g. 2026-11-20T00:00:00Z)`);
  return undefined;
}

/** Every problem of the command line at once, as one usage error. */
export function usageIfAny(problems: readonly string[]): void {
  if (problems.length > 0) throw new PasserelleError('usage', problems.join('; '));
}
