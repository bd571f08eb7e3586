/**
 * What the gateway should do with a DMP answer, decided once here: the XDS RegistryErrors stay
 * data on the result, and this table says whether trying again later may help. A code the table
 * does not know is permanent: sending the same thing again would hammer the DMP for nothing.
 */
import type { RegistryError, RegistryResponse } from '../../xds/model.js';
import { XDS_ERROR } from '../../xds/vocabulary.js';

export type Outcome = 'success' | 'retryable' | 'permanent';

export interface Verdict {
  readonly outcome: Outcome;
  /** The error that decided a failure (the first one, unless a permanent one came later). */
  readonly errorCode?: string;
  /** The uniqueId is already registered: a replay checks with ITI-18 and may count it as filed. */
  readonly duplicate: boolean;
}

/**
 * Temporary states of the registry or repository (ITI TF-3 Table 4.2.4.1-2: Busy, OutOfResources)
 * and their generic internal errors, which the profile describes as the actor's own failure.
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  XDS_ERROR.RegistryBusy,
  XDS_ERROR.RepositoryBusy,
  XDS_ERROR.RegistryOutOfResources,
  XDS_ERROR.RepositoryOutOfResources,
  XDS_ERROR.RegistryError,
  XDS_ERROR.RepositoryError,
]);

export function isRetryableRegistryError(error: RegistryError): boolean {
  return RETRYABLE_CODES.has(error.errorCode);
}

/**
 * Success and PartialSuccess with warnings only are filed; a Failure is retryable only when each
 * of its errors is, so that one permanent problem (bad metadata next to a busy repository) is
 * not retried forever.
 */
export function classifyRegistryResponse(response: RegistryResponse): Verdict {
  const errors = response.errors.filter((e) => e.severity === 'Error');
  const duplicate = errors.some((e) => e.errorCode === XDS_ERROR.DuplicateUniqueIdInRegistry);
  if (response.status !== 'Failure' && errors.length === 0) return { outcome: 'success', duplicate: false };
  const permanent = errors.find((e) => !isRetryableRegistryError(e));
  const deciding = permanent ?? errors[0];
  return {
    outcome: permanent !== undefined || errors.length === 0 ? 'permanent' : 'retryable',
    ...(deciding === undefined ? {} : { errorCode: deciding.errorCode }),
    duplicate,
  };
}
