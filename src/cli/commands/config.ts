/** `passerelle config check`: parse and validate the configuration, print it with secrets hidden. */
import { parseArgs } from 'node:util';
import { loadConfig, redactUrl } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import type { CliIo } from '../io.js';

export async function runConfig(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'check') throw new PasserelleError('usage', 'config takes one action: check');
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } }, strict: true });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const shown = { ...config, store: { ...config.store, url: redactUrl(config.store.url) }, intake: { ...config.intake, ngapActCodes: config.intake.ngapActCodes.map((c) => c.code) } };
  io.stdout(`${JSON.stringify(shown, null, 2)}\nconfiguration OK\n`);
  return Promise.resolve(0);
}
