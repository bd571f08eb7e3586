/**
 * INDEX.HTM and README.TXT of an XDM medium (IHE ITI TF-2b §3.32.4.1: an index of the content for
 * a person opening the medium, and who made it: the application, its version, a contact).
 *
 * What they do not say, on purpose: nothing about the patient. The recipient's software files the
 * documents under the patientId of METADATA.XML (french-specs §4: Ref#2 ECO.2.1.2), so a page that
 * named the patient would serve no one's software, and would show the name, INS or birth date to
 * whoever previews the attachment, outside the protection the documents themselves have (data
 * minimisation, GDPR art. 5(1)(c)). NIST's 2007 sample puts the patient's name and address in its
 * INDEX.HTM; Mediboard's puts only the sender (OpenXtrem ox-interop CXDMRepository::createFileIndex).
 * The index lists each document by its type (the label of its typeCode, from a value set: never the
 * free-text title, which an author may have written the patient's name into), its format and size,
 * and the sending organisation.
 */
import type { DocumentEntry } from '../xds/model.js';
import { FIRST_SUBSET, INDEX_FILE, METADATA_FILE, README_FILE, XDM_FOLDER } from './layout.js';

export interface MediaFile {
  readonly fileName: string;
  readonly entry: DocumentEntry;
  readonly size: number;
}

export interface MediaDescription {
  readonly title: string;
  /** The application that made the medium (README.TXT). */
  readonly producer: { readonly name: string; readonly version?: string };
  /** Whom to contact about the medium. */
  readonly contact: string;
  /** The sending organisation (authorInstitution of the submission set), when known. */
  readonly sender?: string;
  /** ISO 8601 UTC time the medium was made (the submission time). */
  readonly createdAt: string;
  readonly documents: readonly MediaFile[];
}

const SUBSET_PATH = `${XDM_FOLDER}/${FIRST_SUBSET}`;

/** What a document is, for a person: its format from its mime type. */
function formatLabel(mimeType: string): string {
  if (mimeType === 'text/xml') return 'document CDA R2 (XML)';
  if (mimeType === 'application/pdf') return 'copie PDF';
  return mimeType;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.codePointAt(0))};`);
}

export function indexHtm(d: MediaDescription): string {
  const items = d.documents.map((doc) => {
    const href = `${SUBSET_PATH}/${doc.fileName}`;
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(doc.fileName)}</a> : ${escapeHtml(doc.entry.typeCode.displayName)}, ${escapeHtml(formatLabel(doc.entry.mimeType))}, ${String(doc.size)} octets</li>`;
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="fr">',
    '<head><meta charset="utf-8"><title>' + escapeHtml(d.title) + '</title></head>',
    '<body>',
    `<h1>${escapeHtml(d.title)}</h1>`,
    ...(d.sender === undefined ? [] : [`<p>Émetteur : ${escapeHtml(d.sender)}</p>`]),
    `<p>Créé le ${escapeHtml(d.createdAt)} par ${escapeHtml(producerLabel(d.producer))}. Voir <a href="${README_FILE}">${README_FILE}</a>.</p>`,
    `<h2>Lot ${FIRST_SUBSET}</h2>`,
    '<ul>',
    ...items,
    `<li><a href="${SUBSET_PATH}/${METADATA_FILE}">${METADATA_FILE}</a> : métadonnées XDS des documents (patient, auteurs, types)</li>`,
    '</ul>',
    '<p>Le logiciel du destinataire rattache ces documents au patient d\'après METADATA.XML ; cette page n\'en reprend aucune donnée.</p>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n');
}

export function readmeTxt(d: MediaDescription): string {
  const width = Math.max(...[INDEX_FILE, README_FILE, `${SUBSET_PATH}/${METADATA_FILE}`, ...d.documents.map((doc) => `${SUBSET_PATH}/${doc.fileName}`)].map((n) => n.length)) + 2;
  const line = (name: string, what: string): string => `  ${name.padEnd(width)}${what}`;
  return [
    'Support IHE XDM (IHE ITI-32, Distribute Document Set on Media), transmis par messagerie sécurisée de santé (MSSanté)',
    '',
    `Application : ${producerLabel(d.producer)}`,
    `Contact : ${d.contact}`,
    ...(d.sender === undefined ? [] : [`Émetteur : ${d.sender}`]),
    `Créé le : ${d.createdAt}`,
    '',
    'Contenu :',
    line(README_FILE, 'ce fichier'),
    line(INDEX_FILE, 'sommaire, à ouvrir dans un navigateur'),
    line(`${SUBSET_PATH}/${METADATA_FILE}`, 'métadonnées XDS (lcm:SubmitObjectsRequest) : patient, auteurs, documents'),
    ...d.documents.map((doc) => line(`${SUBSET_PATH}/${doc.fileName}`, `${formatLabel(doc.entry.mimeType)} (${doc.entry.mimeType})`)),
    '',
    'Les documents s\'intègrent dans le logiciel du professionnel de santé destinataire, qui lit METADATA.XML.',
    '',
  ].join('\r\n');
}

function producerLabel(p: MediaDescription['producer']): string {
  return p.version === undefined ? p.name : `${p.name} ${p.version}`;
}
