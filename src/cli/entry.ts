/** Process entry of the `passerelle` command (bin/passerelle.js runs its compiled form). */
import type { CliIo } from './io.js';
import { main } from './main.js';

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // The one place the environment enters: handed to the configuration loader through io.env.
  env: process.env,
  stopSignal: new Promise((resolve) => {
    process.once('SIGINT', () => { resolve('SIGINT'); });
    process.once('SIGTERM', () => { resolve('SIGTERM'); });
  }),
};

process.exitCode = await main(process.argv.slice(2), io);
