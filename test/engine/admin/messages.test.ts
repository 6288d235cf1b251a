import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, startAdminGateway, type Admin } from './support.ts';

/** zod's own English wording, which must never reach a person. */
const ZOD_WORDING = /Too small|Too big|Invalid input|Invalid option|Unrecognized key|expected \w+, received|>=|<=/;

interface Problem {
  code: string;
  node?: string;
  field?: string;
  message: string;
}

/** The admin API's problems are written for people: plain sentences, each cause said once. */
describe('the admin API problems a person reads', () => {
  let gw: TestGateway;
  let admin: Admin;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it('a refused input names its fields in plain words', async () => {
    const answer = await admin('editor', 'POST', '/workflows', { document: { ...stamped('words', '/words', 'x'), name: 'n'.repeat(452) }, colour: 'blue' });
    const problem = expectProblem(answer, 400, 'bad-request');
    const problems = problem.problems as Problem[];
    expect(problems).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'colour', message: '"colour" is not a known field here' })]));
    for (const p of problems) expect(p.message).not.toMatch(ZOD_WORDING);
  });

  it('a document too long and without methods is refused in plain words', async () => {
    const document = { ...stamped('words', '/words', 'x'), name: 'n'.repeat(452), route: { methods: [], path: '/words' } };
    const answer = await admin('editor', 'POST', '/workflows/words/validate', { document });
    const problems = answer.body.problems as Problem[];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'name', message: 'is too long: at most 200 characters are allowed' }),
        expect.objectContaining({ field: 'route.methods', message: 'needs at least one item' }),
      ]),
    );
    for (const p of problems) expect(p.message).not.toMatch(ZOD_WORDING);
  });

  it('one JSONata syntax error is one problem, not one from validation and another from preparation', async () => {
    const document = stamped('words', '/words', 'x', { guard: true });
    document.nodes[0] = { id: 'check', kind: 'condition', config: { when: 'request.query.x = ' } };
    const answer = await admin('editor', 'POST', '/workflows/words/validate', { document });
    const problems = answer.body.problems as Problem[];
    expect(problems.filter((p) => p.node === 'check')).toEqual([expect.objectContaining({ code: 'expression_syntax', field: 'config.when' })]);
  });
});
