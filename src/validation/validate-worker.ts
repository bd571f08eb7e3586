/**
 * A worker thread of `passerelle validate --jobs N`: loads the kit once, then validates the files
 * it is sent, one message each, and answers with the report.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { AnsKit } from './kit.js';
import { validateFile, type WorkerReply, type WorkerSettings } from './validate-files.js';

const settings = workerData as WorkerSettings;
const kit = settings.kitDir === undefined ? undefined : new AnsKit(settings.kitDir);

parentPort?.on('message', (file: string) => {
  try {
    parentPort?.postMessage({ report: validateFile(file, settings, kit, readFileSync) } satisfies WorkerReply);
  } catch (error) {
    // A class does not survive the thread boundary: send what the main thread needs to rebuild it.
    parentPort?.postMessage({ error: { name: (error as Error).name, message: (error as Error).message } } satisfies WorkerReply);
  }
});
