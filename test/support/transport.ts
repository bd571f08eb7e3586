/** Transport failures in tests: the TransportError a call is rejected with. */
import { expect } from 'chai';
import { TransportError } from '../../src/transports/soap/transport-error.js';

export async function refusal(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(TransportError);
    return error as TransportError;
  }
  throw new Error('the call was expected to fail');
}
