import { describe, expect, it } from 'vitest';
import { changeWords, diffWorkflowsSliced, MAX_VALUE_TEXT } from '../../shared/compile/index.ts';
import { runAtOnce } from '../../shared/compile/slices.ts';
import type { WorkflowDocument } from '../../shared/schema/workflow.ts';

const v1 = {
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path: '/api/orders' },
  nodes: [
    { id: 'limit', kind: 'rate-limit', config: { limit: 100, window: '1m', key: 'partner' } },
    { id: 'answer', kind: 'respond', label: 'Answer', config: { status: 200, body: { text: 'short' } } },
  ],
  edges: [{ from: 'limit', port: 'ok', to: 'answer' }],
  layout: {},
  tests: [],
  samples: [],
} as unknown as WorkflowDocument;

describe('the diff names old and new values', () => {
  it('of a changed config field, in words: rate-limit "limit": 100 -> 50', () => {
    const v2 = { ...v1, nodes: [{ ...v1.nodes[0]!, config: { limit: 50, window: '1m', key: 'partner' } }, v1.nodes[1]!] } as WorkflowDocument;
    const diff = runAtOnce(diffWorkflowsSliced(v1, v2));
    expect(diff.nodes.changed).toHaveLength(1);
    expect(diff.nodes.changed[0]!.changes).toEqual([{ field: 'config.limit', before: '100', after: '50' }]);
    expect(changeWords(diff.nodes.changed[0]!.changes[0]!)).toBe('"limit": 100 -> 50');
  });

  it('of nested fields by their path, of labels, and of fields set or removed', () => {
    const v2 = { ...v1, nodes: [{ ...v1.nodes[0]!, config: { limit: 100, window: '1m' } }, { ...v1.nodes[1]!, label: 'Reply', config: { status: 200, body: { text: 'longer' } } }] } as WorkflowDocument;
    const diff = runAtOnce(diffWorkflowsSliced(v1, v2));
    const byId = new Map(diff.nodes.changed.map((c) => [c.id, c.changes]));
    expect(byId.get('limit')).toEqual([{ field: 'config.key', before: '"partner"' }]);
    expect(changeWords(byId.get('limit')![0]!)).toBe('"key" removed (was "partner")');
    expect(byId.get('answer')).toEqual([
      { field: 'label', before: '"Answer"', after: '"Reply"' },
      { field: 'config.body.text', before: '"short"', after: '"longer"' },
    ]);
  });

  it('bounds a long value with an ellipsis', () => {
    const long = 'x'.repeat(500);
    const v2 = { ...v1, nodes: [v1.nodes[0]!, { ...v1.nodes[1]!, config: { status: 200, body: { text: long } } }] } as WorkflowDocument;
    const [change] = runAtOnce(diffWorkflowsSliced(v1, v2)).nodes.changed[0]!.changes;
    expect(change!.after).toHaveLength(MAX_VALUE_TEXT);
    expect(change!.after!.endsWith('…')).toBe(true);
    expect(change!.before).toBe('"short"');
  });

  it('of the route and the other settings, and counts tests instead of printing them', () => {
    const v2 = { ...v1, name: 'Orders v2', route: { methods: ['GET', 'HEAD'], path: '/api/v2/orders' }, tests: [{ name: 't', request: { method: 'GET', path: '/api/v2/orders' }, expect: { status: 200 } }] } as unknown as WorkflowDocument;
    const diff = runAtOnce(diffWorkflowsSliced(v1, v2));
    expect(diff.fields).toEqual(['name', 'route', 'tests']);
    expect(diff.settings.map((c) => changeWords(c))).toEqual(['"name": "Orders" -> "Orders v2"', '"route.methods": ["GET"] -> ["GET","HEAD"]', '"route.path": "/api/orders" -> "/api/v2/orders"', '"tests": 0 tests -> 1 test']);
  });
});
