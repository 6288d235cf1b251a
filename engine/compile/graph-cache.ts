import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { GraphNode, ValidGraph } from '../../shared/compile/index.ts';
import { isKindName, kinds } from '../../shared/nodes/index.ts';
import type { DocumentLimits } from '../../shared/schema/index.ts';
import { openLineFile } from './line-file.ts';

/** Set by the bundle's build (scripts/build.mjs): the engine runs as dist/cli.mjs, whose text says what validates. */
declare const SLUICE_BUNDLED: true | undefined;

/** A cache file larger than this is started afresh at open (~2.5 KB a 4-node workflow: 10,000 take ~25 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** The packages validation runs besides the bundle's own code: schemas (zod), expression syntax (jsonata), patterns (re2js). */
const VALIDATING_PACKAGES = ['zod', 'jsonata', 're2js'];

/**
 * What validated a graph: the bundle's text and the versions of the packages it validates with;
 * undefined when the engine runs from its sources (tests, tsx), whose code can change under a
 * data dir without a build to say so: no graph is cached then.
 */
export function validatingBuild(): string | undefined {
  if (typeof SLUICE_BUNDLED === 'undefined') return undefined;
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const name of VALIDATING_PACKAGES) hash.update(`\n${name}@${packageVersion(name)}`);
  return hash.digest('hex');
}

/** A package's version, from the package.json above its entry (some export no `./package.json`). */
function packageVersion(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version !== undefined) return manifest.version;
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json of ${name} above its entry`);
    dir = parent;
  }
}

/**
 * Graphs of published versions as validation made them, kept for the next process on this data
 * dir: a restart serves 10,000 stored versions without validating each again (over a quarter of
 * its time). Validation is a function of the document, the error catalog, the document limits and
 * the code that validates; the key holds all four (the document and the catalog by their content
 * hashes, the code as `validatingBuild`), so a graph is taken only where validation would give
 * it again. Graphs with subflows are not cached (their fragments' versions are part of them).
 * The file (one per build) is a LineFile (a torn or altered line is not taken) and is as trusted
 * as the store beside it in the data dir.
 */
export interface GraphCache {
  keyOf(documentHash: string, catalog: string | undefined, limits: DocumentLimits | undefined): string;
  /** The graph cached under `key`, once: a version is validated once per process. */
  take(key: string): ValidGraph | undefined;
  /** Keeps a graph validation made (one without subflows) for the next process. */
  put(key: string, graph: ValidGraph): void;
  /** Lets go of the graphs not taken (versions no longer served): called after the first sync. */
  release(): void;
  readonly loaded: { entries: number; refused: number };
  flush(): Promise<void>;
}

/**
 * A graph as cached: the document as served, its start and, per node in order, its id, kind,
 * config and wiring, and which of the config's fields are the document node's own (equal to them:
 * validation added or changed none of it), by the node's place in the document. Those fields are
 * written 0 and taken from the document at `take`, so the graph and the document share them: a
 * jwt-verify node's keys were read and held twice per workflow.
 */
type CachedNode = [id: string, kind: string, config: unknown, next: Array<[string, string]>, shared?: [place: number, fields: string[]]];
type CachedGraph = { d: ValidGraph['document']; s: string; n: CachedNode[] };

/** The fields of a node's validated config equal to the document's (in the config's order). */
function fieldsOfDocument(config: unknown, own: unknown): string[] {
  if (!isPlainObject(config) || !isPlainObject(own)) return [];
  return Object.keys(config).filter((field) => Object.hasOwn(own, field) && isDeepStrictEqual(config[field], own[field]));
}
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function cachedNode(node: GraphNode, place: number, own: unknown): CachedNode {
  const entry: CachedNode = [node.id, node.kind, node.config, [...node.next]];
  const fields = place < 0 ? [] : fieldsOfDocument(node.config, own);
  if (fields.length === 0) return entry;
  const config = { ...(node.config as Record<string, unknown>) };
  for (const field of fields) config[field] = 0;
  entry[2] = config;
  entry.push([place, fields]);
  return entry;
}

/** A build's file in the cache folder: one per build, so the lines of the builds before go whole instead of being read at every start. */
const FILE_NAME = /^validated-graphs-[0-9a-z-]+\.jsonl$/;
const fileName = (build: string) => `validated-graphs-${build.slice(0, 16)}.jsonl`;

/** The graph cache of `build` in the folder `dir` (in memory only without one); other builds' files there are removed. */
export async function openGraphCache(dir: string | undefined, build: string): Promise<GraphCache> {
  if (dir !== undefined)
    for (const name of await readdir(dir).catch(() => [])) if (FILE_NAME.test(name) && name !== fileName(build)) await rm(join(dir, name), { force: true });
  const { take, clear, loaded, append, flush } = await openLineFile(dir === undefined ? undefined : join(dir, fileName(build)), MAX_FILE_BYTES);
  return {
    loaded,
    keyOf(documentHash, catalog, limits) {
      return createHash('sha256')
        .update(`${build}\n${documentHash}\n${catalog ?? ''}\n${JSON.stringify(limits ?? null)}`)
        .digest('hex');
    },
    take(key) {
      const text = take(key);
      if (text === undefined) return undefined;
      try {
        const cached = JSON.parse(text) as CachedGraph;
        const nodes: ValidGraph['nodes'] = new Map();
        for (const [id, kind, config, next, shared] of cached.n) {
          if (!isKindName(kind)) return undefined;
          if (shared !== undefined) {
            const own = cached.d.nodes[shared[0]];
            if (own?.id !== id) return undefined;
            for (const field of shared[1]) (config as Record<string, unknown>)[field] = (own.config as Record<string, unknown>)[field];
          }
          const descriptor = kinds[kind];
          nodes.set(id, { id, kind, descriptor, config, ports: descriptor.ports(config as never), next: new Map(next) });
        }
        return { document: cached.d, fragments: [], start: cached.s, nodes };
      } catch {
        return undefined; // validated again
      }
    },
    put(key, graph) {
      if (graph.fragments.length > 0) return;
      const places = new Map(graph.document.nodes.map((node, place) => [node.id, place]));
      const n = [...graph.nodes.values()].map((node) => {
        const place = places.get(node.id) ?? -1;
        return cachedNode(node, place, graph.document.nodes[place]?.config);
      });
      const cached: CachedGraph = { d: graph.document, s: graph.start, n };
      append(key, JSON.stringify(cached));
    },
    release: clear,
    flush,
  };
}
