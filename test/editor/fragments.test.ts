import { describe, expect, it } from 'vitest';
import { exitNamesProblem, fragmentToModel, modelToFragment, newFragmentDocument, pinnedToExits, withExitNodes } from '../../editor/src/fragments/fragment-model.ts';
import { validateFragment } from '../../shared/compile/index.ts';

describe('a fragment on the canvas (editor/src/fragments/fragment-model.ts)', () => {
  it.each([
    ['one exit', ['ok']],
    ['two exits', ['ok', 'denied']],
    ['an exit named "default"', ['ok', 'default']],
    ['only "default"', ['default']],
    ['an exit named as the first node would be', ['step', 'ok']],
  ])('a new fragment with %s is valid as it is', (_name, exits) => {
    const document = newFragmentDocument({ id: 'auth', name: 'Auth', exits });
    expect(validateFragment(document).problems).toEqual([]);
  });

  it('draws each exit as an exit node and writes the document back unchanged', () => {
    const document = newFragmentDocument({ id: 'auth', name: 'Auth', exits: ['ok', 'denied'] });
    const { model } = fragmentToModel(document);
    expect(model.nodes.map((n) => `${n.type}:${n.id}`)).toEqual(['kind:step', 'exit:ok', 'exit:denied']);
    expect(modelToFragment(model)).toEqual(document);
  });

  it('keeps one exit node per declared exit: a deleted one comes back, a copy and an undeclared one go with their edges', () => {
    const { model } = fragmentToModel(newFragmentDocument({ id: 'auth', name: 'Auth', exits: ['ok', 'denied'] }));
    const denied = model.nodes.find((n) => n.id === 'denied')!;
    const deleted = { ...model, nodes: model.nodes.filter((n) => n !== denied), edges: model.edges.filter((e) => e.target !== 'denied') };
    expect(withExitNodes(deleted).nodes.map((n) => n.id)).toEqual(['step', 'ok', 'denied']);
    expect(withExitNodes(deleted).nodes.find((n) => n.id === 'denied')!.position).toEqual(expect.objectContaining({ x: expect.any(Number) }));
    const copied = { ...model, nodes: [...model.nodes, { ...denied, id: 'denied-2', type: 'kind' as const }] };
    expect(withExitNodes(copied).nodes.map((n) => n.id)).toEqual(['step', 'ok', 'denied']);
    const undeclared = { ...model, meta: { ...model.meta, exits: [{ name: 'ok' }] } };
    const kept = withExitNodes(undeclared);
    expect(kept.nodes.map((n) => n.id)).toEqual(['step', 'ok']);
    expect(kept.edges.every((e) => e.target !== 'denied')).toBe(true);
    expect(withExitNodes(model)).toBe(model);
  });

  it('pins a problem of an exit (exits.<i>, no node) to its exit node', () => {
    const exits = [{ name: 'ok' }, { name: 'denied' }];
    const problems = [
      { code: 'unreachable', field: 'exits.1', message: 'no edge leads to exit "denied"' },
      { code: 'invalid_document', field: 'exits.0.name', message: 'bad name' },
      { code: 'invalid_document', field: 'exits.7', message: 'no such exit' },
      { code: 'invalid_config', node: 'check', field: 'config.when', message: 'x' },
      { code: 'invalid_document', field: 'name', message: 'y' },
    ];
    expect(pinnedToExits(problems, exits).map((p) => p.node)).toEqual(['denied', 'ok', undefined, 'check', undefined]);
  });

  it.each([
    [['ok'], undefined],
    [[], 'A fragment has at least one exit.'],
    [['ok', 'Bad'], expect.stringContaining('"Bad"')],
    [['ok', 'ok'], '"ok" is named twice.'],
    [Array.from({ length: 17 }, (_, i) => `e${i}`), 'At most 16 exits.'],
  ])('exit names %j: %s', (names, problem) => {
    expect(exitNamesProblem(names)).toEqual(problem);
  });
});
