/**
 * Check digits of French identifiers, and the OIDs that name them.
 * Pure functions: each returns whether the identifier's own key matches, never throws.
 */

/** OIDs of the INS (Identifiant National de Santé), CI-SIS "Structuration minimale" and fr-core. */
export const INS_OID = {
  /** INS-NIR: NIR used as INS. */
  NIR: '1.2.250.1.213.1.4.8',
  /** INS-NIA: identifier waiting for a NIR (people born abroad). */
  NIA: '1.2.250.1.213.1.4.9',
  /** INS-NIR of test identities (CNDA kit, ANS examples). */
  TEST: '1.2.250.1.213.1.4.10',
  /** INS-NIR of demonstration identities. */
  DEMO: '1.2.250.1.213.1.4.11',
} as const;
export type InsOid = (typeof INS_OID)[keyof typeof INS_OID];
export const INS_OIDS: readonly string[] = Object.values(INS_OID);

/** Identifier namespaces of professionals and structures (french-specs §1.3). */
export const ID_NAT_PS_OID = '1.2.250.1.71.4.2.1';
export const ID_NAT_STRUCT_OID = '1.2.250.1.71.4.2.2';

/**
 * 15-character NIR or NIA: sex, year, month, department (2A/2B for Corsica), commune, order, key.
 * The first digit 1/2 (born in France or abroad), 3/4 (provisional), 7/8 (NIA/temporary).
 */
export const NIR_PATTERN = /^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}$/;

/** The two-digit key of a 13-character NIR body: 97 − (body mod 97), Corsica 2A→19, 2B→18. */
export function nirKey(body: string): number | undefined {
  if (!/^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}$/.test(body)) return undefined;
  const numeric = body.slice(0, 5) + body.slice(5, 7).replace('2A', '19').replace('2B', '18') + body.slice(7);
  return 97 - Number(BigInt(numeric) % 97n);
}

export function isValidNir(nir: string): boolean {
  if (!NIR_PATTERN.test(nir)) return false;
  return nirKey(nir.slice(0, 13)) === Number(nir.slice(13));
}

/** Luhn (mod 10) check over a string of digits, the check digit being the last one. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** RPPS: 11 digits, Luhn. */
export function isValidRpps(rpps: string): boolean {
  return /^[0-9]{11}$/.test(rpps) && luhnValid(rpps);
}

/**
 * FINESS: 9 characters, Luhn key in the last position. Corsican numbers start with 2A/2B; no public
 * source states how their key is computed, so only their shape is checked (docs/decisions.md).
 */
export function isValidFiness(finess: string): boolean {
  if (/^2[AB][0-9]{7}$/.test(finess)) return true;
  return /^[0-9]{9}$/.test(finess) && luhnValid(finess);
}

export function isValidSiren(siren: string): boolean {
  return /^[0-9]{9}$/.test(siren) && luhnValid(siren);
}

export function isValidSiret(siret: string): boolean {
  return /^[0-9]{14}$/.test(siret) && luhnValid(siret);
}

export type IdentifierProblem = { readonly code: string; readonly message: string; readonly hint: string };

/**
 * IdNat_PS (french-specs §1.3): `8`+RPPS, `0`+ADELI, or `1|3|4|5|6` + structure id + `/` + internal id.
 * Returns the problems of a well-shaped identifier (the JSON Schema checks the shape).
 */
export function idNatPsProblems(idNatPs: string): IdentifierProblem[] {
  if (idNatPs.startsWith('8')) {
    const rpps = idNatPs.slice(1);
    if (!isValidRpps(rpps)) {
      return [
        {
          code: 'RPPS_CHECK_DIGIT',
          message: `the RPPS number ${rpps} does not pass its check digit (Luhn)`,
          hint: 'IdNat_PS of a professional with an RPPS number is "8" followed by the 11-digit RPPS; check for a typing error.',
        },
      ];
    }
  }
  return [];
}

/** IdNat_Struct: `1`+FINESS, `2`+SIREN, `3`+SIRET, `4`+RPPS-rang, `0`+ADELI cabinet. */
export function idNatStructProblems(idNatStruct: string): IdentifierProblem[] {
  const kind = idNatStruct.charAt(0);
  const rest = idNatStruct.slice(1);
  if (kind === '1' && !isValidFiness(rest)) {
    return [
      {
        code: 'FINESS_CHECK_DIGIT',
        message: `the FINESS number ${rest} does not pass its check digit (Luhn)`,
        hint: 'IdNat_Struct of an establishment is "1" followed by its 9-character FINESS (géographique) number.',
      },
    ];
  }
  if (kind === '2' && !isValidSiren(rest)) {
    return [{ code: 'SIREN_CHECK_DIGIT', message: `the SIREN number ${rest} does not pass its check digit (Luhn)`, hint: 'IdNat_Struct "2" is followed by the 9-digit SIREN.' }];
  }
  if (kind === '3' && !isValidSiret(rest)) {
    return [{ code: 'SIRET_CHECK_DIGIT', message: `the SIRET number ${rest} does not pass its check digit (Luhn)`, hint: 'IdNat_Struct "3" is followed by the 14-digit SIRET.' }];
  }
  return [];
}
