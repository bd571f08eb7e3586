/**
 * The act report: TypeScript mirror of schemas/json/act-report.schema.json (the JSON contract).
 * The schema is the authority; test/intake/act-report-schema.test.ts keeps the two in step by
 * validating every fixture against the schema and reading it through these types.
 */
import type { ActType } from './act.js';

export interface CodedValue {
  readonly code: string;
  readonly displayName: string;
  readonly codeSystem: string;
}

export interface InstanceIdentifier {
  readonly root: string;
  readonly extension?: string;
}

export type IdentityStatus = 'PROVISIONAL' | 'RECOVERED' | 'VALIDATED' | 'QUALIFIED';

export interface Patient {
  readonly ins?: { readonly value: string; readonly oid: string };
  readonly identityStatus: IdentityStatus;
  readonly birthFamilyName: string;
  readonly birthGivenNames?: string;
  readonly firstBirthGivenName: string;
  readonly sex: 'M' | 'F' | 'U';
  readonly birthDate: string;
  readonly birthPlaceCode?: string;
  readonly usedFamilyName?: string;
  readonly usedGivenName?: string;
  readonly localIdentifiers?: readonly { readonly value: string; readonly assigningAuthority: string; readonly type?: 'IPP' | 'OTHER' }[];
}

export interface OrganizationRef {
  readonly idNatStruct: string;
  readonly name: string;
  readonly practiceSetting?: CodedValue;
}

export interface Professional {
  readonly idNatPs: string;
  readonly familyName: string;
  readonly givenName?: string;
  /** JDV_J245 civilité, written in name/prefix. */
  readonly civility?: 'M' | 'MME';
  /** JDV_J246 title, written in name/suffix. */
  readonly title?: 'DR' | 'PR' | 'MC' | 'MG' | 'PC' | 'PG';
  readonly profession: CodedValue;
  readonly specialty?: CodedValue;
  readonly mssanteAddress?: string;
  readonly organization?: OrganizationRef;
}

export interface ProfessionalPresent extends Professional {
  readonly actCode?: string;
}

export type PrimaryCarePhysician =
  | { readonly status: 'KNOWN'; readonly professional: Professional }
  | { readonly status: 'NONE' | 'UNKNOWN'; readonly note?: string };

export interface Treatment {
  readonly description: string;
  readonly code?: CodedValue;
  /** Dates as YYYY-MM-DD. */
  readonly start?: string;
  readonly end?: string;
  readonly dosage?: string;
}

export interface ActReport {
  readonly externalId?: string;
  readonly act: {
    readonly type: ActType;
    readonly code: string;
    readonly teleExpertiseLevel?: 1 | 2;
    readonly start: string;
    readonly end: string;
    readonly modality: 'VIDEO' | 'AUDIO' | 'ASYNCHRONOUS' | 'DEVICE_DATA';
    readonly requestedAt?: string;
    readonly requestId?: InstanceIdentifier;
  };
  readonly patient: Patient;
  readonly professionals: {
    readonly author: Professional;
    readonly legalAuthenticator: Professional;
    readonly requester?: Professional;
    readonly primaryCarePhysician: PrimaryCarePhysician;
    readonly presentWithPatient?: readonly ProfessionalPresent[];
  };
  readonly organization: {
    readonly idNatStruct: string;
    readonly name: string;
    readonly facilityType: CodedValue;
    readonly practiceSetting: CodedValue;
  };
  readonly report: {
    readonly title: string;
    readonly pdf?: string;
    readonly text?: string;
    readonly sections?: readonly { readonly code?: CodedValue; readonly title: string; readonly text: string }[];
  };
  readonly request?: {
    readonly reason: string;
    readonly treatments?: readonly Treatment[];
  };
  readonly actsPerformed: readonly { readonly code: CodedValue; readonly at?: string; readonly performerIdNatPs?: string }[];
  readonly prescriptions: readonly {
    readonly kind: 'MEDICATION' | 'BIOLOGY' | 'IMAGING' | 'DEVICE' | 'CARE' | 'OTHER';
    readonly description: string;
    readonly code?: CodedValue;
  }[];
  readonly technicalIncidents: readonly {
    readonly kind: 'CONNECTION_LOST' | 'AUDIO' | 'VIDEO' | 'DEVICE' | 'DATA_TRANSFER' | 'OTHER';
    readonly at?: string;
    readonly description: string;
    readonly impact?: 'NONE' | 'ACT_DEGRADED' | 'ACT_INTERRUPTED' | 'ACT_RESCHEDULED';
  }[];
  readonly consent: {
    readonly informed: boolean;
    readonly given: boolean;
    readonly at: string;
    readonly method: 'ORAL' | 'WRITTEN' | 'ELECTRONIC';
    readonly collectedByIdNatPs?: string;
  };
  readonly sharing: {
    readonly fileInDmp: boolean;
    readonly dmpOpposition: boolean;
    readonly confidentiality: 'N' | 'R' | 'V';
    readonly masking?: {
      readonly hiddenFromProfessionals?: boolean;
      readonly hiddenFromPatient?: boolean;
      readonly hiddenFromLegalRepresentatives?: boolean;
    };
  };
  readonly recipients?: readonly { readonly mssanteAddress: string; readonly idNatPs?: string; readonly familyName?: string; readonly givenName?: string }[];
  readonly context?: { readonly usage?: string; readonly platform?: string; readonly contractReference?: string };
  readonly replaces?:
    | { readonly submissionId: string }
    | { readonly documentId: InstanceIdentifier; readonly setId: InstanceIdentifier; readonly versionNumber: number };
}
