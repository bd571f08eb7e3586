/**
 * Identifiers of what the DMP client submits. The uniqueIds of submission sets and signature
 * documents must be OIDs (ITI TF-3 4.2.3.3.12); the one of a fresh `urn:uuid:` is its 2.25 form
 * (ITU-T X.667 §6.3), so one random UUID gives both the entryUUID and the uniqueId.
 */
export function uuidOidOf(urnUuid: string): string {
  const hex = urnUuid.replace(/^urn:uuid:/, '').replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`${urnUuid} is not a urn:uuid`);
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}
