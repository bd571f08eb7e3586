/**
 * What a reader of XDM media needs of METADATA.XML whatever else it holds: for each DocumentEntry,
 * its file (URI), declared hash and size, mime type and uniqueId. Media in circulation carry less
 * than the full XDS metadata parseSubmitObjectsRequest requires: the "limited metadata" a media
 * creator may write (ITI TF-3 §4.3.1 optionality; NIST's minimal XDM sample has no patient, type
 * or format), or ebRIM 2.1 (XDM before
 * XDS.b: `rs:SubmitObjectsRequest` / `LeafRegistryObjectList`, as in NIST's 2007 sample). This
 * reading accepts all of them, by local name as xml-read does.
 */
import { uriOfSlotValues } from '../xds/ebrim.js';
import { DOCUMENT_ENTRY, SLOT } from '../xds/vocabulary.js';
import { XdsFormatError, childrenNamed, findMessage, readXml, type XmlElement } from '../xds/xml-read.js';

export interface ManifestEntry {
  /** The ExtrinsicObject's id (a urn:uuid, or a symbolic id such as `Document01`). */
  readonly entryUUID: string;
  readonly mimeType?: string;
  readonly uniqueId?: string;
  readonly uri?: string;
  /** The hash slot, lower-cased (SHA-1 in hex, ITI TF-3 §4.2.3.2.10). */
  readonly hash?: string;
  readonly size?: number;
  /** What the entry's slots say wrong (a size that is not a number…), never their values. */
  readonly problems: readonly string[];
}

/** ebRIM 3.0 RegistryObjectList, or the LeafRegistryObjectList of ebRIM 2.1. */
const OBJECT_LISTS = ['RegistryObjectList', 'LeafRegistryObjectList'];

/** The DocumentEntries of a METADATA.XML; an XdsFormatError when it is not XML or not a SubmitObjectsRequest. */
export function readManifest(xml: string): ManifestEntry[] {
  const request = findMessage(readXml(xml), ['SubmitObjectsRequest']);
  const list = request.children.find((c) => OBJECT_LISTS.includes(c.name));
  if (list === undefined) throw new XdsFormatError(['SubmitObjectsRequest: no RegistryObjectList (ebRIM 3.0) or LeafRegistryObjectList (ebRIM 2.1)']);
  // ExternalIdentifiers may stand beside their object (ebRIM allows both), pointing at it by registryObject.
  const beside = childrenNamed(list, 'ExternalIdentifier');
  return childrenNamed(list, 'ExtrinsicObject').map((object, i) => {
    const id = object.attributes.id ?? '';
    const problems: string[] = [];
    if (id === '') problems.push(`ExtrinsicObject ${String(i + 1)}: the id attribute is missing`);
    const slots = slotValues(object);
    const uriValues = slots.get(SLOT.URI) ?? [];
    const uri = uriOfSlotValues(uriValues);
    if (uri === undefined && uriValues.length > 1) problems.push(`the slot ${SLOT.URI} has ${String(uriValues.length)} values that are not numbered pieces (n|…) of one URI`);
    const hash = slots.get(SLOT.HASH)?.[0]?.toLowerCase();
    const sizeText = slots.get(SLOT.SIZE)?.[0];
    if (sizeText !== undefined && !/^\d+$/.test(sizeText)) problems.push('the slot size is not an integer');
    const uniqueId = [...childrenNamed(object, 'ExternalIdentifier'), ...beside.filter((e) => e.attributes.registryObject === id)]
      .find((e) => e.attributes.identificationScheme === DOCUMENT_ENTRY.UNIQUE_ID)?.attributes.value;
    const mimeType = object.attributes.mimeType;
    return {
      entryUUID: id,
      ...(mimeType === undefined || mimeType === '' ? {} : { mimeType }),
      ...(uniqueId === undefined || uniqueId === '' ? {} : { uniqueId }),
      ...(uri === undefined ? {} : { uri }),
      ...(hash === undefined || hash === '' ? {} : { hash }),
      ...(sizeText === undefined || !/^\d+$/.test(sizeText) ? {} : { size: Number(sizeText) }),
      problems,
    };
  });
}

/** Slot values by name, trimmed (pretty-printers indent them); a repeated name keeps the first. */
function slotValues(element: XmlElement): Map<string, string[]> {
  const slots = new Map<string, string[]>();
  for (const slot of childrenNamed(element, 'Slot')) {
    const name = slot.attributes.name;
    if (name === undefined || slots.has(name)) continue;
    slots.set(name, childrenNamed(slot, 'ValueList').flatMap((list) => childrenNamed(list, 'Value')).map((v) => v.text.trim()));
  }
  return slots;
}
