import { readFileSync, statSync } from 'node:fs';
import { PasserelleError } from '../domain/errors.js';

/** Largest file a command reads whole (a signed CDA around a 10 MiB PDF is about 14 MB). */
const MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024;

/**
 * A file named on the command line. Unreadable, it is a usage error naming the file and the cause;
 * over `maxBytes`, it is refused before it is read (`setting`: what sets the limit).
 */
export function readInputFile(path: string, maxBytes = MAX_INPUT_FILE_BYTES, setting?: string): Buffer {
  try {
    const size = statSync(path).size;
    if (size > maxBytes) throw new PasserelleError('payload-too-large', `${path} is ${String(size)} bytes, more than the ${String(maxBytes)} accepted${setting === undefined ? '' : ` (${setting})`}`);
    return readFileSync(path);
  } catch (error) {
    if (error instanceof PasserelleError) throw error;
    throw new PasserelleError('usage', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** What a command may touch of the outside world, passed in so tests can capture it. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); used by long-running commands. */
  readonly stopSignal: Promise<string>;
}
