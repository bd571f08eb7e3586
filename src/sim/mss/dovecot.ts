/**
 * A private Dovecot 2.3 (Debian's dovecot-core and dovecot-imapd) on loopback: the IMAP server of
 * the MSSanté sandbox and of the tests, where the gateway reads its application mailbox. Each
 * instance lives in a folder of its own, from a configuration written there: nothing of
 * /etc/dovecot is read, the system's service is never touched.
 *
 * Like an MSSanté operator's server for an application mailbox (BAL applicative), it speaks IMAPS
 * only (implicit TLS, RFC 8314), and the TLS client certificate is the credential: it must chain to
 * `clientCaPem`, its commonName names the mailbox it opens, and no password is checked. Clients
 * that speak SASL EXTERNAL (RFC 4422 appendix A) log in with the certificate alone; clients that
 * only know AUTHENTICATE PLAIN or LOGIN (imapflow) may send any name and password: Dovecot
 * replaces the name with the certificate's (auth_ssl_username_from_cert) and the passdb asks for
 * no password.
 *
 * Started as an ordinary user, every Dovecot process runs as that user (Dovecot's "rootless"
 * installation). Started as root (CI), Dovecot keeps its privilege separation, because it refuses
 * to run its login processes or to serve mail as root: login processes run as Debian's `dovenull`,
 * chrooted, and the mailboxes belong to `nobody`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';

/** Debian's dovecot-core installs the master here (/usr/sbin may not be on an ordinary user's PATH). */
export const DEBIAN_DOVECOT_BINARY = '/usr/sbin/dovecot';

const LOOPBACK = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;
/** A free port is chosen before Dovecot binds it: another process may take it in between. */
const PORT_ATTEMPTS = 3;
/** Unix socket paths are limited to 108 bytes (sun_path); Dovecot's longest under base_dir is about 30. */
const MAX_BASE_DIR_LENGTH = 70;

/**
 * Started as root: the accounts Dovecot's own processes drop to. `dovenull` is the account
 * Debian's dovecot-core creates for the login processes, which face the network before any
 * authentication and must not be able to touch mail; `nobody` (uid and gid 65534, fixed by
 * Debian's base-passwd) owns the mailboxes, since Dovecot serves no mail as uid 0.
 */
const ROOT_LOGIN_USER = 'dovenull';
const ROOT_MAIL_OWNER = { uid: 65_534, gid: 65_534 } as const;
/** The internal processes (auth, anvil, log…) stay root: they read the configuration's files in our 0700 folders. */
const ROOT_INTERNAL = 'root';

/**
 * A mailbox address as used here: it becomes a folder name and a field of Dovecot's passwd-file,
 * so no slash, colon, percent sign (Dovecot's variables), white space or control character.
 */
const MAILBOX = /^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export interface DovecotUser {
  /** The mailbox's address, e.g. the application mailbox `bal.passerelle@…mssante.fr`. */
  readonly mailbox: string;
  /**
   * The commonName of the TLS client certificate that opens it, exactly (ssl_cert_username_field =
   * commonName): for the development PKI's ORG AUTH_CLI, `<FINESS> ORG AUTH_CLI`. See
   * `certificateNameOf`.
   */
  readonly certificateName: string;
}

export interface DovecotOptions {
  /** An empty folder of this instance's: configuration, keys, logs, sockets and the Maildirs. */
  readonly dir: string;
  /** PEM: the server's certificate followed by its intermediate CAs. */
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** PEM of the CAs client certificates must chain to (the intermediates come from the client). */
  readonly clientCaPem: string;
  readonly users: readonly DovecotUser[];
  /** Default DEBIAN_DOVECOT_BINARY. */
  readonly binary?: string;
}

export interface DovecotInstance {
  readonly host: string;
  /** IMAPS (implicit TLS); there is no plaintext listener. */
  readonly port: number;
  /** The generated configuration, e.g. for `dovecot -n -c`. */
  readonly configFile: string;
  /** Dovecot's log (logins, refused certificates); it names mailboxes, never message contents. */
  readonly logFile: string;
  /** The Maildir of a mailbox (an address given in `users`). */
  maildir(mailbox: string): string;
  /** Delivers a message the way an MTA delivers to Maildir: written in tmp/, then renamed into new/. */
  deliver(mailbox: string, raw: Buffer): void;
  stop(): Promise<void>;
}

/** The commonName of a certificate's subject, as Dovecot reads it for auth_ssl_username_from_cert. */
export function certificateNameOf(certificate: X509Certificate): string {
  // Node prints the subject one attribute a line, escaping RFC 2253 specials with a backslash.
  const cn = certificate.subject.split('\n').find((line) => line.startsWith('CN='))?.slice(3);
  if (cn === undefined) throw new Error('the certificate\'s subject has no commonName');
  if (cn.includes('\\')) throw new Error('the certificate\'s commonName has escaped characters: give the name Dovecot sees as certificateName');
  return cn;
}

interface Layout {
  readonly configFile: string;
  readonly logFile: string;
  readonly baseDir: string;
  readonly stateDir: string;
  readonly mailRoot: string;
  readonly passdbFile: string;
  readonly userdbFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCaFile: string;
}

interface Accounts {
  readonly root: boolean;
  readonly internalUser: string;
  readonly internalGroup: string;
  readonly loginUser: string;
  readonly mailUid: number;
  readonly mailGid: number;
}

export async function startDovecot(o: DovecotOptions): Promise<DovecotInstance> {
  const binary = o.binary ?? DEBIAN_DOVECOT_BINARY;
  if (!existsSync(binary)) throw new Error(`Dovecot is not installed (${binary}; Debian: apt-get install dovecot-imapd)`);
  const mailboxes = checkUsers(o.users);
  const layout = layoutOf(o.dir);
  if (layout.baseDir.length > MAX_BASE_DIR_LENGTH) throw new Error(`the Dovecot folder's path is too long for its Unix sockets (${String(layout.baseDir.length)} > ${String(MAX_BASE_DIR_LENGTH)} characters): choose a shorter one`);
  const accounts = accountsOfThisProcess();
  const maildir = (mailbox: string): string => {
    if (!mailboxes.has(mailbox)) throw new Error(`${mailbox} is not a mailbox of this Dovecot`);
    return join(layout.mailRoot, mailbox, 'Maildir');
  };
  prepare(o, layout, accounts, [...mailboxes].map(maildir));

  let started: { child: ChildProcess; port: number } | undefined;
  for (let attempt = 1; started === undefined; attempt += 1) {
    const port = await freePort();
    writeFileSync(layout.configFile, dovecotConfig(layout, accounts, port), { mode: 0o600 });
    const logged = readLog(layout.logFile).length;
    try {
      started = { child: await run(binary, layout, port), port };
    } catch (error) {
      const portTaken = readLog(layout.logFile).slice(logged).includes('Address already in use');
      if (!portTaken || attempt === PORT_ATTEMPTS) throw error;
    }
  }
  const { child, port } = started;
  // A test run that ends without stop() must not leave a Dovecot behind.
  const killOnExit = (): void => { child.kill('SIGTERM'); };
  process.once('exit', killOnExit);

  let counter = 0;
  return {
    host: LOOPBACK,
    port,
    configFile: layout.configFile,
    logFile: layout.logFile,
    maildir,
    deliver(mailbox, raw) {
      const dir = maildir(mailbox);
      counter += 1;
      const name = maildirFileName(counter);
      const tmp = join(dir, 'tmp', name);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, raw);
        // Maildir's promise: a message in new/ is complete, even after a crash.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (accounts.root) chownSync(tmp, accounts.mailUid, accounts.mailGid);
      renameSync(tmp, join(dir, 'new', name));
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopProcess(child);
    },
  };
}

function checkUsers(users: readonly DovecotUser[]): Set<string> {
  const problems: string[] = [];
  const mailboxes = new Set<string>();
  const names = new Set<string>();
  users.forEach((user, i) => {
    if (!MAILBOX.test(user.mailbox)) problems.push(`users[${String(i)}].mailbox is not a plain mailbox address`);
    // A passwd-file field: no colon, no line break; Dovecot compares it as given.
    if (user.certificateName === '' || /[:\r\n\0]/.test(user.certificateName)) problems.push(`users[${String(i)}].certificateName must be a one-line name without ':'`);
    if (mailboxes.has(user.mailbox)) problems.push(`users[${String(i)}].mailbox is given twice`);
    if (names.has(user.certificateName)) problems.push(`users[${String(i)}].certificateName opens two mailboxes`);
    mailboxes.add(user.mailbox);
    names.add(user.certificateName);
  });
  if (users.length === 0) problems.push('users is empty');
  if (problems.length > 0) throw new Error(`Dovecot: ${problems.join('; ')}`);
  return mailboxes;
}

function layoutOf(dir: string): Layout {
  return {
    configFile: join(dir, 'dovecot.conf'),
    logFile: join(dir, 'dovecot.log'),
    baseDir: join(dir, 'run'),
    stateDir: join(dir, 'state'),
    mailRoot: join(dir, 'mail'),
    passdbFile: join(dir, 'passdb'),
    userdbFile: join(dir, 'userdb'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCaFile: join(dir, 'client-ca.pem'),
  };
}

function accountsOfThisProcess(): Accounts {
  const me = userInfo();
  if (me.uid === 0) return { root: true, internalUser: ROOT_INTERNAL, internalGroup: ROOT_INTERNAL, loginUser: ROOT_LOGIN_USER, mailUid: ROOT_MAIL_OWNER.uid, mailGid: ROOT_MAIL_OWNER.gid };
  // Dovecot wants the group's name (a number is "Group doesn't exist"), which Node does not give.
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  return { root: false, internalUser: me.username, internalGroup: group, loginUser: me.username, mailUid: me.uid, mailGid: me.gid };
}

/** Folders, keys and the two user databases; as root, the mailboxes handed over to their owner. */
function prepare(o: DovecotOptions, layout: Layout, accounts: Accounts, maildirs: readonly string[]): void {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  // base_dir world-readable, as Dovecot wants it (it would fix it with a warning): its sockets have their own modes.
  mkdirSync(layout.baseDir, { recursive: true, mode: 0o755 });
  for (const dir of [layout.stateDir, layout.mailRoot]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(layout.serverCertFile, o.serverCertPem, { mode: 0o644 });
  writeFileSync(layout.serverKeyFile, o.serverKeyPem, { mode: 0o600 });
  writeFileSync(layout.clientCaFile, o.clientCaPem, { mode: 0o644 });
  // passdb: certificate name → mailbox, no password (the certificate was verified); userdb: the
  // mailbox's owner and home. passwd-file: user:password:uid:gid:gecos:home:shell:extra fields.
  writeFileSync(layout.passdbFile, o.users.map((u) => `${u.certificateName}:::::::nopassword=y user=${u.mailbox}\n`).join(''), { mode: 0o600 });
  writeFileSync(layout.userdbFile, o.users.map((u) => `${u.mailbox}::${String(accounts.mailUid)}:${String(accounts.mailGid)}::${join(layout.mailRoot, u.mailbox)}::\n`).join(''), { mode: 0o600 });
  for (const maildir of maildirs) {
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(maildir, sub), { recursive: true, mode: 0o700 });
    if (accounts.root) {
      const home = join(maildir, '..');
      for (const path of [home, maildir, ...['tmp', 'new', 'cur'].map((sub) => join(maildir, sub))]) chownSync(path, accounts.mailUid, accounts.mailGid);
    }
  }
  if (accounts.root) {
    // The mail processes run as `nobody` and must reach the mailboxes: through the instance's
    // folder and mail/, which they may cross but not list; the rest stays root's only.
    chmodSync(o.dir, 0o711);
    chmodSync(layout.mailRoot, 0o711);
  }
}

/**
 * The whole configuration: every setting Dovecot 2.3 needs for this instance, nothing from
 * /etc/dovecot (dovecot -c reads this file only; the defaults are compiled in).
 */
function dovecotConfig(layout: Layout, accounts: Accounts, port: number): string {
  const lines = [
    '# Generated by Passerelle (src/sim/mss/dovecot.ts) for one private instance; not for production.',
    `base_dir = ${layout.baseDir}`,
    `state_dir = ${layout.stateDir}`,
    `instance_name = passerelle-${String(port)}`,
    `log_path = ${layout.logFile}`,
    'protocols = imap',
    `listen = ${LOOPBACK}`,
    '',
    '# Processes: as root, login processes as dovenull (chrooted, the default) and mail as nobody;',
    '# otherwise all as this user, without chroot (only root may chroot).',
    `default_internal_user = ${accounts.internalUser}`,
    `default_internal_group = ${accounts.internalGroup}`,
    `default_login_user = ${accounts.loginUser}`,
    // Dovecot refuses mail uids below first_valid_uid (500 by default): allow exactly ours.
    `first_valid_uid = ${String(accounts.mailUid)}`,
    `last_valid_uid = ${String(accounts.mailUid)}`,
    `first_valid_gid = ${String(accounts.mailGid)}`,
    `last_valid_gid = ${String(accounts.mailGid)}`,
    '',
    '# TLS only, TLS 1.2 at least; the client certificate is required and verified against ssl_ca.',
    'ssl = required',
    `ssl_cert = <${layout.serverCertFile}`,
    `ssl_key = <${layout.serverKeyFile}`,
    `ssl_ca = <${layout.clientCaFile}`,
    'ssl_min_protocol = TLSv1.2',
    'ssl_verify_client_cert = yes',
    '# The development PKI publishes no CRL; Dovecot would otherwise refuse every client certificate.',
    'ssl_require_crl = no',
    '',
    '# Authentication by the certificate: without a valid one nothing logs in; its commonName is the',
    '# user name whatever the client sends; EXTERNAL for clients that speak it, PLAIN for imapflow.',
    'auth_ssl_require_client_cert = yes',
    'auth_ssl_username_from_cert = yes',
    'ssl_cert_username_field = commonName',
    'auth_mechanisms = external plain',
    '# The names are certificates\' commonNames ("750803447 ORG AUTH_CLI"): spaces and capitals kept.',
    'auth_username_chars =',
    'auth_username_format = %u',
    '# Refused certificates and logins are logged with their reason (names only, no contents).',
    'auth_verbose = yes',
    'passdb {',
    '  driver = passwd-file',
    `  args = ${layout.passdbFile}`,
    '}',
    'userdb {',
    '  driver = passwd-file',
    `  args = ${layout.userdbFile}`,
    '}',
    'mail_location = maildir:~/Maildir',
    '',
    'service imap-login {',
    '  # No plaintext IMAP listener (port 0), IMAPS on loopback only.',
    '  inet_listener imap {',
    '    port = 0',
    '  }',
    '  inet_listener imaps {',
    `    address = ${LOOPBACK}`,
    `    port = ${String(port)}`,
    '    ssl = yes',
    '  }',
    ...(accounts.root ? [] : ['  chroot =']),
    '}',
    ...(accounts.root ? [] : ['service anvil {', '  chroot =', '}']),
    '',
  ];
  return lines.join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => { resolve(port); });
    });
  });
}

const readLog = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const lastLines = (text: string, count = 15): string => text.trimEnd().split('\n').slice(-count).join('\n');

/**
 * Runs the master in the foreground (-F): it is our child, its exit is seen, and stopping it is a
 * signal. It is ready when it has written its pid file and listens on its port.
 */
async function run(binary: string, layout: Layout, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ['-F', '-c', layout.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => { stderr += data.toString('utf8'); });
  let exited: string | undefined;
  child.once('exit', (code, signal) => { exited = signal ?? String(code); });
  child.once('error', (error) => { exited = error.message; });
  const pidFile = join(layout.baseDir, 'master.pid');
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`Dovecot exited at start-up (${exited}): ${lastLines(`${stderr}\n${readLog(layout.logFile)}`)}`);
    if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(child.pid) && listening(port)) return child;
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`Dovecot did not listen on ${LOOPBACK}:${String(port)} within ${String(STARTUP_TIMEOUT_MS)} ms: ${lastLines(readLog(layout.logFile))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/**
 * Whether a socket listens on 127.0.0.1:port, from the kernel's table (Linux), without connecting:
 * a connection would start a login process, and one still starting when stop() comes holds the
 * master 5 s more.
 */
function listening(port: number): boolean {
  // Columns: slot, local address:port, remote address:port, state, all hexadecimal; 127.0.0.1 in
  // the host's byte order (0100007F on little-endian machines), 0A is TCP_LISTEN.
  const local = new RegExp(`^\\s*\\d+: (0100007F|7F000001):${port.toString(16).toUpperCase().padStart(4, '0')} [0-9A-F]{8}:0000 0A `, 'm');
  return local.test(readFileSync('/proc/net/tcp', 'utf8'));
}

/** SIGTERM, which the master passes on to its processes; SIGKILL if it is still there after a while. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, STOP_TIMEOUT_MS);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The last microsecond timestamp a file name was given: names must sort in delivery order. */
let lastNameUs = 0n;

/**
 * A unique name in the Maildir convention (https://cr.yp.to/proto/maildir.html): time, then
 * microseconds, process id and a counter, then the host, whose "/" and ":" are written as octal
 * escapes as Dovecot does.
 */
function maildirFileName(counter: number): string {
  // Dovecot assigns UIDs to new/ files in the order of the time in their names, so that time must
  // grow strictly: milliseconds from the clock, never less than one microsecond after the last name.
  const clockUs = BigInt(Date.now()) * 1000n;
  lastNameUs = clockUs > lastNameUs ? clockUs : lastNameUs + 1n;
  const host = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
  return `${String(lastNameUs / 1_000_000n)}.M${String(lastNameUs % 1_000_000n).padStart(6, '0')}P${String(process.pid)}Q${String(counter)}.${host}`;
}
