/** `passerelle config check`: parse and validate the configuration, print it with secrets hidden. */
import { parseArgs } from 'node:util';
import { loadConfig, redactConfig } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import type { CliIo } from '../io.js';

export async function runConfig(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'check') throw new PasserelleError('usage', 'config takes one action: check');
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } }, strict: true });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  io.stdout(`${JSON.stringify(redactConfig(config), null, 2)}\nconfiguration OK\n`);
  return Promise.resolve(0);
}
