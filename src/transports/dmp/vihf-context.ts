/**
 * The VIHF attributes of one DMP call: the structure's configured identity, plus the patient the
 * call is about (resource-id, the INS as CX) when there is one (french-specs §3.5).
 */
import type { VihfConfig } from '../../config/config.js';
import type { VihfAttributes } from '../../signing/vihf.js';
import { formatCx } from '../../xds/hl7v2.js';
import type { Cx } from '../../xds/model.js';

export function vihfAttributes(config: VihfConfig, structureId: string, patientId?: Cx): VihfAttributes {
  return {
    version: config.version,
    nameId: config.nameId,
    subjectId: config.subjectId,
    roles: config.roles,
    purposeOfUse: config.purposeOfUse,
    structureId,
    sector: config.sector,
    authenticationMode: config.authenticationMode,
    authnContext: config.authnContext,
    ...(patientId === undefined ? {} : { patientId: formatCx(patientId) }),
    lps: config.lps,
  };
}
