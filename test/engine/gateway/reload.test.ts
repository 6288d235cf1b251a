import { mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/*
 * Hot reload through the directory watcher: these tests only write, change and delete files, and
 * poll (with a deadline) until the gateway answers differently. They never call reload().
 */

/** A workflow answering its own stamp at a path. */
const mock = (id: string, path: string, stamp: string) => ({
  id,
  name: `Mock ${id}`,
  route: { methods: ['GET'], path },
  nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { stamp } } }],
  edges: [],
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('workflow directory hot reload', () => {
  let gw: TestGateway;
  const file = (name: string) => join(gw.dataDir, 'workflows', name);
  const write = (name: string, document: unknown) => writeFileSync(file(name), typeof document === 'string' ? document : JSON.stringify(document, null, 2));

  /** What a path answers: the stamp, or the status when it is a problem. */
  async function answer(path: string): Promise<string> {
    const res = await gw.fetch(path);
    if (res.status !== 200) {
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      await res.arrayBuffer();
      return String(res.status);
    }
    return ((await res.json()) as { stamp: string }).stamp;
  }
  const untilAnswer = (path: string, expected: string) => until(`${path} to answer ${expected}`, async () => ((await answer(path)) === expected ? true : undefined));

  /** The next refusal log line for a file written after `from`. */
  const refusal = (origin: string, from: number) =>
    until(`a refusal of ${origin}`, () => gw.logs.slice(from).find((l) => String(l.msg).startsWith('workflow refused') && l.origin === origin));

  beforeAll(async () => {
    gw = await startTestGateway({ workflows: [] });
  });
  afterAll(() => gw.close());

  it('a new file is served, a changed file serves its new version', async () => {
    write('hot.json', mock('hot', '/hot', 'one'));
    await untilAnswer('/hot', 'one');
    write('hot.json', mock('hot', '/hot', 'two'));
    await untilAnswer('/hot', 'two');
    expect(gw.sluice.registry.active.get('hot')?.version).toBe(2);
    expect(gw.logs.some((l) => l.msg === 'workflow activated' && l.workflow === 'hot' && l.version === 2 && l.publishedBy === 'file:hot.json')).toBe(true);
  });

  const broken: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{ "id": "hot", "nodes": [', /^workflow refused: workflow \(document\): not JSON: /],
    [
      'a node config the kind schema refuses',
      { ...mock('hot', '/hot', 'broken'), nodes: [{ id: 'answer', kind: 'respond', config: { status: 'teapot' } }] },
      /^workflow refused: node answer config\.status: /,
    ],
    [
      'a node the document schema refuses',
      { ...mock('hot', '/hot', 'broken'), nodes: [{ id: 'answer', config: { status: 200 } }] },
      /^workflow refused: node answer kind: /,
    ],
    [
      'a graph problem (an unwired port)',
      {
        ...mock('hot', '/hot', 'broken'),
        nodes: [
          { id: 'check', kind: 'condition', config: { when: 'request.query.x = "1"' } },
          { id: 'answer', kind: 'respond', config: { body: { stamp: 'broken' } } },
        ],
        edges: [{ from: 'check', port: 'true', to: 'answer' }],
      },
      /^workflow refused: node check ports\.false: port "false" must be wired/,
    ],
    [
      'an expression that does not parse',
      { ...mock('hot', '/hot', 'broken'), nodes: [{ id: 'answer', kind: 'respond', config: { bodyExpression: '{ "a": ' } }] },
      /^workflow refused: node answer config\.bodyExpression: JSONata: /,
    ],
  ];

  it.each(broken)('a broken file (%s) is refused, naming node and field, and the last good version keeps serving', async (_name, document, line) => {
    const from = gw.logs.length;
    write('hot.json', document);
    const refused = await refusal('hot.json', from);
    expect(String(refused.msg)).toMatch(line);
    expect(refused.level).toBe(50);
    expect(await answer('/hot')).toBe('two');
    expect(gw.sluice.registry.active.get('hot')?.version).toBe(2);
  });

  it('a broken file is logged once, not again on every reload of another file', async () => {
    const from = gw.logs.length;
    write('hot.json', '{ "still": "broken"');
    await refusal('hot.json', from);
    write('other.json', mock('other', '/other', 'o1'));
    await untilAnswer('/other', 'o1');
    write('other.json', mock('other', '/other', 'o2'));
    await untilAnswer('/other', 'o2');
    expect(gw.logs.slice(from).filter((l) => String(l.msg).startsWith('workflow refused') && l.origin === 'hot.json')).toHaveLength(1);
  });

  it('fixing the file activates it', async () => {
    write('hot.json', mock('hot', '/hot', 'three'));
    await untilAnswer('/hot', 'three');
    expect(gw.sluice.registry.active.get('hot')?.version).toBe(3);
  });

  it('deleting the file removes its route (404)', async () => {
    unlinkSync(file('hot.json'));
    await untilAnswer('/hot', '404');
    expect(gw.sluice.registry.active.has('hot')).toBe(false);
  });

  it('a second file with the same id is refused; the first keeps serving', async () => {
    write('dup-a.json', mock('dup', '/dup', 'a'));
    await untilAnswer('/dup', 'a');
    const from = gw.logs.length;
    write('dup-b.json', mock('dup', '/dup', 'b'));
    const refused = await refusal('dup-b.json', from);
    expect(String(refused.msg)).toMatch(/workflow id "dup" is already served from dup-a\.json/);
    expect(await answer('/dup')).toBe('a');
  });

  it('a newcomer with the same id never takes over, whatever its file name sorts as', async () => {
    write('same-z.json', mock('same', '/same', 'z'));
    await untilAnswer('/same', 'z');
    const from = gw.logs.length;
    write('same-a.json', mock('same', '/same', 'a')); // sorts before the file that serves "same"
    const refused = await refusal('same-a.json', from);
    expect(String(refused.msg)).toMatch(/workflow id "same" is already served from same-z\.json/);
    expect(await answer('/same')).toBe('z');
    // Once the serving file goes, the other one is the only file with that id and is served.
    unlinkSync(file('same-z.json'));
    await untilAnswer('/same', 'a');
  });

  it('a route that clashes with another file\'s route is refused; the first keeps serving', async () => {
    write('clash-1.json', mock('clash-one', '/clash', 'one'));
    await untilAnswer('/clash', 'one');
    const from = gw.logs.length;
    write('clash-0.json', mock('clash-two', '/clash', 'two')); // sorts first, still refused
    const refused = await refusal('clash-0.json', from);
    expect(String(refused.msg)).toMatch(/workflow route\.path: GET, HEAD \/clash is already served by workflow "clash-one"/);
    expect(await answer('/clash')).toBe('one');
    expect(gw.sluice.registry.active.has('clash-two')).toBe(false);
    // A clash of :param names is a clash too.
    write('clash-2.json', mock('clash-three', '/clash/:a', 'a'));
    await untilAnswer('/clash/x', 'a');
    const from2 = gw.logs.length;
    write('clash-3.json', mock('clash-four', '/clash/:b', 'b'));
    expect(String((await refusal('clash-3.json', from2)).msg)).toMatch(/already served by workflow "clash-three"/);
    expect(await answer('/clash/x')).toBe('a');
  });

  it('a directory swapped in by symlink (as Kubernetes mounts a ConfigMap) is reloaded', async () => {
    // A ConfigMap volume: files are links into ..data, and an update swaps ..data to a new
    // directory in one rename. The only events name ..data_tmp and ..data, never a .json file.
    mkdirSync(file('..v1'));
    write('..v1/mounted.json', mock('mounted', '/mounted', 'one'));
    symlinkSync('..v1', file('..data'));
    symlinkSync('..data/mounted.json', file('mounted.json'));
    await untilAnswer('/mounted', 'one');
    mkdirSync(file('..v2'));
    write('..v2/mounted.json', mock('mounted', '/mounted', 'two'));
    symlinkSync('..v2', file('..data_tmp'));
    renameSync(file('..data_tmp'), file('..data'));
    await untilAnswer('/mounted', 'two');
  });

  it('a file that is not .json is ignored', async () => {
    write('notes.txt', 'not a workflow');
    write('late.json', mock('late', '/late', 'yes'));
    await untilAnswer('/late', 'yes');
    expect(gw.logs.some((l) => l.origin === 'notes.txt')).toBe(false);
  });
});
