/**
 * Reference command-line tools the tests compare against (xmllint, pdftotext, xmlsec1…), installed
 * by scripts/test-setup.mjs. Missing: a test fails in CI and is skipped elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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

/** Debian's Dovecot (dovecot-imapd, installed by scripts/test-setup.mjs), at its path: /usr/sbin is not on every PATH. */
export function requireDovecot(context: Mocha.Context, binary: string): void {
  if (existsSync(binary)) return;
  const message = `Dovecot (${binary}, Debian dovecot-imapd) is required`;
  if (process.env.CI === 'true') throw new Error(`${message} in CI`);
  console.warn(`      skipped: ${message}`);
  context.skip();
}
