import { expect } from 'chai';
import fc from 'fast-check';
import { GENESIS_HASH, canonicalJson, chainEvents, eventHash, verifyAuditChain, AuditChainVerifier } from '../../src/store/audit-chain.js';
import type { Json, NewEvent, SubmissionEvent } from '../../src/store/store.js';

const AT = new Date('2026-01-02T03:04:05.678Z');

/** Events of one submission as a backend stores them: numbered and chained by chainEvents. */
function stored(submissionId: string, events: readonly NewEvent[], last?: { seq: number; hash: string }): SubmissionEvent[] {
  return chainEvents(submissionId, last, events).map((event) => ({
    submissionId,
    seq: event.seq,
    type: event.type,
    at: event.at,
    actor: event.actor,
    data: JSON.parse(event.dataJson) as Json,
    hash: event.hash,
  }));
}

const received: NewEvent = { type: 'received', at: AT, actor: 'apikey:k_1', data: { bytes: 812 } };
const validated: NewEvent = { type: 'validated', at: AT, actor: 'gateway', data: { rules: ['R1'] } };
const built: NewEvent = { type: 'built', at: AT, actor: 'worker', data: { documentId: '2.25.1', versionNumber: 1 } };

describe('audit chain', function () {
  describe('canonicalJson', function () {
    it('sorts object keys at every depth and writes no whitespace', function () {
      expect(canonicalJson({ b: 1, a: { d: [{ z: null, y: true }], c: 'é' } })).to.equal('{"a":{"c":"é","d":[{"y":true,"z":null}]},"b":1}');
      expect(canonicalJson([3, 'x', false, null, -1.5])).to.equal('[3,"x",false,null,-1.5]');
      expect(canonicalJson('quote " and \n')).to.equal(JSON.stringify('quote " and \n'));
    });

    it('sorts keys by code unit, numeric-looking ones included', function () {
      expect(canonicalJson({ '10': 1, '9': 2, B: 3, a: 4 })).to.equal('{"10":1,"9":2,"B":3,"a":4}');
    });

    it('gives the same text whatever order the keys were written in, and parses back to the value', function () {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const json = JSON.parse(JSON.stringify(value)) as Json;
          const reordered = reorderKeys(json);
          expect(canonicalJson(reordered)).to.equal(canonicalJson(json));
          expect(JSON.parse(canonicalJson(json))).to.deep.equal(json);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('eventHash', function () {
    it('matches a vector computed with `openssl dgst -sha256`', function () {
      // printf '%s\n%s' "$(printf '0%.0s' {1..64})" '{"actor":"apikey:k_1","at":"2026-01-02T03:04:05.678Z","data":{"a":[true,null,"é",1.5],"b":{"x":-2,"y":"\n"}},"seq":1,"submissionId":"sub_X","type":"received"}' | openssl dgst -sha256
      const hash = eventHash(GENESIS_HASH, { submissionId: 'sub_X', seq: 1, type: 'received', at: AT, actor: 'apikey:k_1', data: { b: { y: '\n', x: -2 }, a: [true, null, 'é', 1.5] } });
      expect(hash).to.equal('b647429e959b74d087c5e14efd9ed4e97f4e37dcb11528c3810722f703dea7cc');
    });

    it('does not depend on the order of the data keys, and depends on everything else', function () {
      const event = { submissionId: 'sub_X', seq: 2, type: 'sent', at: AT, actor: 'worker', data: { destination: 'dmp', attempt: 1 } } as const;
      const hash = eventHash(GENESIS_HASH, event);
      expect(eventHash(GENESIS_HASH, { ...event, data: { attempt: 1, destination: 'dmp' } })).to.equal(hash);
      const changed = [
        eventHash('1'.repeat(64), event),
        eventHash(GENESIS_HASH, { ...event, submissionId: 'sub_Y' }),
        eventHash(GENESIS_HASH, { ...event, seq: 3 }),
        eventHash(GENESIS_HASH, { ...event, type: 'retrying' }),
        eventHash(GENESIS_HASH, { ...event, at: new Date(AT.getTime() + 1) }),
        eventHash(GENESIS_HASH, { ...event, actor: 'mallory' }),
        eventHash(GENESIS_HASH, { ...event, data: { destination: 'dmp', attempt: 2 } }),
      ];
      expect(new Set([hash, ...changed]).size).to.equal(changed.length + 1);
      expect(hash).to.match(/^[0-9a-f]{64}$/);
    });
  });

  describe('chainEvents', function () {
    it('numbers after the last event and chains each to the one before', function () {
      const first = stored('sub_A', [received, validated]);
      const next = stored('sub_A', [built], { seq: 2, hash: first[1]!.hash });
      expect([...first, ...next].map((e) => e.seq)).to.deep.equal([1, 2, 3]);
      expect(first[0]!.hash).to.equal(eventHash(GENESIS_HASH, first[0]!));
      expect(next[0]!.hash).to.equal(eventHash(first[1]!.hash, next[0]!));
    });

    it('hashes the data as it is read back, not as the caller held it', function () {
      const [event] = stored('sub_A', [{ ...received, data: { kept: 1, dropped: undefined } as unknown as Json }]);
      expect(event!.data).to.deep.equal({ kept: 1 });
      expect(verifyAuditChain([event!]).broken).to.deep.equal([]);
    });
  });

  describe('verifyAuditChain', function () {
    const a = stored('sub_A', [received, validated, built]);
    const b = stored('sub_B', [received, validated]);

    it('accepts intact chains and counts what it saw', function () {
      expect(verifyAuditChain([...a, ...b])).to.deep.equal({ submissions: 2, events: 5, legacy: 0, broken: [] });
      expect(verifyAuditChain([])).to.deep.equal({ submissions: 0, events: 0, legacy: 0, broken: [] });
    });

    it('reports an edited event at its seq, and only there', function () {
      const edited = a.map((e) => (e.seq === 2 ? { ...e, data: { rules: [] } } : e));
      expect(verifyAuditChain([...edited, ...b]).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 2, reason: 'hash mismatch' }]);
    });

    it('reports an edited event whose hash was recomputed at the next link', function () {
      const forged = { ...a[1]!, actor: 'mallory' };
      const rehashed = { ...forged, hash: eventHash(a[0]!.hash, forged) };
      expect(verifyAuditChain([a[0]!, rehashed, a[2]!]).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 3, reason: 'hash mismatch' }]);
    });

    it('reports a removed event at the first missing seq', function () {
      expect(verifyAuditChain([a[0]!, a[2]!, ...b]).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 2, reason: 'seq gap' }]);
      expect(verifyAuditChain([a[1]!, a[2]!]).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 1, reason: 'seq gap' }]);
    });

    it('counts legacy events without a hash and chains the events after them from the genesis', function () {
      const legacy = a.slice(0, 2).map((e) => ({ ...e, hash: '' }));
      const after = stored('sub_A', [built], { seq: 2, hash: '' });
      expect(verifyAuditChain([...legacy, ...after])).to.deep.equal({ submissions: 1, events: 3, legacy: 2, broken: [] });
    });

    it('reports an event whose hash was removed after the chain began', function () {
      const blanked = a.map((e) => (e.seq === 2 ? { ...e, hash: '' } : e));
      expect(verifyAuditChain(blanked).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 2, reason: 'hash missing' }]);
    });

    it('reports events out of order', function () {
      expect(verifyAuditChain([a[0]!, a[1]!, a[1]!, a[2]!]).broken).to.deep.equal([{ submissionId: 'sub_A', seq: 2, reason: 'seq out of order' }]);
    });

    it('verifies a page at a time with the same result', function () {
      const verifier = new AuditChainVerifier();
      for (const event of [...a, ...b]) verifier.add(event);
      expect(verifier.report()).to.deep.equal(verifyAuditChain([...a, ...b]));
    });
  });
});

/** The same value with every object's keys in reverse order. */
function reorderKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((key) => [key, reorderKeys(value[key] ?? null)]),
    );
  }
  return value;
}
