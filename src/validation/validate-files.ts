/**
 * Validating many files: in this thread, or spread over worker threads that each load the kit
 * once (the kit's compiled XPath is not shareable between threads). Reports come back in the
 * order of the files.
 */
import { readFileSync } from 'node:fs';
import { startWorker } from '../support/start-worker.js';
import { AnsKit, KitError } from './kit.js';
import { validateDocument, type DocumentReport } from './validate-document.js';

export interface WorkerSettings {
  readonly kitDir?: string;
  readonly volet?: string;
  readonly maxBytes?: number;
}

export type WorkerReply = { readonly report: DocumentReport } | { readonly error: { readonly name: string; readonly message: string } };

export function validateFile(file: string, settings: WorkerSettings, kit: AnsKit | undefined, read: (path: string) => Uint8Array): DocumentReport {
  let bytes: Uint8Array;
  try {
    bytes = read(file);
  } catch (error) {
    return { file, readable: false, valid: false, issues: [{ source: 'input', severity: 'error', rule: 'INPUT_UNREADABLE', message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  return validateDocument(bytes, file, { ...(kit === undefined ? {} : { kit }), ...(settings.volet === undefined ? {} : { volet: settings.volet }), ...(settings.maxBytes === undefined ? {} : { maxBytes: settings.maxBytes }) });
}

export async function validateFiles(files: readonly string[], settings: WorkerSettings, jobs: number): Promise<DocumentReport[]> {
  if (jobs <= 1 || files.length <= 1) {
    const kit = settings.kitDir === undefined ? undefined : new AnsKit(settings.kitDir);
    try {
      return files.map((file) => validateFile(file, settings, kit, readFileSync));
    } finally {
      kit?.dispose();
    }
  }
  const reports = new Array<DocumentReport>(files.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, files.length) }, () => startWorker(import.meta.url, 'validate-worker', settings));
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      let current = -1;
      const sendNext = (): void => {
        if (next >= files.length) {
          resolve();
          return;
        }
        current = next++;
        worker.postMessage(files[current]);
      };
      worker.on('message', (reply: WorkerReply) => {
        if ('error' in reply) {
          reject(reply.error.name === 'KitError' ? new KitError(reply.error.message) : new Error(reply.error.message));
          return;
        }
        reports[current] = reply.report;
        sendNext();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => { if (current < files.length && reports[current] === undefined) reject(new Error(`a validation worker stopped (exit code ${code})`)); });
      sendNext();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return reports;
}
