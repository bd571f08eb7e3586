/**
 * Who receives the report by MSSanté (pure). The physician who performed the act sends the
 * report "au médecin traitant (et au médecin requérant dans le cadre de la télé-expertise)"
 * (source-documents §2, 003:365-369); the act report may list further recipients.
 *
 * A recipient that cannot be written to (no MSSanté address, an address that is not one) is a
 * problem of that recipient, returned beside the others, never a throw: the report still goes to
 * whoever can receive it, and the submission records why the others did not get it. Problems
 * name the field, never a person's name.
 */
import type { ActReport, Professional } from '../../domain/act-report.js';

export type RecipientRole = 'primary-care-physician' | 'requester' | 'other';

export interface Recipient {
  /** The first role the address was found under (médecin traitant, then requérant, then the list). */
  readonly role: RecipientRole;
  /** Further roles of the same mailbox, when the report named it more than once. */
  readonly otherRoles?: readonly RecipientRole[];
  /** The MSSanté address as the act report spelled it (the first spelling, when it came twice). */
  readonly address: string;
  readonly idNatPs?: string;
}

export type RecipientProblemCode =
  /** A médecin traitant or requérant is named without an MSSanté address. */
  | 'NO_MSSANTE_ADDRESS'
  /** The address is not a mailbox address (RFC 5321 §4.1.2 syntax, ASCII). */
  | 'INVALID_ADDRESS'
  /** A valid address outside the MSSanté domains: the espace de confiance would not deliver it. */
  | 'NOT_MSSANTE_DOMAIN'
  /** The médecin traitant is not known (status UNKNOWN): the report cannot reach them. */
  | 'PRIMARY_CARE_PHYSICIAN_UNKNOWN'
  /** A télé-expertise without a requérant (act-report-rules refuses it; kept for reports read back from older stores). */
  | 'NO_REQUESTER';

export interface RecipientProblem {
  readonly role: RecipientRole;
  /** Index in `recipients[]`, for role `other`. */
  readonly index?: number;
  /** JSON Pointer into the act report of the field at fault. */
  readonly pointer: string;
  readonly code: RecipientProblemCode;
  readonly message: string;
}

export interface RecipientsOptions {
  /**
   * Domains (and their subdomains) of the MSSanté espace de confiance. MSSanté mailboxes are
   * under mssante.fr (`@medecin.mssante.fr`, `@<établissement>.mssante.fr`; the act-report
   * schema's hint) [S: no public list of the operators' domains was found], so that is the default;
   * an empty list accepts every domain (a sandbox with its own domain).
   */
  readonly mssanteDomains?: readonly string[];
}

export const DEFAULT_MSSANTE_DOMAINS: readonly string[] = ['mssante.fr'];

/** RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain; a path of 256 with its brackets leaves 254 (RFC 3696 errata). */
const MAX_LOCAL_PART = 64;
const MAX_ADDRESS = 254;
/** Dot-atom local part (RFC 5322 §3.2.3, no quoted strings: no MSSanté address needs them) and an LDH host name. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Whether `address` is a plain ASCII mailbox address `local@domain` that an SMTP envelope can carry. */
export function isMailboxAddress(address: string): boolean {
  if (address.length > MAX_ADDRESS) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  return local.length <= MAX_LOCAL_PART && LOCAL_PART.test(local) && DOMAIN.test(address.slice(at + 1));
}

/** Whether the address's domain is one of `domains` or under one of them (case-insensitive). */
export function isInDomains(address: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return true;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => {
    const allowed = d.toLowerCase();
    return domain === allowed || domain.endsWith(`.${allowed}`);
  });
}

/**
 * Mailboxes compare case-insensitively here: RFC 5321 lets a server treat local parts as
 * case-sensitive, but MSSanté operators do not, and writing twice to one mailbox is the worse
 * mistake.
 */
const mailboxKey = (address: string): string => address.toLowerCase();

interface Candidate {
  readonly role: RecipientRole;
  readonly address: string;
  readonly idNatPs?: string;
  readonly pointer: string;
  readonly index?: number;
}

export function recipientsOf(report: ActReport, options: RecipientsOptions = {}): { recipients: Recipient[]; problems: RecipientProblem[] } {
  const domains = options.mssanteDomains ?? DEFAULT_MSSANTE_DOMAINS;
  const problems: RecipientProblem[] = [];
  const candidates: Candidate[] = [];
  const professional = (role: RecipientRole, pointer: string, p: Professional, what: string): void => {
    if (p.mssanteAddress === undefined) {
      problems.push({ role, pointer: `${pointer}/mssanteAddress`, code: 'NO_MSSANTE_ADDRESS', message: `the ${what} has no MSSanté address (${pointer}/mssanteAddress): the report cannot be sent to them` });
      return;
    }
    candidates.push({ role, address: p.mssanteAddress.trim(), idNatPs: p.idNatPs, pointer: `${pointer}/mssanteAddress` });
  };

  const pcp = report.professionals.primaryCarePhysician;
  if (pcp.status === 'KNOWN') professional('primary-care-physician', '/professionals/primaryCarePhysician/professional', pcp.professional, 'médecin traitant');
  // NONE: the patient has no médecin traitant, nobody is missed. UNKNOWN: somebody is.
  else if (pcp.status === 'UNKNOWN') problems.push({ role: 'primary-care-physician', pointer: '/professionals/primaryCarePhysician/status', code: 'PRIMARY_CARE_PHYSICIAN_UNKNOWN', message: 'the médecin traitant is unknown: the report cannot be sent to them' });

  if (report.act.type === 'TELEEXPERTISE') {
    const requester = report.professionals.requester;
    if (requester === undefined) problems.push({ role: 'requester', pointer: '/professionals/requester', code: 'NO_REQUESTER', message: 'a télé-expertise without a requérant: the report cannot be sent back to them' });
    else professional('requester', '/professionals/requester', requester, 'requérant');
  }

  (report.recipients ?? []).forEach((r, index) => {
    candidates.push({ role: 'other', address: r.mssanteAddress.trim(), ...(r.idNatPs === undefined ? {} : { idNatPs: r.idNatPs }), pointer: `/recipients/${String(index)}/mssanteAddress`, index });
  });

  const byMailbox = new Map<string, { first: Candidate; otherRoles: RecipientRole[] }>();
  for (const c of candidates) {
    const where = c.index === undefined ? {} : { index: c.index };
    if (!isMailboxAddress(c.address)) {
      problems.push({ role: c.role, ...where, pointer: c.pointer, code: 'INVALID_ADDRESS', message: `${c.pointer} is not a mailbox address` });
      continue;
    }
    if (!isInDomains(c.address, domains)) {
      problems.push({ role: c.role, ...where, pointer: c.pointer, code: 'NOT_MSSANTE_DOMAIN', message: `${c.pointer} is not in an MSSanté domain (${domains.join(', ')})` });
      continue;
    }
    const seen = byMailbox.get(mailboxKey(c.address));
    if (seen === undefined) byMailbox.set(mailboxKey(c.address), { first: c, otherRoles: [] });
    else if (seen.first.role !== c.role && !seen.otherRoles.includes(c.role)) seen.otherRoles.push(c.role);
  }

  const recipients = [...byMailbox.values()].map(({ first, otherRoles }): Recipient => ({
    role: first.role,
    ...(otherRoles.length === 0 ? {} : { otherRoles }),
    address: first.address,
    ...(first.idNatPs === undefined ? {} : { idNatPs: first.idNatPs }),
  }));
  return { recipients, problems };
}
