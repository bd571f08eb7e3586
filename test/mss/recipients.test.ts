import { expect } from 'chai';
import type { ActReport } from '../../src/domain/act-report.js';
import { isInDomains, isMailboxAddress, recipientsOf } from '../../src/transports/mss/recipients.js';
import { fixture, type Mutable } from '../support/fixtures.js';

const report = (m: Mutable): ActReport => m as ActReport;
const REQUESTER = 'anne.requerante@medecin.mssante.fr';

describe('MSSanté recipients of an act report', () => {
  it('sends a téléconsultation to the médecin traitant (KNOWN, with an MSSanté address)', () => {
    const { recipients, problems } = recipientsOf(report(fixture('teleconsultation')));
    expect(recipients).to.deep.equal([{ role: 'primary-care-physician', address: 'bernard.vacquier@medecin.mssante.fr', idNatPs: '810002345675' }]);
    expect(problems).to.deep.equal([]);
  });

  it('sends a télé-expertise to the médecin traitant and to the requérant', () => {
    const te = fixture('teleexpertise');
    te.professionals.requester.mssanteAddress = REQUESTER;
    te.professionals.requester.idNatPs = '810001234567';
    const { recipients, problems } = recipientsOf(report(te));
    expect(recipients.map((r) => [r.role, r.address])).to.deep.equal([['primary-care-physician', 'bernard.vacquier@medecin.mssante.fr'], ['requester', REQUESTER]]);
    expect(recipients[1]?.idNatPs).to.equal('810001234567');
    expect(problems).to.deep.equal([]);
  });

  it('writes once to a mailbox named twice, whatever its case, and keeps both roles', () => {
    const te = fixture('teleexpertise');
    // In the fixture the requérant is the médecin traitant; the list names them a third time.
    te.recipients = [{ mssanteAddress: 'Bernard.Vacquier@MEDECIN.mssante.fr' }];
    const { recipients } = recipientsOf(report(te));
    expect(recipients).to.deep.equal([{ role: 'primary-care-physician', otherRoles: ['requester', 'other'], address: 'bernard.vacquier@medecin.mssante.fr', idNatPs: '810002345675' }]);
  });

  it('adds the recipients the report lists, after the médecin traitant', () => {
    const tc = fixture('teleconsultation');
    tc.recipients = [{ mssanteAddress: 'cardio@chu-exemple.mssante.fr', idNatPs: '810003456789' }, { mssanteAddress: 'secretariat@chu-exemple.mssante.fr' }];
    const { recipients } = recipientsOf(report(tc));
    expect(recipients.map((r) => `${r.role} ${r.address}`)).to.deep.equal(['primary-care-physician bernard.vacquier@medecin.mssante.fr', 'other cardio@chu-exemple.mssante.fr', 'other secretariat@chu-exemple.mssante.fr']);
  });

  it('does not send to a requérant outside a télé-expertise', () => {
    const tc = fixture('teleconsultation');
    tc.professionals.requester = { ...tc.professionals.primaryCarePhysician.professional, mssanteAddress: REQUESTER };
    expect(recipientsOf(report(tc)).recipients.map((r) => r.address)).to.not.include(REQUESTER);
  });

  it('reports a médecin traitant or requérant without an MSSanté address as their problem, and sends to the others', () => {
    const te = fixture('teleexpertise');
    delete te.professionals.primaryCarePhysician.professional.mssanteAddress;
    te.professionals.requester.mssanteAddress = REQUESTER;
    const { recipients, problems } = recipientsOf(report(te));
    expect(recipients.map((r) => r.address)).to.deep.equal([REQUESTER]);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ role: 'primary-care-physician', code: 'NO_MSSANTE_ADDRESS', pointer: '/professionals/primaryCarePhysician/professional/mssanteAddress' });

    delete te.professionals.requester.mssanteAddress;
    expect(recipientsOf(report(te)).problems.map((p) => `${p.role} ${p.code}`)).to.deep.equal(['primary-care-physician NO_MSSANTE_ADDRESS', 'requester NO_MSSANTE_ADDRESS']);
  });

  it('reports an unknown médecin traitant, but not a patient who has none', () => {
    const regulation = recipientsOf(report(fixture('regulation')));
    expect(regulation.recipients.map((r) => `${r.role} ${r.address}`)).to.deep.equal(['other garde.secteur12@medecin.mssante.fr']);
    expect(regulation.problems.map((p) => p.code)).to.deep.equal(['PRIMARY_CARE_PHYSICIAN_UNKNOWN']);

    const none = fixture('regulation');
    none.professionals.primaryCarePhysician = { status: 'NONE' };
    expect(recipientsOf(report(none)).problems).to.deep.equal([]);
  });

  it('reports a télé-expertise without a requérant (a report from before the rule)', () => {
    const te = fixture('teleexpertise');
    delete te.professionals.requester;
    expect(recipientsOf(report(te)).problems.map((p) => `${p.role} ${p.code}`)).to.deep.equal(['requester NO_REQUESTER']);
  });

  it('reports an address that is not one, or not in an MSSanté domain, by its position and without its value', () => {
    const tc = fixture('teleconsultation');
    tc.recipients = [{ mssanteAddress: 'pas une adresse' }, { mssanteAddress: 'dr.house@gmail.com' }, { mssanteAddress: 'ok@ch-x.mssante.fr' }, { mssanteAddress: 'evil@mssante.fr.example.com' }];
    const { recipients, problems } = recipientsOf(report(tc));
    expect(recipients.map((r) => r.address)).to.deep.equal(['bernard.vacquier@medecin.mssante.fr', 'ok@ch-x.mssante.fr']);
    expect(problems.map((p) => [p.index, p.code, p.pointer])).to.deep.equal([
      [0, 'INVALID_ADDRESS', '/recipients/0/mssanteAddress'],
      [1, 'NOT_MSSANTE_DOMAIN', '/recipients/1/mssanteAddress'],
      [3, 'NOT_MSSANTE_DOMAIN', '/recipients/3/mssanteAddress'],
    ]);
    for (const p of problems) expect(p.message).to.not.match(/gmail|house|pas une/);
  });

  it('accepts the domains configured, or any with an empty list (a sandbox)', () => {
    const tc = fixture('teleconsultation');
    tc.recipients = [{ mssanteAddress: 'someone@sandbox.test' }];
    expect(recipientsOf(report(tc), { mssanteDomains: ['sandbox.test'] }).recipients.map((r) => r.address)).to.deep.equal(['someone@sandbox.test']);
    expect(recipientsOf(report(tc), { mssanteDomains: [] }).problems).to.deep.equal([]);
  });

  it('knows a mailbox address when it sees one', () => {
    for (const good of ['a@b.fr', 'prenom.nom@medecin.mssante.fr', "o'brien+cr@ch-x.mssante.fr"]) expect(isMailboxAddress(good), good).to.equal(true);
    for (const bad of ['', '@b.fr', 'a@', 'a@b', 'a b@c.fr', 'a@b..fr', '.a@b.fr', 'a.@b.fr', 'é@b.fr', 'a@-b.fr', `${'x'.repeat(65)}@b.fr`, 'a@b.fr\r\nRCPT TO:<x@y.fr>', '<a@b.fr>']) expect(isMailboxAddress(bad), JSON.stringify(bad)).to.equal(false);
    expect(isInDomains('x@MEDECIN.MSSANTE.FR', ['mssante.fr'])).to.equal(true);
    expect(isInDomains('x@notmssante.fr', ['mssante.fr'])).to.equal(false);
  });
});
