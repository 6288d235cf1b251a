import { describe, expect, it } from 'vitest';
import { ApiError } from '../../editor/src/api/client.ts';
import { catalogProblems, newIdProblem, refusalLines } from '../../editor/src/catalog/catalog-model.ts';
import { completeAt } from '../../editor/src/forms/jsonata-complete.ts';

const sample = { request: { method: 'POST', path: '/orders/1?page=2', params: { id: '1' }, headers: { 'x-trace': 't', accept: '*/*' }, body: { items: [{ sku: 'A', qty: 1 }] } } };
const labels = (before: string, explicit = false) => completeAt(before, sample, explicit)?.suggestions.map((s) => s.apply);

describe('JSONata completion (editor/src/forms/jsonata-complete.ts)', () => {
  it('offers the request context, the sample\'s names and JSONata\'s functions', () => {
    expect(labels('request.')).toEqual(['method', 'path', 'params', 'query', 'headers', 'body']);
    expect(completeAt('$x := request.he', sample)).toMatchObject({ from: 14, suggestions: [{ label: 'headers', apply: 'headers' }] });
    expect(labels('request.headers.')).toEqual(['`x-trace`', 'accept']);
    expect(labels('request.query.')).toEqual(['page']);
    expect(labels('request.body.items.')).toEqual(['sku', 'qty']); // a path maps over a list
    expect(labels('response.')).toEqual(['status', 'headers', 'body']);
    expect(labels('cla')).toEqual(['claims']);
    expect(labels('llm.')).toEqual(['api', 'model', 'stream', 'usage']);
    expect(labels('llm.usage.')).toEqual(['input', 'output', 'total', 'estimated']);
    expect(labels('$upp')).toEqual(['$uppercase(']);
    expect(labels('')).toBeUndefined();
    expect(labels('', true)).toContain('request');
    expect(labels('request.nothing.')).toBeUndefined();
  });
});

describe('the catalog page\'s checks (editor/src/catalog/catalog-model.ts)', () => {
  it('says what is wrong in words, naming the entry and field', () => {
    const problems = catalogProblems({ errors: { late: { status: 99, type: 'https://e/late', title: '', detail: '' } } });
    expect(problems.map((p) => p.message)).toEqual(['Error "late", status: must be at least 400', 'Error "late", title: must not be empty']);
    expect(newIdProblem('Late', { errors: {} })).toMatch(/^The id must be snake_case/);
    expect(newIdProblem('late', { errors: { late: { status: 400, type: 't', title: 't', detail: '' } } })).toBe('"late" is already in the catalog.');
    expect(newIdProblem('late', { errors: {} })).toBeUndefined();
  });

  it('a refused save names the entry and the workflow that raises it', () => {
    const refused = new ApiError(422, {
      status: 422,
      detail: 'the catalog lacks errors',
      problems: [
        { code: 'unknown_error', message: 'workflow "orders": error "out_of_stock" is not in the error catalog', node: 'gone', field: 'config.error' },
        { code: 'unknown_error', message: 'the gateway itself answers with "not_found", so the catalog must define it', field: 'errors.not_found' },
      ],
    });
    expect(refusalLines(refused)).toEqual([
      '"out_of_stock" is raised by the active workflow "orders": keep it in the catalog, or change that workflow and publish it first.',
      'The gateway itself answers with "not_found", so the catalog must define it.',
    ]);
  });
});
