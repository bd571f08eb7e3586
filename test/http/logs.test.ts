import { expect } from 'chai';
import { fixture } from '../support/fixtures.js';
import { call, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('the logs', function () {
  let gw: TestGateway;
  const lines: string[] = [];
  before(async function () {
    gw = await startTestGateway(this, 'sqlite', {}, (line) => { lines.push(line); });
  });
  after(async () => {
    await gw?.close();
  });

  it('record every request with its id, and no health data even when a report is rejected', async () => {
    const report = fixture('teleconsultation');
    const accepted = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: report, headers: { 'x-request-id': 'trace-logs-1' } });
    expect(accepted.status).to.equal(202);
    const broken = fixture('teleconsultation');
    broken.patient.ins.value = '279035121518988';
    broken.report.text = 'Patiente PAT-TROIS, douleur thoracique';
    const rejected = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: broken, headers: { 'x-request-id': 'trace-logs-2' } });
    expect(rejected.status).to.equal(422);
    await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '{"patient": {"birthFamilyName": "PAT-TROIS"', headers: { 'content-type': 'application/json', 'x-request-id': 'trace-logs-3' } });

    const log = lines.join('');
    for (const id of ['trace-logs-1', 'trace-logs-2', 'trace-logs-3']) expect(log).to.contain(`"requestId":"${id}"`);
    const p = report.patient;
    for (const secret of [p.ins.value, '279035121518988', p.birthFamilyName, p.firstBirthGivenName, p.birthGivenNames, p.birthDate, p.birthPlaceCode, 'douleur', report.report.pdf.slice(0, 40), gw.keys.submitter.split('.')[1]]) {
      expect(log, `log contains "${String(secret)}"`).to.not.contain(secret);
    }
  });
});
