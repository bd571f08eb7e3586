/**
 * ITI-57 Update Document Set (ITI TF-2b §3.57; the DMP's TD3.3): the two operations the DMP client
 * needs, as SubmissionRequests that submitObjectsRequestXml writes (ITI-57 is a lcm:SubmitObjectsRequest
 * sent with the UpdateDocumentSet action).
 *
 * - A change of availabilityStatus (§3.57.4.1.3.3, "Update DocumentEntry Status"): a SubmissionSet and
 *   one UpdateAvailabilityStatus association from it to the object, with OriginalStatus and NewStatus,
 *   and no HasMember. The DMP's delete (TD3.3c) and archive (TD3.3d) are such changes, to
 *   urn:asip:ci-sis:2010:StatusType:Deleted or :Archived, as the ANS DRIMbox DeleteRequest sends them
 *   (french-specs §3.4).
 * - A metadata update (§3.57.4.1.3.3, "Update DocumentEntry Metadata"): a new version of the
 *   DocumentEntry (new entryUUID, same logicalId) that the SubmissionSet HasMember, with
 *   SubmissionSetStatus Original and PreviousVersion, the version it replaces. Masking to
 *   professionals and visibility to the patient or to the legal representatives (TD3.3a, TD3.3b) are
 *   such updates of the confidentialityCodes.
 */
import type { DocumentEntry, SubmissionRequest, SubmissionSet } from './model.js';
import { ASSOCIATION_SLOT, ASSOCIATION_TYPE, SUBMISSION_SET_STATUS } from './vocabulary.js';

export function availabilityStatusUpdate(o: {
  readonly submissionSet: SubmissionSet;
  readonly targetEntryUUID: string;
  readonly originalStatus: string;
  readonly newStatus: string;
  readonly associationId: string;
}): SubmissionRequest {
  return {
    submissionSet: o.submissionSet,
    documentEntries: [],
    folders: [],
    associations: [{
      id: o.associationId,
      type: ASSOCIATION_TYPE.UPDATE_AVAILABILITY_STATUS,
      sourceObject: o.submissionSet.entryUUID,
      targetObject: o.targetEntryUUID,
      slots: { [ASSOCIATION_SLOT.ORIGINAL_STATUS]: [o.originalStatus], [ASSOCIATION_SLOT.NEW_STATUS]: [o.newStatus] },
    }],
  };
}

/** `entry` is the new version: a fresh entryUUID, the logicalId of the entry it updates; `previousVersion` is the version it replaces. */
export function metadataUpdate(o: {
  readonly submissionSet: SubmissionSet;
  readonly entry: DocumentEntry;
  readonly previousVersion: string;
  readonly associationId: string;
}): SubmissionRequest {
  // ITI-57: the registry links versions by logicalId; a new version under the old entryUUID, or without lid, is refused.
  if (o.entry.logicalId === undefined) throw new RangeError('a metadata update needs the logicalId of the DocumentEntry it updates');
  if (o.entry.logicalId === o.entry.entryUUID) throw new RangeError('a new version of a DocumentEntry needs a new entryUUID, distinct from its logicalId');
  return {
    submissionSet: o.submissionSet,
    documentEntries: [o.entry],
    folders: [],
    associations: [{
      id: o.associationId,
      type: ASSOCIATION_TYPE.HAS_MEMBER,
      sourceObject: o.submissionSet.entryUUID,
      targetObject: o.entry.entryUUID,
      slots: { [ASSOCIATION_SLOT.SUBMISSION_SET_STATUS]: [SUBMISSION_SET_STATUS.ORIGINAL], [ASSOCIATION_SLOT.PREVIOUS_VERSION]: [o.previousVersion] },
    }],
  };
}
