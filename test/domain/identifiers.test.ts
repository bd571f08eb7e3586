import { expect } from 'chai';
import fc from 'fast-check';
import { idNatPsProblems, idNatStructProblems, isValidFiness, isValidNir, isValidRpps, luhnValid, nirKey } from '../../src/domain/identifiers.js';

describe('French identifiers', () => {
  describe('NIR / NIA key', () => {
    it('accepts the ANS test INS of PAT-TROIS DOMINIQUE', () => {
      expect(isValidNir('279035121518989')).to.equal(true);
    });

    it('computes the key of a Corsican NIR reading 2A as 19', () => {
      // 297022A020778: 2A → 19 gives 2970219020778, whose key is 78.
      expect(nirKey('297022A020778')).to.equal(78);
      expect(isValidNir('297022A02077878')).to.equal(true);
      expect(isValidNir('297022B02077878')).to.equal(false);
    });

    it('reads 2B as 18', () => {
      expect(nirKey('185022B123456')).to.equal(97 - Number(1850218123456n % 97n));
    });

    it('rejects a NIR whose key does not match', () => {
      expect(isValidNir('279035121518988')).to.equal(false);
    });

    it('rejects malformed NIRs', () => {
      for (const bad of ['27903512151898', '2790351215189890', '579035121518989', '27903512151898A', '2790351215189 9']) expect(isValidNir(bad), bad).to.equal(false);
    });

    it('accepts every 13-digit body with its computed key, and no other key', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.bigInt({ min: 0n, max: 999_999_999_999n }), fc.integer({ min: 1, max: 97 }), (sex, rest, otherKey) => {
        const body = `${sex}${rest.toString().padStart(12, '0')}`;
        const key = nirKey(body);
        expect(key).to.be.within(1, 97);
        expect(isValidNir(`${body}${String(key).padStart(2, '0')}`)).to.equal(true);
        if (otherKey !== key) expect(isValidNir(`${body}${String(otherKey).padStart(2, '0')}`)).to.equal(false);
      }));
    });
  });

  describe('Luhn-checked numbers', () => {
    it('detects every single-digit substitution', () => {
      fc.assert(fc.property(fc.stringMatching(/^[0-9]{10}$/), fc.nat(10), fc.integer({ min: 1, max: 9 }), (prefix, position, delta) => {
        const valid = [...Array(10).keys()].map((d) => `${prefix}${d}`).find(luhnValid);
        expect(valid).to.be.a('string');
        const digits = (valid ?? '').split('');
        digits[position] = String((Number(digits[position]) + delta) % 10);
        expect(luhnValid(digits.join(''))).to.equal(false);
      }));
    });

    it('validates RPPS and FINESS numbers of the ANS examples', () => {
      expect(isValidRpps('01234567897')).to.equal(true);
      expect(isValidRpps('01234567123')).to.equal(false);
      expect(isValidRpps('0123456789')).to.equal(false);
      expect(isValidFiness('750803447')).to.equal(true);
      expect(isValidFiness('750803448')).to.equal(false);
    });

    it('accepts Corsican FINESS numbers by shape only', () => {
      expect(isValidFiness('2A0000012')).to.equal(true);
      expect(isValidFiness('2C0000012')).to.equal(false);
    });

    it('reports an IdNat_PS whose RPPS fails its check digit, with the fix', () => {
      const [problem] = idNatPsProblems('801234567123');
      expect(problem?.code).to.equal('RPPS_CHECK_DIGIT');
      expect(problem?.hint).to.match(/8" followed by the 11-digit RPPS/);
      expect(idNatPsProblems('801234567897')).to.deep.equal([]);
      expect(idNatPsProblems('3123456789/ABC')).to.deep.equal([]);
    });

    it('checks the FINESS, SIREN and SIRET inside an IdNat_Struct', () => {
      expect(idNatStructProblems('1750803447')).to.deep.equal([]);
      expect(idNatStructProblems('1750803448')[0]?.code).to.equal('FINESS_CHECK_DIGIT');
      expect(idNatStructProblems('2732829320')).to.deep.equal([]);
      expect(idNatStructProblems('2732829321')[0]?.code).to.equal('SIREN_CHECK_DIGIT');
      expect(idNatStructProblems('373282932000074')).to.deep.equal([]);
      expect(idNatStructProblems('373282932000075')[0]?.code).to.equal('SIRET_CHECK_DIGIT');
    });
  });
});
