import { describe, expect, it } from 'vitest';
import { ownerTrace, pinnedToOwners } from '../../editor/src/graph/subflow.ts';

describe('server ids of inlined nodes, drawn on their subflow node (editor/src/graph/subflow.ts)', () => {
  it('pins a problem of an inlined node to its subflow node, saying which node of the fragment, without the inner field', () => {
    const problems = [
      { code: 'invalid_config' as const, node: 'auth/verify', field: 'config.issuer', message: 'issuer is required' },
      { code: 'port_unwired' as const, node: 'auth', field: 'ports.denied', message: 'port "denied" must be wired' },
      { code: 'route_clash' as const, field: 'route', message: 'clash' },
    ];
    expect(pinnedToOwners(problems)).toEqual([
      { code: 'invalid_config', node: 'auth', message: 'In the fragment\'s node "verify": issuer is required' },
      problems[1],
      problems[2],
    ]);
  });

  it('answers the same list when no problem names an inlined node', () => {
    const problems = [{ code: 'port_unwired' as const, node: 'auth', message: 'x' }];
    expect(pinnedToOwners(problems)).toBe(problems);
  });

  it.each([
    [
      'steps inside a subflow node become one step, leaving by the exit wired to where the trace went on',
      [
        { node: 'gate/check', port: 'true', ms: 1 },
        { node: 'gate/log', port: 'ok', ms: 2 },
        { node: 'welcome', port: 'done', ms: 3 },
      ],
      [
        { node: 'gate', port: 'ok', ms: 3 },
        { node: 'welcome', port: 'done', ms: 3 },
      ],
    ],
    ['a fragment that answers inside leaves by no port', [{ node: 'gate/deny', port: 'raise', ms: 1 }], [{ node: 'gate', port: '', ms: 1 }]],
    [
      'two subflow nodes in a row stay two steps',
      [
        { node: 'gate/check', port: 'true', ms: 1 },
        { node: 'again/check', port: 'false', ms: 1 },
        { node: 'refused', port: 'done', ms: 1 },
      ],
      [
        { node: 'gate', port: 'pass', ms: 1 },
        { node: 'again', port: 'denied', ms: 1 },
        { node: 'refused', port: 'done', ms: 1 },
      ],
    ],
  ])('%s', (_name, trace, expected) => {
    const edges = [
      { from: 'gate', port: 'ok', to: 'welcome' },
      { from: 'gate', port: 'pass', to: 'again' },
      { from: 'again', port: 'denied', to: 'refused' },
    ];
    expect(ownerTrace(trace, edges)).toEqual(expected);
  });
});
