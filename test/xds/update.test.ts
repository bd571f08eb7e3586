import { expect } from 'chai';
import { parseSubmitObjectsRequest, submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import { availabilityStatusUpdate, metadataUpdate } from '../../src/xds/update.js';
import { ASSOCIATION_TYPE, STATUS } from '../../src/xds/vocabulary.js';
import { ENTRY_ID, SUBMISSION_SET_ID, documentEntry, submissionSet } from '../support/xds.js';

const ASSOCIATION_ID = 'urn:uuid:b1000000-0000-4000-8000-000000000001';
const NEW_VERSION_ID = 'urn:uuid:c1000000-0000-4000-8000-000000000001';
const NORMAL = { code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' };
const MASQUE_PS = { code: 'MASQUE_PS', codingScheme: '1.2.250.1.213.1.1.4.13', displayName: 'Masqué aux professionnels de santé' };

describe('ITI-57 Update Document Set', () => {
  it('deletes a document as the DMP does: an UpdateAvailabilityStatus from the submission set, Approved to Deleted, and nothing else', () => {
    const request = availabilityStatusUpdate({ submissionSet: submissionSet(), targetEntryUUID: ENTRY_ID, originalStatus: STATUS.APPROVED, newStatus: STATUS.DELETED, associationId: ASSOCIATION_ID });
    expect(request).to.deep.equal({
      submissionSet: submissionSet(),
      documentEntries: [],
      folders: [],
      associations: [{
        id: ASSOCIATION_ID,
        type: 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus',
        sourceObject: SUBMISSION_SET_ID,
        targetObject: ENTRY_ID,
        slots: { OriginalStatus: ['urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'], NewStatus: ['urn:asip:ci-sis:2010:StatusType:Deleted'] },
      }],
    });
    const xml = submitObjectsRequestXml(request);
    expect(xml).to.match(/<rim:Association id="urn:uuid:b1000000-0000-4000-8000-000000000001" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"/);
    expect(xml.indexOf('OriginalStatus')).to.be.lessThan(xml.indexOf('NewStatus'));
    expect(xml).not.to.contain('HasMember');
    expect(parseSubmitObjectsRequest(xml)).to.deep.equal(request);
  });

  it('archives and unarchives with the same change of status', () => {
    const archive = availabilityStatusUpdate({ submissionSet: submissionSet(), targetEntryUUID: ENTRY_ID, originalStatus: STATUS.APPROVED, newStatus: STATUS.ARCHIVED, associationId: ASSOCIATION_ID });
    expect(archive.associations[0]?.slots).to.deep.equal({ OriginalStatus: [STATUS.APPROVED], NewStatus: ['urn:asip:ci-sis:2010:StatusType:Archived'] });
    const unarchive = availabilityStatusUpdate({ submissionSet: submissionSet(), targetEntryUUID: ENTRY_ID, originalStatus: STATUS.ARCHIVED, newStatus: STATUS.APPROVED, associationId: ASSOCIATION_ID });
    expect(parseSubmitObjectsRequest(submitObjectsRequestXml(unarchive))).to.deep.equal(unarchive);
  });

  it('masks a document to professionals as a new version of its metadata: new entryUUID, same lid, HasMember with PreviousVersion', () => {
    const masked = documentEntry({ entryUUID: NEW_VERSION_ID, logicalId: ENTRY_ID, confidentialityCodes: [NORMAL, MASQUE_PS] });
    const request = metadataUpdate({ submissionSet: submissionSet(), entry: masked, previousVersion: '1', associationId: ASSOCIATION_ID });
    expect(request.documentEntries).to.deep.equal([masked]);
    expect(request.associations).to.deep.equal([{
      id: ASSOCIATION_ID, type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: SUBMISSION_SET_ID, targetObject: NEW_VERSION_ID, slots: { SubmissionSetStatus: ['Original'], PreviousVersion: ['1'] },
    }]);
    const xml = submitObjectsRequestXml(request);
    expect(xml).to.contain(`<rim:ExtrinsicObject id="${NEW_VERSION_ID}" lid="${ENTRY_ID}"`);
    expect(xml).to.contain('nodeRepresentation="MASQUE_PS"');
    expect(parseSubmitObjectsRequest(xml)).to.deep.equal(request);
  });

  it('unmasks with a version whose confidentiality codes no longer hold MASQUE_PS', () => {
    const unmasked = documentEntry({ entryUUID: NEW_VERSION_ID, logicalId: ENTRY_ID, confidentialityCodes: [NORMAL] });
    const xml = submitObjectsRequestXml(metadataUpdate({ submissionSet: submissionSet(), entry: unmasked, previousVersion: '2', associationId: ASSOCIATION_ID }));
    expect(xml).not.to.contain('MASQUE_PS');
    expect(xml).to.match(/<rim:Slot name="PreviousVersion">\s*<rim:ValueList>\s*<rim:Value>2<\/rim:Value>/);
  });

  it('refuses a new version without the logicalId it updates, or under the entryUUID it replaces', () => {
    expect(() => metadataUpdate({ submissionSet: submissionSet(), entry: documentEntry({ entryUUID: NEW_VERSION_ID }), previousVersion: '1', associationId: ASSOCIATION_ID })).to.throw(RangeError, /logicalId/);
    expect(() => metadataUpdate({ submissionSet: submissionSet(), entry: documentEntry({ logicalId: ENTRY_ID }), previousVersion: '1', associationId: ASSOCIATION_ID })).to.throw(RangeError, /new entryUUID/);
  });
});
