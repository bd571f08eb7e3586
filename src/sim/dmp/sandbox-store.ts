/**
 * What the DMP sandbox keeps, in SQLite (a file, or memory for tests): the patients it knows,
 * the registry's DocumentEntries with their versions and statuses, and the repository's octets.
 * All its SQL is here. Metadata are kept as the JSON of the XDS model, so that a query answers
 * exactly what was registered.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DmpState } from '../../transports/dmp/patient-status.js';
import type { Association, DocumentEntry, SubmissionSet } from '../../xds/model.js';
import { STATUS } from '../../xds/vocabulary.js';


export interface PatientRecord {
  /** The INS as CX, `NIR^^^&OID&ISO^NH`. */
  readonly patientId: string;
  readonly dmp: DmpState;
}

export interface StoredDocument {
  readonly entry: DocumentEntry;
  readonly content: Buffer;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS patients (patient_id TEXT PRIMARY KEY, dmp TEXT NOT NULL CHECK (dmp IN ('active','closed','none')));
CREATE TABLE IF NOT EXISTS entries (
  entry_uuid TEXT PRIMARY KEY,
  logical_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  unique_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  status TEXT NOT NULL,
  metadata TEXT NOT NULL,
  submission_set TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_unique_id ON entries (unique_id);
CREATE INDEX IF NOT EXISTS entries_patient ON entries (patient_id, status);
CREATE TABLE IF NOT EXISTS contents (unique_id TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS associations (id TEXT PRIMARY KEY, type TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, metadata TEXT NOT NULL);
`;

interface EntryRow { metadata: string; status: string; version: number; logical_id: string }

export class SandboxStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  patient(patientId: string): PatientRecord | undefined {
    const row = this.db.prepare('SELECT patient_id, dmp FROM patients WHERE patient_id = ?').get(patientId) as { patient_id: string; dmp: DmpState } | undefined;
    return row === undefined ? undefined : { patientId: row.patient_id, dmp: row.dmp };
  }

  setPatient(record: PatientRecord): void {
    this.db.prepare('INSERT INTO patients (patient_id, dmp) VALUES (?, ?) ON CONFLICT (patient_id) DO UPDATE SET dmp = excluded.dmp').run(record.patientId, record.dmp);
  }

  /** Registry entries (every version) with this uniqueId. */
  entriesByUniqueId(uniqueId: string): DocumentEntry[] {
    return (this.db.prepare('SELECT metadata, status, version, logical_id FROM entries WHERE unique_id = ? ORDER BY version').all(uniqueId) as EntryRow[]).map(entryOf);
  }

  entryByUuid(entryUUID: string): DocumentEntry | undefined {
    const row = this.db.prepare('SELECT metadata, status, version, logical_id FROM entries WHERE entry_uuid = ?').get(entryUUID) as EntryRow | undefined;
    return row === undefined ? undefined : entryOf(row);
  }

  entriesOfPatient(patientId: string, statuses: readonly string[]): DocumentEntry[] {
    const rows = this.db.prepare(`SELECT metadata, status, version, logical_id FROM entries WHERE patient_id = ? AND status IN (${statuses.map(() => '?').join(',')}) ORDER BY rowid`).all(patientId, ...statuses) as EntryRow[];
    return rows.map(entryOf);
  }

  content(uniqueId: string): Buffer | undefined {
    const row = this.db.prepare('SELECT content FROM contents WHERE unique_id = ?').get(uniqueId) as { content: Buffer } | undefined;
    return row?.content;
  }

  documentCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM entries WHERE status <> ?").get(STATUS.DEPRECATED) as { n: number }).n;
  }

  /** Every entry not deprecated, in the order they were registered (tests compare them with what was filed). */
  currentEntries(): DocumentEntry[] {
    return (this.db.prepare('SELECT metadata, status, version, logical_id FROM entries WHERE status <> ? ORDER BY rowid').all(STATUS.DEPRECATED) as EntryRow[]).map(entryOf);
  }

  /** One ITI-41 in one transaction: the documents, their octets, the associations, and the replaced entries deprecated. */
  register(o: { submissionSet: SubmissionSet; documents: readonly StoredDocument[]; associations: readonly Association[]; deprecate: readonly string[] }): void {
    const insertEntry = this.db.prepare('INSERT INTO entries (entry_uuid, logical_id, version, unique_id, patient_id, status, metadata, submission_set) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insertContent = this.db.prepare('INSERT INTO contents (unique_id, content) VALUES (?, ?)');
    const insertAssociation = this.db.prepare('INSERT INTO associations (id, type, source, target, metadata) VALUES (?, ?, ?, ?, ?)');
    const setStatus = this.db.prepare('UPDATE entries SET status = ? WHERE entry_uuid = ?');
    this.db.transaction(() => {
      for (const { entry, content } of o.documents) {
        const stored: DocumentEntry = { ...entry, availabilityStatus: STATUS.APPROVED, logicalId: entry.logicalId ?? entry.entryUUID, version: entry.version ?? '1' };
        insertEntry.run(stored.entryUUID, stored.logicalId, Number(stored.version), stored.uniqueId, formatPatient(stored), STATUS.APPROVED, JSON.stringify(stored), o.submissionSet.uniqueId);
        insertContent.run(stored.uniqueId, content);
      }
      for (const a of o.associations) insertAssociation.run(a.id, a.type, a.sourceObject, a.targetObject, JSON.stringify(a));
      for (const entryUUID of o.deprecate) setStatus.run(STATUS.DEPRECATED, entryUUID);
    })();
  }

  /** ITI-57 metadata update: the new version becomes current, the previous one deprecated. */
  addVersion(previous: DocumentEntry, next: DocumentEntry, submissionSet: SubmissionSet): void {
    const status = previous.availabilityStatus ?? STATUS.APPROVED;
    const stored: DocumentEntry = { ...next, availabilityStatus: status };
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO entries (entry_uuid, logical_id, version, unique_id, patient_id, status, metadata, submission_set) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(stored.entryUUID, stored.logicalId ?? previous.entryUUID, Number(stored.version), stored.uniqueId, formatPatient(stored), status, JSON.stringify(stored), submissionSet.uniqueId);
      this.db.prepare('UPDATE entries SET status = ? WHERE entry_uuid = ?').run(STATUS.DEPRECATED, previous.entryUUID);
    })();
  }

  /** ITI-57 availability status change; a deleted document's octets are deleted with it. */
  setStatus(entry: DocumentEntry, status: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE entries SET status = ? WHERE entry_uuid = ?').run(status, entry.entryUUID);
      if (status === STATUS.DELETED) this.db.prepare('DELETE FROM contents WHERE unique_id = ?').run(entry.uniqueId);
    })();
  }

  close(): void {
    this.db.close();
  }
}

/** The patient key of an entry: its CX without the identifier type, as registries compare them. */
export function patientKey(id: string, assigningAuthority: string): string {
  return `${id}^^^&${assigningAuthority}&ISO`;
}

function formatPatient(entry: DocumentEntry): string {
  return patientKey(entry.patientId.id, entry.patientId.assigningAuthority);
}

function entryOf(row: EntryRow): DocumentEntry {
  const entry = JSON.parse(row.metadata) as DocumentEntry;
  return { ...entry, availabilityStatus: row.status, logicalId: row.logical_id, version: String(row.version) };
}
