/** Runs `passerelle` in-process with captured output, as the CLI tests do. */
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], env: Record<string, string> = { PASSERELLE_LOG_LEVEL: 'silent' }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env, stopSignal: new Promise(() => undefined) };
  return { code: await main(argv, io), stdout, stderr };
}
