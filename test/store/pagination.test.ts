import { expect } from 'chai';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, toPage } from '../../src/store/pagination.js';
import type { SubmissionSummary } from '../../src/store/store.js';
import { newId } from '../../src/support/new-id.js';

describe('pagination cursors', function () {
  it('decode to the id they were made from', function () {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (date) => {
        const id = newId('sub', date);
        expect(decodeCursor(encodeCursor(id))).to.equal(id);
      }),
    );
  });

  it('are rejected with a RangeError unless this module made them', function () {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (cursor) => {
        let decoded: string | undefined;
        try {
          decoded = decodeCursor(cursor);
        } catch (error) {
          expect(error).to.be.instanceOf(RangeError);
          expect((error as RangeError).message).to.match(/^invalid cursor/);
          return;
        }
        expect(encodeCursor(decoded)).to.equal(cursor);
      }),
    );
  });
});

describe('pages', function () {
  const summaries = Array.from({ length: 3 }, (): SubmissionSummary => {
    const now = new Date();
    return { id: newId('sub', now), tenantId: 't', status: 'received', actType: 'tlc', idempotencyKey: null, requestId: 'r', createdAt: now, updatedAt: now };
  });

  it('carry a cursor to the last item when the store found one row more than the limit', function () {
    const page = toPage(summaries, 2);
    expect(page.items).to.deep.equal(summaries.slice(0, 2));
    expect(page.nextCursor).to.equal(encodeCursor(summaries[1]!.id));
  });

  it('carry no cursor when every row fits', function () {
    expect(toPage(summaries, 3)).to.deep.equal({ items: summaries });
  });
});
