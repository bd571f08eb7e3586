/**
 * Fault injection of the MSSanté sandbox: a reply code for a given recipient for the next N
 * messages (4xx: try later, 5xx: refused), a connection dropped in the middle of a transaction,
 * or a TLS session refused as its handshake ends, each for the next N times.
 */

export interface RecipientFault {
  /** An SMTP reply code: 4xx or 5xx. */
  readonly code: number;
  /** RFC 3463 enhanced status code, e.g. 4.2.2 (mailbox full), 5.1.1 (no such mailbox). */
  readonly enhancedCode?: string;
  readonly text?: string;
  readonly count: number;
}

export interface MssFaultState {
  readonly recipients: Readonly<Record<string, RecipientFault>>;
  readonly drops: number;
  readonly tlsRefusals: number;
}

export class MssFaults {
  private recipientFaults = new Map<string, RecipientFault>();
  private drops = 0;
  private tlsRefusals = 0;

  recipient(address: string, fault: RecipientFault): void {
    if (!Number.isInteger(fault.code) || fault.code < 400 || fault.code > 599) throw new Error('a recipient fault is an SMTP reply code from 400 to 599');
    if (fault.enhancedCode !== undefined && !/^[45]\.\d{1,3}\.\d{1,3}$/.test(fault.enhancedCode)) throw new Error('an enhanced status code is class.subject.detail, e.g. 5.1.1');
    if (!Number.isInteger(fault.count) || fault.count < 1) throw new Error('a fault applies to a count of messages, at least 1');
    this.recipientFaults.set(address.toLowerCase(), fault);
  }

  /** The next `count` transactions lose their connection after MAIL FROM. */
  dropConnections(count: number): void {
    this.drops += Math.max(0, Math.floor(count));
  }

  /** The next `count` TLS sessions are closed as soon as their handshake ends, before any SMTP. */
  refuseTls(count: number): void {
    this.tlsRefusals += Math.max(0, Math.floor(count));
  }

  clear(): void {
    this.recipientFaults.clear();
    this.drops = 0;
    this.tlsRefusals = 0;
  }

  /** The fault for this recipient in this message, if any (consumes one). */
  takeRecipient(address: string): RecipientFault | undefined {
    const key = address.toLowerCase();
    const fault = this.recipientFaults.get(key);
    if (fault === undefined) return undefined;
    if (fault.count <= 1) this.recipientFaults.delete(key);
    else this.recipientFaults.set(key, { ...fault, count: fault.count - 1 });
    return fault;
  }

  takeDrop(): boolean {
    if (this.drops === 0) return false;
    this.drops -= 1;
    return true;
  }

  takeTlsRefusal(): boolean {
    if (this.tlsRefusals === 0) return false;
    this.tlsRefusals -= 1;
    return true;
  }

  state(): MssFaultState {
    return { recipients: Object.fromEntries(this.recipientFaults), drops: this.drops, tlsRefusals: this.tlsRefusals };
  }
}
