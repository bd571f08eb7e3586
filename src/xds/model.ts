/**
 * The XDS.b metadata model (IHE ITI TF-3 §4): DocumentEntry, SubmissionSet, Folder, Association,
 * and the HL7 v2 data types they carry (CX, XCN, XON). It knows nothing of ebXML: ebrim.ts is the
 * one place that writes it as ebRIM 3.0 and reads it back, as IPF separates its model from its
 * transformers.
 */

/** A coded value: ebRIM Classification with a codingScheme slot and a Name. */
export interface Code {
  readonly code: string;
  /** The code system OID (or, for IHE format codes, the coding scheme IHE names). */
  readonly codingScheme: string;
  readonly displayName: string;
}

/** HL7 v2 CX: an identifier and its assigning authority, `id^^^&OID&ISO^type`. */
export interface Cx {
  readonly id: string;
  /** OID of the assigning authority (CX.4.2, universal id type ISO). */
  readonly assigningAuthority: string;
  /** CX.5: NH (national health number: INS), PI (patient internal identifier: IPP)… */
  readonly identifierTypeCode?: string;
}

/** HL7 v2 XCN: a person, `id^family^given^^^^^^&OID&ISO^D^^^IDNPS` (french-specs §3.1). */
export interface Xcn {
  readonly id?: string;
  readonly family?: string;
  readonly given?: string;
  /** OID of the assigning authority (XCN.9.2). */
  readonly assigningAuthority?: string;
  /** XCN.10: D (person's name), U (unspecified: a system). */
  readonly nameTypeCode?: string;
  /** XCN.13: IDNPS (professional's IdNat), NH (patient), RI (resource: a device). */
  readonly identifierTypeCode?: string;
}

/** HL7 v2 XON: an organization, `name^^^^^&OID&ISO^IDNST^^^IdNat_Struct`. */
export interface Xon {
  readonly name: string;
  readonly id?: string;
  readonly assigningAuthority?: string;
  /** XON.7: IDNST (structure's IdNat). */
  readonly identifierTypeCode?: string;
}

/** The author classification of a DocumentEntry or SubmissionSet. */
export interface Author {
  readonly person?: Xcn;
  readonly institutions: readonly Xon[];
  /** authorRole (JDV_J47 label, from author/functionCode@displayName). */
  readonly roles: readonly string[];
  /** authorSpecialty as CE, `code^displayName^codeSystem` (JDV_J01). */
  readonly specialties: readonly string[];
}

/** ebRIM availability status of a registry object. */
export type AvailabilityStatus = string;

export interface DocumentEntry {
  /** `urn:uuid:…` given by the submitter (a symbolic id is also allowed by ebRIM, not used here). */
  readonly entryUUID: string;
  /** Stable across metadata updates (ITI-57); absent on a first submission. */
  readonly logicalId?: string;
  /** Version of the metadata (ITI-57); absent on a first submission. */
  readonly version?: string;
  readonly uniqueId: string;
  readonly availabilityStatus?: AvailabilityStatus;
  readonly mimeType: string;
  readonly title: string;
  readonly comments?: string;
  readonly typeCode: Code;
  readonly classCode: Code;
  readonly formatCode: Code;
  /** 1..4: the CDA confidentialityCode first, then the DMP masking codes. */
  readonly confidentialityCodes: readonly Code[];
  readonly eventCodes: readonly Code[];
  readonly healthcareFacilityTypeCode: Code;
  readonly practiceSettingCode: Code;
  /** HL7 v2 DTM in UTC, `YYYYMMDDhhmmss` (or shorter). */
  readonly creationTime: string;
  readonly serviceStartTime?: string;
  readonly serviceStopTime?: string;
  readonly languageCode: string;
  readonly authors: readonly Author[];
  readonly legalAuthenticator?: Xcn;
  readonly patientId: Cx;
  readonly sourcePatientId: Cx;
  /** PID fields, each as written in the slot: `PID-5|NOM^Prénom^^^^^L`, `PID-7|19970226`, `PID-8|F`. */
  readonly sourcePatientInfo: readonly string[];
  /** SHA-1 of the document's octets, lower-case hex. */
  readonly hash?: string;
  readonly size?: number;
  readonly repositoryUniqueId?: string;
  /** referenceIdList entries, each a CX string with its type (JDV_J197). */
  readonly referenceIds: readonly string[];
  /**
   * DocumentEntry.URI (ITI TF-3 §4.2.3.2): where the document is. Required in XDM (ITI-32), where
   * it is the document's file name relative to the folder of METADATA.XML (french-specs §4);
   * absent in XDS.b, where the repository holds the document.
   */
  readonly uri?: string;
}

export interface SubmissionSet {
  readonly entryUUID: string;
  readonly uniqueId: string;
  /** OID of the submitting system. */
  readonly sourceId: string;
  /** DTM in UTC. */
  readonly submissionTime: string;
  readonly contentTypeCode: Code;
  readonly patientId: Cx;
  readonly authors: readonly Author[];
  readonly title?: string;
  readonly comments?: string;
  readonly availabilityStatus?: AvailabilityStatus;
}

export interface Folder {
  readonly entryUUID: string;
  readonly uniqueId: string;
  readonly title: string;
  readonly patientId: Cx;
  readonly codes: readonly Code[];
  readonly lastUpdateTime?: string;
  readonly availabilityStatus?: AvailabilityStatus;
}

export interface Association {
  /** `urn:uuid:…` (or a symbolic id). */
  readonly id: string;
  /** An association type URN (vocabulary.ts ASSOCIATION_TYPE). */
  readonly type: string;
  readonly sourceObject: string;
  readonly targetObject: string;
  /** Slots by name: SubmissionSetStatus, PreviousVersion, OriginalStatus, NewStatus… */
  readonly slots: Readonly<Record<string, readonly string[]>>;
}

/** The registry objects of one submission (ITI-41, ITI-42, ITI-57) or of a query answer. */
export interface SubmissionRequest {
  readonly submissionSet: SubmissionSet;
  readonly documentEntries: readonly DocumentEntry[];
  readonly folders: readonly Folder[];
  readonly associations: readonly Association[];
}

/** One entry of an XDS RegistryErrorList, kept as data (never thrown). */
export interface RegistryError {
  /** XDS error code, e.g. XDSRegistryMetadataError, XDSDuplicateUniqueIdInRegistry. */
  readonly errorCode: string;
  readonly codeContext: string;
  readonly severity: 'Error' | 'Warning';
  readonly location?: string;
}

export type ResponseStatus = 'Success' | 'PartialSuccess' | 'Failure';

export interface RegistryResponse {
  readonly status: ResponseStatus;
  readonly errors: readonly RegistryError[];
}
