/**
 * Fault injection of the DMP sandbox, for tests and demonstrations: latency on every answer, and
 * a queue of faults each applied to the next N calls — an HTTP 500 or 503, a connection dropped
 * without an answer, a TLS handshake refused, or a given XDS error code in the RegistryResponse.
 */

export type FaultKind = 'http-500' | 'http-503' | 'drop' | 'tls-refuse' | 'registry-error';
export const FAULT_KINDS: readonly FaultKind[] = ['http-500', 'http-503', 'drop', 'tls-refuse', 'registry-error'];

export interface Fault {
  readonly kind: FaultKind;
  /** How many calls (or, for tls-refuse, handshakes) it applies to. */
  readonly count: number;
  /** For registry-error: the XDS error code answered, e.g. XDSRegistryBusy. */
  readonly errorCode?: string;
}

export interface FaultState {
  readonly latencyMs: number;
  readonly pending: readonly Fault[];
}

export class Faults {
  private latency = 0;
  private queue: { kind: FaultKind; remaining: number; errorCode?: string }[] = [];
  /** Called when a TLS refusal is armed: kept-alive connections must go, so that the next call makes a handshake. */
  onTlsRefusalArmed?: () => void;

  set latencyMs(ms: number) {
    this.latency = Math.max(0, Math.floor(ms));
  }

  get latencyMs(): number {
    return this.latency;
  }

  add(fault: Fault): void {
    if (!FAULT_KINDS.includes(fault.kind)) throw new Error(`unknown fault kind ${fault.kind as string}`);
    if (fault.kind === 'registry-error' && (fault.errorCode === undefined || !/^[A-Za-z][\w.:-]*$/.test(fault.errorCode))) throw new Error('a registry-error fault needs an errorCode');
    if (!Number.isInteger(fault.count) || fault.count < 1) throw new Error('a fault applies to a count of calls, at least 1');
    this.queue.push({ kind: fault.kind, remaining: fault.count, ...(fault.errorCode === undefined ? {} : { errorCode: fault.errorCode }) });
    if (fault.kind === 'tls-refuse') this.onTlsRefusalArmed?.();
  }

  clear(): void {
    this.queue = [];
    this.latency = 0;
  }

  /** Whether the next TLS handshake is to be refused (consumes one). */
  takeTlsRefusal(): boolean {
    return this.take((f) => f.kind === 'tls-refuse') !== undefined;
  }

  /** The fault for the next call, if any (consumes one); TLS refusals are taken at the handshake. */
  takeCallFault(): Fault | undefined {
    return this.take((f) => f.kind !== 'tls-refuse');
  }

  state(): FaultState {
    return { latencyMs: this.latency, pending: this.queue.map((f) => ({ kind: f.kind, count: f.remaining, ...(f.errorCode === undefined ? {} : { errorCode: f.errorCode }) })) };
  }

  private take(match: (f: { kind: FaultKind }) => boolean): Fault | undefined {
    const index = this.queue.findIndex(match);
    const fault = this.queue[index];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.queue.splice(index, 1);
    return { kind: fault.kind, count: 1, ...(fault.errorCode === undefined ? {} : { errorCode: fault.errorCode }) };
  }
}
