import { expect } from 'chai';
import { call, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('GET /readyz', function () {
  let gw: TestGateway;
  before(async function () {
    gw = await startTestGateway(this, 'sqlite');
  });
  after(async () => {
    await gw?.close();
  });

  it('answers 503 store-unavailable once the store no longer answers, while /healthz stays up', async () => {
    expect((await call(`${gw.url}/readyz`)).status).to.equal(200);
    await gw.gateway.store.close();
    const res = await call(`${gw.url}/readyz`);
    expect(res.status).to.equal(503);
    expect(res.body.type).to.equal('urn:passerelle:problem:store-unavailable');
    expect(res.body.detail).to.contain('sqlite');
    expect((await call(`${gw.url}/healthz`)).status).to.equal(200);
  });
});
