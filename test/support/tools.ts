/**
 * Reference command-line tools the tests compare against (xmllint, pdftotext, xmlsec1…), installed
 * by scripts/test-setup.mjs. Missing: a test fails in CI and is skipped elsewhere.
 */
import { execFileSync } from 'node:child_process';

export function requireTool(context: Mocha.Context, command: string, debianPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return;
  } catch {
    const message = `${command} (Debian ${debianPackage}) is required`;
    if (process.env.CI === 'true') throw new Error(`${message} in CI`);
    console.warn(`      skipped: ${message}`);
    context.skip();
  }
}
