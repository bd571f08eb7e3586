/**
 * TD0.2, "does this patient have a DMP, and is it open?", before feeding it (french-specs §3.4):
 * an HL7 v3 Patient Registry Get Demographics Query (PRPA_IN201307UV02) on the `patients`
 * service, answered by PRPA_IN201308UV02. The DMP's exact use of the answer is in SEL-MP-037,
 * which is not public [UNVERIFIED]: this reads the query response code (OK / NF) and the
 * registration event's status (active / completed = closed), the HL7 v3 meaning of each.
 * Whether the patient objects is not the DMP's to say: the platform collects it (consent), and
 * `feedingDecision` combines both.
 */
import { create } from 'xmlbuilder2';
import { PasserelleError } from '../../domain/errors.js';
import type { Cx } from '../../xds/model.js';
import { XdsFormatError, findMessage, firstChild, readXml, type XmlElement } from '../../xds/xml-read.js';

export const HL7_V3_NS = 'urn:hl7-org:v3';
/** HL7 v3 interaction ids (HL7 v3 Normative Edition, PRPA domain). */
export const TD02_ACTION = 'urn:hl7-org:v3:PRPA_IN201307UV02';
export const TD02_RESPONSE_ACTION = 'urn:hl7-org:v3:PRPA_IN201308UV02';
const INTERACTION_ROOT = '2.16.840.1.113883.1.6';

/** A patient's DMP as TD0.2 reports it: open, closed, or none at all. */
export type DmpState = 'active' | 'closed' | 'none';

export function patientStatusQueryXml(o: { patientId: Cx; messageId: string; creationTime: string; senderId: string }): string {
  const root = create().ele(HL7_V3_NS, 'PRPA_IN201307UV02', { ITSVersion: 'XML_1.0' });
  root.ele('id', { root: o.messageId });
  root.ele('creationTime', { value: o.creationTime });
  root.ele('interactionId', { root: INTERACTION_ROOT, extension: 'PRPA_IN201307UV02' });
  root.ele('processingCode', { code: 'P' });
  root.ele('processingModeCode', { code: 'T' });
  root.ele('acceptAckCode', { code: 'AL' });
  root.ele('sender', { typeCode: 'SND' }).ele('device', { classCode: 'DEV', determinerCode: 'INSTANCE' }).ele('id', { root: o.senderId });
  const query = root.ele('controlActProcess', { classCode: 'CACT', moodCode: 'EVN' });
  query.ele('code', { code: 'PRPA_TE201307UV02', codeSystem: INTERACTION_ROOT });
  const parameters = query.ele('queryByParameter');
  parameters.ele('queryId', { root: o.messageId });
  parameters.ele('statusCode', { code: 'new' });
  parameters.ele('responsePriorityCode', { code: 'I' });
  const id = parameters.ele('parameterList').ele('patientIdentifier');
  id.ele('value', { root: o.patientId.assigningAuthority, extension: o.patientId.id });
  id.ele('semanticsText').txt('Patient.id');
  return root.end({ headless: true });
}

export function patientStatusResponseXml(o: { state: DmpState; messageId: string; creationTime: string }): string {
  const root = create().ele(HL7_V3_NS, 'PRPA_IN201308UV02', { ITSVersion: 'XML_1.0' });
  root.ele('id', { root: o.messageId });
  root.ele('creationTime', { value: o.creationTime });
  root.ele('interactionId', { root: INTERACTION_ROOT, extension: 'PRPA_IN201308UV02' });
  root.ele('acknowledgement').ele('typeCode', { code: 'AA' });
  const act = root.ele('controlActProcess', { classCode: 'CACT', moodCode: 'EVN' });
  if (o.state !== 'none') act.ele('subject', { typeCode: 'SUBJ' }).ele('registrationEvent', { classCode: 'REG', moodCode: 'EVN' }).ele('statusCode', { code: o.state === 'active' ? 'active' : 'completed' });
  act.ele('queryAck').ele('queryResponseCode', { code: o.state === 'none' ? 'NF' : 'OK' });
  return root.end({ headless: true });
}

/** The HL7 v3 message `name`, alone or as a SOAP body, read as every XDS answer is (xml-read.ts). */
function readHl7v3(xml: string, name: string): XmlElement {
  try {
    return findMessage(readXml(xml), [name]);
  } catch (error) {
    if (error instanceof XdsFormatError) throw new PasserelleError('partner-rejected', `the DMP's TD0.2 message cannot be read: ${error.message}`);
    throw error;
  }
}

/** The element at the end of a path of child names, if every step is there. */
function at(element: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  return path.reduce<XmlElement | undefined>((node, name) => (node === undefined ? undefined : firstChild(node, name)), element);
}

/** The INS a TD0.2 query asks about (for the sandbox). */
export function parsePatientStatusQuery(xml: string): Cx | undefined {
  const value = at(readHl7v3(xml, 'PRPA_IN201307UV02'), 'controlActProcess', 'queryByParameter', 'parameterList', 'patientIdentifier', 'value');
  const root = value?.attributes.root;
  const extension = value?.attributes.extension;
  return root !== undefined && extension !== undefined ? { id: extension, assigningAuthority: root, identifierTypeCode: 'NH' } : undefined;
}

export function parsePatientStatusResponse(xml: string): DmpState {
  const root = readHl7v3(xml, 'PRPA_IN201308UV02');
  const ack = at(root, 'acknowledgement', 'typeCode')?.attributes.code;
  if (ack !== 'AA') throw new PasserelleError('partner-rejected', `the DMP refused the TD0.2 query (acknowledgement ${ack ?? 'missing'})`);
  const response = at(root, 'controlActProcess', 'queryAck', 'queryResponseCode')?.attributes.code;
  if (response === 'NF') return 'none';
  if (response !== 'OK') throw new PasserelleError('partner-rejected', `the DMP answered the TD0.2 query with ${response ?? 'no'} query response code`);
  return at(root, 'controlActProcess', 'subject', 'registrationEvent', 'statusCode')?.attributes.code === 'active' ? 'active' : 'closed';
}

export interface FeedingDecision {
  readonly feed: boolean;
  /** Why not, for the submission's record: stable codes, no health data. */
  readonly reason?: 'not-requested' | 'patient-objects' | 'no-dmp' | 'dmp-closed';
}

/**
 * Whether to feed the DMP: asked for by the report, not objected to by the patient (collected by
 * the platform, as the LPS must), and an open DMP (TD0.2, unless the check is configured off).
 */
export function feedingDecision(o: { requested: boolean; patientObjects: boolean; dmp: DmpState | 'not-checked' }): FeedingDecision {
  if (!o.requested) return { feed: false, reason: 'not-requested' };
  if (o.patientObjects) return { feed: false, reason: 'patient-objects' };
  if (o.dmp === 'none') return { feed: false, reason: 'no-dmp' };
  if (o.dmp === 'closed') return { feed: false, reason: 'dmp-closed' };
  return { feed: true };
}
