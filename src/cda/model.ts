/**
 * A typed model of the part of HL7 CDA R2 that Passerelle writes: the CI-SIS header, a level-1
 * body (nonXMLBody) or the level-3 sections of the TLM-DA. It knows nothing of XML; serialize.ts
 * is the one place that turns it into a document, in the element order of CDA.xsd.
 */

/** Instance identifier (II). */
export interface II {
  readonly root: string;
  readonly extension?: string;
}

/** Coded value (CD/CE). */
export interface Code {
  readonly code: string;
  readonly displayName: string;
  readonly codeSystem: string;
  readonly codeSystemName?: string;
}

/** HL7 TS text, e.g. `20261119090000+0100` or `19970226` (see time.ts). */
export type Timestamp = string;

export interface Interval {
  readonly low?: Timestamp;
  readonly high?: Timestamp;
}

export interface NamePart {
  readonly value: string;
  /** BR: birth name (INS trait); CL: name in use (SM-SCH). */
  readonly qualifier?: 'BR' | 'CL';
}

export interface PersonName {
  /** Civilité (JDV_J245). */
  readonly prefix?: string;
  readonly given: readonly NamePart[];
  readonly family: readonly NamePart[];
  /** Title (JDV_J246), e.g. DR. */
  readonly suffix?: string;
}

export interface Organization {
  readonly id: II;
  readonly name: string;
  /** Cadre d'exercice (practiceSetting, JDV_J04). */
  readonly standardIndustryClassCode?: Code;
}

/** A professional in a role: author, performer, legal authenticator, recipient, participant. */
export interface AssignedProfessional {
  readonly id: II;
  readonly code?: Code;
  readonly name: PersonName;
  /** URLs: `mailto:` for an MSSanté address. */
  readonly telecoms?: readonly string[];
  readonly organization?: Organization;
}

export interface Patient {
  readonly ids: readonly II[];
  readonly name: PersonName;
  readonly administrativeGender: Code;
  readonly birthTime: Timestamp;
  /** COG code of the birth place (INS trait), in birthplace/place/addr/county. */
  readonly birthPlaceCode?: string;
}

export interface Author {
  readonly time: Timestamp;
  readonly professional: AssignedProfessional;
}

export interface InformationRecipient {
  readonly professional: AssignedProfessional;
}

export interface Participant {
  readonly typeCode: 'PRF';
  readonly functionCode: Code;
  readonly time: Interval;
  readonly professional: AssignedProfessional;
}

export interface ServiceEvent {
  readonly code: Code;
  readonly effectiveTime: Interval;
  readonly performer?: AssignedProfessional;
}

export interface RelatedDocument {
  readonly typeCode: 'RPLC';
  readonly parentId: II;
  readonly parentSetId?: II;
  readonly parentVersionNumber?: number;
}

export interface Consent {
  readonly code: Code;
}

export interface Encounter {
  readonly code: Code;
  readonly effectiveTime: Interval;
  readonly responsibleParty?: AssignedProfessional;
  readonly facility: { readonly id: II; readonly code: Code; readonly name: string };
}

export interface NonXmlBody {
  readonly kind: 'nonXML';
  readonly mediaType: 'application/pdf' | 'text/plain';
  /** The content, encoded in base64 in the document. */
  readonly content: Uint8Array;
}

/** Narrative block content: paragraphs (lines kept), or a table. */
export type Narrative =
  | { readonly kind: 'paragraphs'; readonly paragraphs: readonly string[] }
  | { readonly kind: 'table'; readonly head: readonly string[]; readonly rows: readonly (readonly NarrativeCell[])[] };

/** A table cell; `id` makes it referable from an entry's originalText (`#id`). */
export interface NarrativeCell {
  readonly text: string;
  readonly id?: string;
}

/** FR-Traitement (substanceAdministration). */
export interface MedicationEntry {
  readonly templateIds: readonly II[];
  readonly id: II;
  /** Absent-or-unknown code (no-known-medications…) when the entry states an absence. */
  readonly code?: Code;
  readonly effectiveTime?: Interval;
  readonly product: {
    readonly templateIds: readonly II[];
    /** The product's code, or why there is none: NA in an absence entry, UNK for an uncoded product. */
    readonly code: (Code | { readonly nullFlavor: 'NA' | 'UNK' }) & { readonly narrativeId?: string };
    readonly name?: string;
  };
  /** The narrative this entry is the structured form of (`#id`). */
  readonly narrativeId: string;
}

export interface Section {
  readonly templateIds: readonly II[];
  readonly id?: II;
  readonly code: Code;
  readonly title: string;
  readonly text?: Narrative;
  readonly entries?: readonly MedicationEntry[];
  readonly sections?: readonly Section[];
}

export interface StructuredBody {
  readonly kind: 'structured';
  readonly sections: readonly Section[];
}

export interface ClinicalDocument {
  readonly templateIds: readonly II[];
  readonly id: II;
  readonly code: Code;
  readonly title: string;
  readonly effectiveTime: Timestamp;
  readonly confidentialityCode: Code;
  readonly languageCode: string;
  readonly setId: II;
  readonly versionNumber: number;
  readonly recordTarget: Patient;
  readonly authors: readonly Author[];
  readonly custodian: Organization;
  readonly informationRecipients: readonly InformationRecipient[];
  readonly legalAuthenticator: Author;
  readonly participants: readonly Participant[];
  /** Ids of the orders (requests) this document fulfils. */
  readonly inFulfillmentOf: readonly II[];
  readonly documentationOf: readonly ServiceEvent[];
  readonly relatedDocument?: RelatedDocument;
  readonly consent?: Consent;
  readonly encounter: Encounter;
  readonly body: NonXmlBody | StructuredBody;
}
