#!/usr/bin/env node
// Runs before the test suite (npm test): installs the Debian packages the tests need when they
// are missing. PostgreSQL: the tests use the server on 127.0.0.1:5432 when one answers (development
// and CI machines), else they start a private one from Debian's `postgresql` package. Dovecot:
// the MSSanté tests start a private one (src/sim/mss/dovecot.ts), never the system's service.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

const POSTGRES_HOST = '127.0.0.1';
const POSTGRES_PORT = 5432;
/** Where Debian's dovecot-core and dovecot-imapd put the server and its IMAP processes. */
const DOVECOT_BINARY = '/usr/sbin/dovecot';
const DOVECOT_LIBEXEC = '/usr/lib/dovecot';

function portOpen(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open) => { socket.destroy(); resolve(open); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function commandExists(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function postgresBinariesPresent() {
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((version) => existsSync(`${root}/${version}/bin/initdb`));
}

/** Each need: a Debian package and how to tell whether the machine already has what it gives. */
const needs = [
  { package: 'openssl', reason: 'certificates for the TLS tests', satisfied: () => commandExists('openssl') },
  { package: 'libxml2-utils', reason: 'xmllint, the reference the XSD validation is compared with', satisfied: () => commandExists('xmllint') },
  { package: 'xmlsec1', reason: 'xmlsec1, the reference the XML signatures are checked against', satisfied: () => commandExists('xmlsec1') },
  { package: 'poppler-utils', reason: 'pdftotext, to read back the PDFs the builder renders', satisfied: () => commandExists('pdftotext') },
  { package: 'postgresql', reason: 'a private PostgreSQL server for the store tests', satisfied: async () => (await portOpen(POSTGRES_HOST, POSTGRES_PORT)) || postgresBinariesPresent() },
  // Checked by path: /usr/sbin is not on every user's PATH. dovecot-imapd depends on dovecot-core,
  // both are listed so that either missing is named.
  { package: 'dovecot-core', reason: 'Dovecot, the private IMAP server of the MSSanté tests and sandbox', satisfied: () => existsSync(DOVECOT_BINARY) },
  { package: 'dovecot-imapd', reason: 'Dovecot\'s IMAP service', satisfied: () => existsSync(`${DOVECOT_LIBEXEC}/imap`) && existsSync(`${DOVECOT_LIBEXEC}/imap-login`) },
];

const missing = [];
for (const need of needs) if (!(await need.satisfied())) missing.push(need);
if (missing.length === 0) process.exit(0);

const names = missing.map((m) => m.package);
console.log(`test setup: installing ${names.join(', ')} (${missing.map((m) => m.reason).join('; ')})`);
if (process.getuid?.() !== 0) {
  console.error(`test setup: not root; install them with: sudo apt-get install -y ${names.join(' ')}`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...names], { stdio: 'inherit', env });
