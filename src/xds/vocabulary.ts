/**
 * The identifiers XDS.b metadata is made of, each from the specification that defines it:
 * IHE ITI TF-3 §4.2.5 (ebRIM UUIDs, association types, statuses), ITI TF-2a §3.18 (stored
 * queries), ebRS 3.0 (response statuses), and the French extensions (french-specs §3).
 * The UUIDs were checked against IPF's Vocabulary (french-specs §3.1).
 */

export const NS = {
  RIM: 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0',
  RS: 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0',
  LCM: 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0',
  QUERY: 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0',
  XDS_B: 'urn:ihe:iti:xds-b:2007',
  /** ITI-57 adds no namespace of its own: it is a lcm:SubmitObjectsRequest. */
  XOP: 'http://www.w3.org/2004/08/xop/include',
} as const;

/** ITI TF-3 Table 4.2.5-1: the DocumentEntry's classification schemes and identification schemes. */
export const DOCUMENT_ENTRY = {
  /** objectType of a stable DocumentEntry. */
  OBJECT_TYPE_STABLE: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  /** objectType of an on-demand DocumentEntry (never submitted by Passerelle). */
  OBJECT_TYPE_ON_DEMAND: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248',
  AUTHOR: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
  CLASS_CODE: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
  CONFIDENTIALITY_CODE: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
  EVENT_CODE_LIST: 'urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4',
  FORMAT_CODE: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
  HEALTHCARE_FACILITY_TYPE_CODE: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
  PRACTICE_SETTING_CODE: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
  TYPE_CODE: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
  PATIENT_ID: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  UNIQUE_ID: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
} as const;

/** ITI TF-3 Table 4.2.5-2 (caution: the ASIP XSL uses the DocumentEntry uniqueId UUID for patientId; this is the right one). */
export const SUBMISSION_SET = {
  /** The ClassificationNode a RegistryPackage is classified by to be a SubmissionSet. */
  CLASSIFICATION_NODE: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  AUTHOR: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
  CONTENT_TYPE_CODE: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
  PATIENT_ID: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  SOURCE_ID: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
  UNIQUE_ID: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
} as const;

/** ITI TF-3 Table 4.2.5-3. */
export const FOLDER = {
  CLASSIFICATION_NODE: 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2',
  CODE_LIST: 'urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5',
  PATIENT_ID: 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a',
  UNIQUE_ID: 'urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a',
} as const;

/** ebRIM object types of the objects Passerelle writes (ebRIM 3.0 §2.x canonical ObjectType). */
export const OBJECT_TYPE = {
  REGISTRY_PACKAGE: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage',
  CLASSIFICATION: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  EXTERNAL_IDENTIFIER: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
  ASSOCIATION: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
} as const;

/** ITI TF-3 §4.2.2: association types. */
export const ASSOCIATION_TYPE = {
  HAS_MEMBER: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  /** Replacement: the new document replaces the target (TD2.1 of the DMP). */
  RPLC: 'urn:ihe:iti:2007:AssociationType:RPLC',
  XFRM: 'urn:ihe:iti:2007:AssociationType:XFRM',
  APND: 'urn:ihe:iti:2007:AssociationType:APND',
  XFRM_RPLC: 'urn:ihe:iti:2007:AssociationType:XFRM_RPLC',
  /** The submission-set signature document signs the submission set (IHE DSG; DRIMbox). */
  SIGNS: 'urn:ihe:iti:2007:AssociationType:signs',
  /** ITI-57: change of a registry object's availabilityStatus. */
  UPDATE_AVAILABILITY_STATUS: 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus',
} as const;

/** availabilityStatus values: ebRIM, and the DMP's archive and delete statuses (DRIMbox DeleteRequest; french-specs §3.1). */
export const STATUS = {
  APPROVED: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
  DEPRECATED: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated',
  SUBMITTED: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted',
  ARCHIVED: 'urn:asip:ci-sis:2010:StatusType:Archived',
  DELETED: 'urn:asip:ci-sis:2010:StatusType:Deleted',
} as const;

/** ebRS 3.0 and ITI TF-3 §4.2.4: RegistryResponse status and error severity. */
export const RESPONSE_STATUS = {
  Success: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success',
  Failure: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure',
  PartialSuccess: 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess',
} as const;
export const ERROR_SEVERITY = {
  Error: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error',
  Warning: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning',
} as const;

/** ITI TF-2a §3.18.4.1.2.3.7: stored query ids. */
export const STORED_QUERY = {
  FindDocuments: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
  FindSubmissionSets: 'urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9',
  FindFolders: 'urn:uuid:958f3006-baad-4929-a4de-ff1114824431',
  GetAll: 'urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3',
  GetDocuments: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
  GetAssociations: 'urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155',
  GetDocumentsAndAssociations: 'urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a',
  GetRelatedDocuments: 'urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6',
  FindDocumentsByReferenceId: 'urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492',
} as const;

/** SOAP actions of the four transactions and of their responses (ITI TF-2a/2b, the IHE WSDLs). */
export const ACTION = {
  ITI_41: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  ITI_41_RESPONSE: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse',
  ITI_18: 'urn:ihe:iti:2007:RegistryStoredQuery',
  ITI_18_RESPONSE: 'urn:ihe:iti:2007:RegistryStoredQueryResponse',
  ITI_43: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  ITI_43_RESPONSE: 'urn:ihe:iti:2007:RetrieveDocumentSetResponse',
  ITI_57: 'urn:ihe:iti:2010:UpdateDocumentSet',
  ITI_57_RESPONSE: 'urn:ihe:iti:2010:UpdateDocumentSetResponse',
} as const;

/** The standard XDS error codes (ITI TF-3 Table 4.2.4.1-2, ITI-57 §3.57.4.1.3.5) the sandbox answers and the client classifies. */
export const XDS_ERROR = {
  RegistryMetadataError: 'XDSRegistryMetadataError',
  RepositoryMetadataError: 'XDSRepositoryMetadataError',
  PatientIdDoesNotMatch: 'XDSPatientIdDoesNotMatch',
  DuplicateUniqueIdInRegistry: 'XDSDuplicateUniqueIdInRegistry',
  UnknownPatientId: 'XDSUnknownPatientId',
  RegistryError: 'XDSRegistryError',
  RepositoryError: 'XDSRepositoryError',
  RegistryBusy: 'XDSRegistryBusy',
  RepositoryBusy: 'XDSRepositoryBusy',
  RegistryOutOfResources: 'XDSRegistryOutOfResources',
  RepositoryOutOfResources: 'XDSRepositoryOutOfResources',
  RegistryDeprecatedDocumentError: 'XDSRegistryDeprecatedDocumentError',
  MissingDocument: 'XDSMissingDocument',
  MissingDocumentMetadata: 'XDSMissingDocumentMetadata',
  NonIdenticalHash: 'XDSNonIdenticalHash',
  NonIdenticalSize: 'XDSNonIdenticalSize',
  UnknownRepositoryId: 'XDSUnknownRepositoryId',
  DocumentUniqueIdError: 'XDSDocumentUniqueIdError',
  StoredQueryMissingParam: 'XDSStoredQueryMissingParam',
  StoredQueryParamNumber: 'XDSStoredQueryParamNumber',
  UnknownStoredQuery: 'XDSUnknownStoredQuery',
  TooManyResults: 'XDSTooManyResults',
  ResultNotSinglePatient: 'XDSResultNotSinglePatient',
  ReplaceFailed: 'XDSReplaceFailed',
  MetadataUpdateError: 'XDSMetadataUpdateError',
  MetadataVersionError: 'XDSMetadataVersionError',
  MetadataUpdateOperationError: 'XDSMetadataUpdateOperationError',
  UnresolvedReferenceException: 'UnresolvedReferenceException',
} as const;

// ---------------------------------------------------------------------------------------------
// Section of the ebRIM serializer and readers (ebrim.ts, query.ts, retrieve.ts, update.ts).
// ---------------------------------------------------------------------------------------------

/** Slot names of DocumentEntry, SubmissionSet and Folder attributes (ITI TF-3 §4.2.3.2–4.2.3.4) and of their author and codes. */
export const SLOT = {
  CREATION_TIME: 'creationTime',
  LANGUAGE_CODE: 'languageCode',
  SERVICE_START_TIME: 'serviceStartTime',
  SERVICE_STOP_TIME: 'serviceStopTime',
  SOURCE_PATIENT_ID: 'sourcePatientId',
  SOURCE_PATIENT_INFO: 'sourcePatientInfo',
  HASH: 'hash',
  SIZE: 'size',
  REPOSITORY_UNIQUE_ID: 'repositoryUniqueId',
  LEGAL_AUTHENTICATOR: 'legalAuthenticator',
  /** DocumentEntry.referenceIdList (ITI TF-3 §4.2.3.2), a slot named by URN unlike the others. */
  REFERENCE_ID_LIST: 'urn:ihe:iti:xds:2013:referenceIdList',
  /** DocumentEntry.URI (ITI TF-3 §4.2.3.2): the document's file in an XDM subset. */
  URI: 'URI',
  SUBMISSION_TIME: 'submissionTime',
  LAST_UPDATE_TIME: 'lastUpdateTime',
  /** The code system of a coded Classification (ITI TF-3 §4.2.3.1.7). */
  CODING_SCHEME: 'codingScheme',
  AUTHOR_PERSON: 'authorPerson',
  AUTHOR_INSTITUTION: 'authorInstitution',
  AUTHOR_ROLE: 'authorRole',
  AUTHOR_SPECIALTY: 'authorSpecialty',
} as const;

/** Association slots: HasMember (ITI TF-3 §4.2.2.1.2), ITI-57 metadata update and status change (ITI TF-2b §3.57.4.1.3.3). */
export const ASSOCIATION_SLOT = {
  SUBMISSION_SET_STATUS: 'SubmissionSetStatus',
  PREVIOUS_VERSION: 'PreviousVersion',
  ORIGINAL_STATUS: 'OriginalStatus',
  NEW_STATUS: 'NewStatus',
} as const;

/** Values of the HasMember SubmissionSetStatus slot (ITI TF-3 §4.2.2.1.2). */
export const SUBMISSION_SET_STATUS = { ORIGINAL: 'Original', REFERENCE: 'Reference' } as const;

/** The Name each ExternalIdentifier carries (ITI TF-3 Tables 4.2.5-1 to 4.2.5-3). */
export const EXTERNAL_IDENTIFIER_NAME = {
  DOCUMENT_ENTRY_PATIENT_ID: 'XDSDocumentEntry.patientId',
  DOCUMENT_ENTRY_UNIQUE_ID: 'XDSDocumentEntry.uniqueId',
  SUBMISSION_SET_PATIENT_ID: 'XDSSubmissionSet.patientId',
  SUBMISSION_SET_UNIQUE_ID: 'XDSSubmissionSet.uniqueId',
  SUBMISSION_SET_SOURCE_ID: 'XDSSubmissionSet.sourceId',
  FOLDER_PATIENT_ID: 'XDSFolder.patientId',
  FOLDER_UNIQUE_ID: 'XDSFolder.uniqueId',
} as const;

/** Stored query parameters Passerelle writes and the sandbox reads (ITI TF-2a §3.18.4.1.2.3.7.1 and .5). */
export const QUERY_PARAMETER = {
  PATIENT_ID: '$XDSDocumentEntryPatientId',
  STATUS: '$XDSDocumentEntryStatus',
  TYPE_CODE: '$XDSDocumentEntryTypeCode',
  UNIQUE_ID: '$XDSDocumentEntryUniqueId',
  ENTRY_UUID: '$XDSDocumentEntryEntryUUID',
  HOME_COMMUNITY_ID: '$homeCommunityId',
} as const;

// ---------------------------------------------------------------------------------------------
// Section of the CDA → XDS mapping (map-cda.ts, signature-entry.ts, hl7v2.ts).
// ---------------------------------------------------------------------------------------------

/** The coding schemes of the codes the mapping writes (french-specs §3.1–3.3). */
export const CODING_SCHEME = {
  /** TRE_A03-ClasseDocument: classCode values of JDV_J57-ClassCode-DMP. */
  CLASS_CODE: '1.2.250.1.213.1.1.4.1',
  /** TRE_A11-IheFormatCode: IHE format codes (french-specs §3.2, the ASIP XSL and DRIMbox). */
  IHE_FORMAT_CODE: '1.3.6.1.4.1.19376.1.2.3',
  /** TRE_A06-FormatCodeComplementaire: the CI-SIS format codes `urn:asip:ci-sis:*` (french-specs §3.2). */
  ASIP_FORMAT_CODE: '1.2.250.1.213.1.1.4.2.282',
  /** HL7 v3 Confidentiality: the CDA confidentialityCode N, R, V (JDV_J08). */
  HL7_CONFIDENTIALITY: '2.16.840.1.113883.5.25',
  /** The DMP masking and visibility codes (JDV_J08, french-specs §3.3). */
  DMP_CONFIDENTIALITY: '1.2.250.1.213.1.1.4.13',
  /** TRE_A10-NomenclatureURN, whose "OID" is the string URN: codes that are URNs themselves (JDV_J57, JDV_J60). */
  URN: 'URN',
  /** ASTM E1762 document types, as ASS_X04 names the scheme of `E1762`. */
  ASTM: 'ASTM',
  /** ASTM E1762 / ISO 17090 signature purposes (IHE DSG). */
  ASTM_SIGNATURE_PURPOSE: '1.2.840.10065.1.12',
} as const;

/** mimeType of a CDA document entry (french-specs §3.1). */
export const CDA_MIME_TYPE = 'text/xml';

/** JDV_J08-XdsConfidentialityCode-CISIS (ANS kit jeuxDeValeurs/JDV_J08_XdsConfidentialityCode_CISIS.xml): the DMP masking codes. */
export const DMP_MASKING_CODE = {
  HIDDEN_FROM_PROFESSIONALS: { code: 'MASQUE_PS', codingScheme: CODING_SCHEME.DMP_CONFIDENTIALITY, displayName: 'Masqué aux professionnels de santé' },
  HIDDEN_FROM_PATIENT: { code: 'INVISIBLE_PATIENT', codingScheme: CODING_SCHEME.DMP_CONFIDENTIALITY, displayName: 'Non visible par le patient' },
  HIDDEN_FROM_LEGAL_REPRESENTATIVES: { code: 'INVISIBLE_REPRESENTANTS_LEGAUX', codingScheme: CODING_SCHEME.DMP_CONFIDENTIALITY, displayName: 'Non visible par les représentants légaux du patient' },
} as const;

/** The same value set's HL7 codes, by code: the label of the CDA confidentialityCode when the CDA gives none. */
export const HL7_CONFIDENTIALITY_LABEL: Readonly<Record<string, string>> = { N: 'Normal', R: 'Restreint', V: 'Très restreint' };

/** CX.5 of patient identifiers (HL7 v2 Table 0203; french-specs §3.1): the INS is NH, a local IPP is PI. */
export const PATIENT_ID_TYPE = { INS: 'NH', LOCAL: 'PI' } as const;

/** XCN.10 and XCN.13 of authors and legal authenticators (french-specs §3.1, PDSM4DMP logical models). */
export const PERSON_NAME_TYPE = { PERSON: 'D', SYSTEM: 'U' } as const;
export const PERSON_ID_TYPE = { PROFESSIONAL: 'IDNPS', PATIENT: 'NH', DEVICE: 'RI' } as const;
/** XON.7 of an organization identified by its IdNat_Struct. */
export const ORGANIZATION_ID_TYPE = { STRUCTURE: 'IDNST' } as const;

/**
 * The submission-set signature's DocumentEntry (IHE DSG; french-specs §3.4 and addendum), with the
 * coding schemes of the DMP value sets: classCode and formatCode from TRE_A10 (`URN`, JDV_J57 and
 * JDV_J60-FormatCode-DMP), typeCode `E1762` in ASTM (ASS_X04), as DRIMbox's DocumentEntry.java sends them.
 */
export const SIGNATURE_ENTRY = {
  CLASS_CODE: { code: 'urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1', codingScheme: CODING_SCHEME.URN, displayName: 'Digital Signature' },
  TYPE_CODE: { code: 'E1762', codingScheme: CODING_SCHEME.ASTM, displayName: 'Full Document' },
  FORMAT_CODE: { code: 'http://www.w3.org/2000/09/xmldsig#', codingScheme: CODING_SCHEME.URN, displayName: 'Default signature style' },
  /** The signature's purpose: the author is the source of what is signed. */
  EVENT_CODE: { code: '1.2.840.10065.1.12.1.14', codingScheme: CODING_SCHEME.ASTM_SIGNATURE_PURPOSE, displayName: 'Source' },
  CONFIDENTIALITY_CODE: { code: 'N', codingScheme: CODING_SCHEME.HL7_CONFIDENTIALITY, displayName: 'Normal' },
  /** ISO 639-2 `art` (artificial language): a signature is not written in a human language (IHE DSG). */
  LANGUAGE_CODE: 'art',
  MIME_TYPE: 'text/xml',
  TITLE: 'Source',
} as const;
