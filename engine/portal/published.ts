/**
 * The published catalog: what the portal shows, read from what this gateway serves (the registry's
 * compiled versions, their lifecycle headers, the catalog its problems render from) and the store's
 * products, plans and version records. A workflow is published when it is served and part of a
 * product; drafts, archived workflows and workflows of no product never appear.
 */
import { diffContracts, errorContractSliced, runPaced, type ContractEntry, type ValidGraph, type ValidationResult } from '../../shared/compile/index.ts';
import type { PortalAnswer, PortalCatalog, PortalChangelog, PortalChangelogEntry, PortalLifecycle, PortalPreview, PortalProblem, PortalProduct, PortalReference, PortalWorkflowSummary } from '../../shared/portal/index.ts';
import type { ErrorCatalog } from '../../shared/schema/index.ts';
import type { ProductRecord } from '../../shared/schema/partners.ts';
import type { StoreState, VersionRecord } from '../store/types.ts';
import type { CompiledWorkflow } from '../compile/types.ts';
import { createPace } from '../compile/pace.ts';
import { approvalVoidedBy } from '../../shared/admin/index.ts';
import { AdminError } from '../admin/errors.ts';
import { identityOf, problemSlug, publicAnswers, publicCondition, publicOpenApi, publicTitle } from './public-contract.ts';

/** What the published catalog is read from. */
export interface PublishedSources {
  state(): Promise<StoreState>;
  document(hash: string): Promise<unknown>;
  /** The versions this gateway serves, by workflow id (the registry's). */
  served(): ReadonlyMap<string, CompiledWorkflow>;
  /** The catalog problems are rendered from. */
  catalog(): ErrorCatalog;
  /** Validates a stored document with the published fragments; `published`: as a stored version (its tests' credentials pass). */
  validate(document: unknown, options: { catalog: ErrorCatalog; published: boolean }): Promise<ValidationResult>;
  sliceMs?: number;
}

/** One version as the portal reads it: its graph, record and lifecycle as served. */
interface ShownVersion {
  id: string;
  version: number;
  graph: ValidGraph;
  record: VersionRecord | undefined;
  lifecycle: PortalLifecycle;
}

/** A version as it will look after a pending publish: replaces the served one of its workflow. */
export interface PreviewVersion {
  shown: ShownVersion;
  preview: PortalPreview;
}

/** Where the portal pages live, for links in answers (problem types). */
const PORTAL_PROBLEMS_PATH = '/portal/problems/';

/** The lifecycle of a version as the gateway serves it: its Deprecation and Sunset headers, or 410 once retired. */
function lifecycleOf(record: VersionRecord | undefined, served: CompiledWorkflow['lifecycle']): PortalLifecycle {
  const headers = { ...served?.headers };
  if (served?.retired) return { state: 'retired', ...(record?.retired ? { retiredAt: record.retired.at } : {}), headers };
  if (headers.deprecation !== undefined) return { state: 'deprecated', ...(record?.deprecated ? { deprecatedAt: record.deprecated.at, ...(record.deprecated.sunset ? { sunset: record.deprecated.sunset } : {}) } : {}), headers };
  return { state: 'active', headers };
}

export function createPublishedCatalog(sources: PublishedSources) {
  const newPace = () => createPace(sources.sliceMs);
  /** Derived views by graph: a served version is compiled once, so its views are made once per catalog and lifecycle. */
  const views = new WeakMap<ValidGraph, { key: string; catalog: ErrorCatalog; contract: ContractEntry[] }>();
  /** Contracts of stored versions by document hash (for the changelog), per catalog. */
  let stored: { catalog: ErrorCatalog; byHash: Map<string, ContractEntry[] | undefined> } | undefined;

  async function contractOf(shown: ShownVersion, catalog: ErrorCatalog): Promise<ContractEntry[]> {
    const key = `${shown.lifecycle.headers.deprecation ?? ''}|${shown.lifecycle.sunset ?? ''}`;
    const cached = views.get(shown.graph);
    if (cached && cached.catalog === catalog && cached.key === key) return cached.contract;
    const options = shown.lifecycle.state === 'deprecated' ? { deprecated: { sunset: shown.lifecycle.sunset } } : {};
    const contract = await runPaced(errorContractSliced(shown.graph, catalog, options), newPace());
    views.set(shown.graph, { key, catalog, contract });
    return contract;
  }

  /** The contract of a stored version (undefined when it no longer validates, say a fragment it used is gone). */
  async function storedContract(hash: string, catalog: ErrorCatalog): Promise<ContractEntry[] | undefined> {
    if (stored?.catalog !== catalog) stored = { catalog, byHash: new Map() };
    const cache = stored.byHash;
    if (cache.has(hash)) return cache.get(hash);
    const result = await sources.validate(await sources.document(hash), { catalog, published: true });
    const contract = result.ok ? await runPaced(errorContractSliced(result.graph, catalog), newPace()) : undefined;
    cache.set(hash, contract);
    return contract;
  }

  /** The served versions by workflow, with the preview's in place of its workflow's. */
  function shownVersions(state: StoreState, preview: PreviewVersion | undefined): Map<string, ShownVersion> {
    const shown = new Map<string, ShownVersion>();
    for (const [id, compiled] of sources.served()) {
      const workflow = state.workflows.get(id);
      if (!workflow || workflow.archived) continue;
      const record = workflow.versions.find((v) => v.version === compiled.version);
      shown.set(id, { id, version: compiled.version, graph: compiled.graph, record, lifecycle: lifecycleOf(record, compiled.lifecycle) });
    }
    if (preview) shown.set(preview.shown.id, preview.shown);
    return shown;
  }

  const productsOf = (state: StoreState) => Object.values(state.products ?? {}).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

  function summaryOf(shown: ShownVersion, products: readonly ProductRecord[]): PortalWorkflowSummary {
    const document = shown.graph.document;
    const { credentials, scopes } = identityOf(document);
    return {
      id: shown.id,
      name: document.name,
      description: document.description ?? '',
      methods: [...document.route.methods],
      path: document.route.path,
      version: shown.version,
      publishedAt: shown.record?.publishedAt ?? '',
      credentials,
      scopes,
      lifecycle: shown.lifecycle,
      products: products.filter((p) => p.workflows.includes(shown.id)).map((p) => p.id),
    };
  }

  function productView(state: StoreState, product: ProductRecord, shown: Map<string, ShownVersion>, all: readonly ProductRecord[]): PortalProduct {
    // the plans that set a limit on this product (a partner's own overrides are never shown)
    const plans = Object.values(state.plans ?? {})
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
      .flatMap((plan) => {
        const limit = Object.hasOwn(plan.limits, product.id) ? plan.limits[product.id] : undefined;
        return limit ? [{ id: plan.id, name: plan.name, limit: { limit: limit.limit, window: limit.window, ...(limit.tokens ? { tokens: { limit: limit.tokens.limit, window: limit.tokens.window } } : {}) } }] : [];
      });
    const workflows = product.workflows.flatMap((id) => {
      const version = shown.get(id);
      return version ? [summaryOf(version, all)] : [];
    });
    return { id: product.id, name: product.name, description: product.description, workflows, plans };
  }

  /** The problem page of a catalog type, when the catalog names it (a type of no catalog entry gets none). */
  function problemPageOf(catalog: ErrorCatalog) {
    return (id: string, type: string) => (Object.hasOwn(catalog.errors, id) && catalog.errors[id]!.type === type ? `${PORTAL_PROBLEMS_PATH}${encodeURIComponent(problemSlug(id, type))}` : undefined);
  }

  /**
   * Public answers, kept until what they are read from changes: the store's state (a new frozen
   * object on every change), the catalog, and the compiled versions served. Anyone may ask for
   * them, and the control plane shares its process with the gateway. Only answers about what
   * exists are kept (their names come from the store, not from the URL).
   */
  const kept = new Map<string, { from: unknown[]; value: unknown }>();
  async function keep<T>(name: string, make: () => Promise<T | undefined>): Promise<T | undefined> {
    const from = [await sources.state(), sources.catalog(), ...sources.served().values()];
    const last = kept.get(name);
    if (last && last.from.length === from.length && last.from.every((d, i) => d === from[i])) return last.value as T;
    const value = await make();
    if (value === undefined) kept.delete(name);
    else kept.set(name, { from, value });
    return value;
  }

  /** The answers, made from what is served now. */
  const build = {
    /** Every product with at least one published workflow. */
    async catalog(preview?: PreviewVersion): Promise<PortalCatalog> {
      const state = await sources.state();
      const shown = shownVersions(state, preview);
      const all = productsOf(state);
      const products = all.map((p) => productView(state, p, shown, all)).filter((p) => p.workflows.length > 0);
      return { products, ...(preview ? { preview: preview.preview } : {}) };
    },

    /** A published workflow's reference: its answers and its OpenAPI 3.1. */
    async reference(id: string, preview?: PreviewVersion): Promise<PortalReference | undefined> {
      const state = await sources.state();
      const all = productsOf(state);
      const shown = shownVersions(state, preview).get(id);
      if (!shown || !all.some((p) => p.workflows.includes(id))) return undefined;
      const catalog = sources.catalog();
      // the contract writes the Deprecation date as a placeholder: the reference shows the values served
      const contract = (await contractOf(shown, catalog)).map((e) => (e.headers.deprecation === undefined ? e : { ...e, headers: { ...e.headers, ...shown.lifecycle.headers } }));
      const workflow = summaryOf(shown, all);
      const answers: PortalAnswer[] = publicAnswers(contract, problemPageOf(catalog));
      const openapi = publicOpenApi(shown.graph.document, shown.version, contract, identityOf(shown.graph.document));
      return { workflow, answers, openapi, ...(preview && preview.shown.id === id ? { preview: preview.preview } : {}) };
    },

    /**
     * A product's changelog, newest first: each published version of its published workflows with
     * how its contract changed from the version before, and each deprecation and retirement.
     */
    async changelog(productId: string, preview?: PreviewVersion): Promise<PortalChangelog | undefined> {
      const state = await sources.state();
      const shown = shownVersions(state, preview);
      const product = productsOf(state).find((p) => p.id === productId);
      if (!product) return undefined;
      const catalog = sources.catalog();
      const entries: PortalChangelogEntry[] = [];
      const change = (e: Said) => ({ status: e.status, ...(e.type === undefined ? {} : { type: e.type }), title: publicTitle(e), condition: publicCondition(e.condition) });
      // one pacer for the whole changelog: each version's contract is short, all of them together may not be
      const pace = newPace();
      for (const id of product.workflows) {
        const served = shown.get(id);
        const workflow = state.workflows.get(id);
        if (!served || !workflow) continue;
        const name = served.graph.document.name;
        const versions = [...workflow.versions].sort((a, b) => a.version - b.version);
        let before: ContractEntry[] | undefined;
        for (const version of versions) {
          const pause = pace();
          if (pause) await pause;
          const contract = await storedContract(version.hash, catalog);
          entries.push({ workflow: id, workflowName: name, version: version.version, event: 'published', at: version.publishedAt, ...contractChange(before, contract, change) });
          if (version.deprecated) entries.push({ workflow: id, workflowName: name, version: version.version, event: 'deprecated', at: version.deprecated.at, ...(version.deprecated.sunset ? { sunset: version.deprecated.sunset } : {}), added: [], removed: [], changed: [], summary: version.deprecated.sunset ? `deprecated; served until ${version.deprecated.sunset}` : 'deprecated' });
          if (version.retired) entries.push({ workflow: id, workflowName: name, version: version.version, event: 'retired', at: version.retired.at, added: [], removed: [], changed: [], summary: 'retired: its route answers 410 Gone' });
          before = contract ?? before;
        }
        if (preview && preview.shown.id === id) {
          const contract = await contractOf(preview.shown, catalog);
          entries.push({ workflow: id, workflowName: name, version: preview.shown.version, event: 'published', at: '', ...contractChange(before, contract, change) });
        }
      }
      // newest first; a preview (no date yet) on top
      entries.sort((a, b) => (a.at === '' ? -1 : b.at === '' ? 1 : b.at.localeCompare(a.at)) || b.version - a.version);
      return { product: product.id, name: product.name, entries, ...(preview ? { preview: preview.preview } : {}) };
    },

    /**
     * How workflow `id` will look after its pending publish: the publish waiting for a second
     * publisher when one stands, else the draft. Refused (AdminError) when it has neither or it
     * does not validate.
     */
    async preview(id: string): Promise<PreviewVersion> {
      const state = await sources.state();
      const workflow = state.workflows.get(id);
      if (!workflow || workflow.archived) throw new AdminError('not_found', `no workflow "${id}" to preview`);
      const approval = workflow.approval && approvalVoidedBy(workflow.approval, workflow) === undefined ? workflow.approval : undefined;
      const hash = approval?.draftHash ?? workflow.draft?.hash;
      if (hash === undefined) throw new AdminError('not_found', `workflow "${id}" has no draft or pending publish to preview`);
      const catalog = sources.catalog();
      const result = await sources.validate(await sources.document(hash), { catalog, published: false });
      if (!result.ok) throw new AdminError('validation_failed', `the ${approval ? 'publish waiting for approval' : 'draft'} of "${id}" is not a valid workflow: it cannot be previewed`, { problems: result.problems });
      const shown: ShownVersion = { id, version: Math.max(0, ...workflow.versions.map((v) => v.version)) + 1, graph: result.graph, record: undefined, lifecycle: { state: 'active', headers: {} } };
      const served = shownVersions(state, undefined).get(id);
      const change = contractChange(served && (await contractOf(served, catalog)), await contractOf(shown, catalog), (e) => e);
      const summary = served ? `against version ${served.version}: ${change.summary}` : `not served yet: ${change.summary}`;
      return { shown, preview: { workflow: id, source: approval ? 'pending-approval' : 'draft', summary } };
    },

    /** Every problem type of the catalog, with the published workflows that can answer with it. */
    async problems(): Promise<PortalProblem[]> {
      const state = await sources.state();
      const catalog = sources.catalog();
      const inProducts = new Set(productsOf(state).flatMap((p) => p.workflows));
      const users = new Map<string, Array<{ id: string; name: string }>>();
      // one pacer for all the workflows: each contract is short, the first read of 10,000 of them is not
      const pace = newPace();
      for (const shown of shownVersions(state, undefined).values()) {
        if (!inProducts.has(shown.id)) continue;
        const pause = pace();
        if (pause) await pause;
        for (const entry of await contractOf(shown, catalog)) {
          if (entry.type === undefined) continue;
          const list = users.get(entry.id) ?? [];
          if (!list.some((w) => w.id === shown.id)) list.push({ id: shown.id, name: shown.graph.document.name });
          users.set(entry.id, list);
        }
      }
      const bySlug = new Map<string, PortalProblem>();
      for (const [id, entry] of Object.entries(catalog.errors).sort((a, b) => a[0].localeCompare(b[0]))) {
        const slug = problemSlug(id, entry.type);
        if (!bySlug.has(slug)) bySlug.set(slug, { slug, id, type: entry.type, status: entry.status, title: entry.title, detail: entry.detail, workflows: users.get(id) ?? [] });
      }
      return [...bySlug.values()];
    },
  };
  const published = {
    /** Every product with at least one published workflow. */
    async catalog(preview?: PreviewVersion): Promise<PortalCatalog> {
      return preview ? build.catalog(preview) : (await keep('catalog', () => build.catalog(undefined)))!;
    },
    /** A product with its published workflows; undefined when it has none (or does not exist). */
    async product(id: string, preview?: PreviewVersion): Promise<PortalProduct | undefined> {
      return (await published.catalog(preview)).products.find((p) => p.id === id);
    },
    /** A published workflow's reference: its answers and its OpenAPI 3.1. */
    async reference(id: string, preview?: PreviewVersion): Promise<PortalReference | undefined> {
      return preview ? build.reference(id, preview) : keep(`reference ${id}`, () => build.reference(id, undefined));
    },
    /** A product's changelog, newest first. */
    async changelog(productId: string, preview?: PreviewVersion): Promise<PortalChangelog | undefined> {
      return preview ? build.changelog(productId, preview) : keep(`changelog ${productId}`, () => build.changelog(productId, undefined));
    },
    /** Every problem type of the catalog, with the published workflows that can answer with it. */
    async problems(): Promise<PortalProblem[]> {
      return (await keep('problems', () => build.problems()))!;
    },
    /** How a workflow will look after its pending publish (see build.preview). */
    preview: (id: string) => build.preview(id),
  };

  return published;
}

type Said = { status: number; type?: string | undefined; title: string; condition: string };

/** How a version's contract changed from the one before (diffContracts), in public words; the first version adds everything. */
function contractChange<T>(before: ContractEntry[] | undefined, after: ContractEntry[] | undefined, change: (e: Said) => T) {
  if (after === undefined) return { added: [], removed: [], changed: [], summary: 'its contract cannot be derived now' };
  if (before === undefined) return { added: after.map(change), removed: [], changed: [], summary: `first version: ${after.length} answers` };
  const diff = diffContracts(before, after);
  type Summary = (typeof diff.added)[number];
  const entryOf = (list: ContractEntry[], s: Summary) => list.find((e) => e.id === s.id && e.node === s.node && e.port === s.port)!;
  const added = diff.added.map((s) => entryOf(after, s));
  const removed = diff.removed.map((s) => entryOf(before, s));
  const changed = diff.changed.map((c) => ({ before: entryOf(before, c.before), after: entryOf(after, c.after) }));
  const words = [
    ...added.map((e) => `adds ${e.status} ${publicTitle(e)}`),
    ...removed.map((e) => `removes ${e.status} ${publicTitle(e)}`),
    ...changed.map((c) => `changes ${c.before.status} ${publicTitle(c.before)} to ${c.after.status} ${publicTitle(c.after)}${c.before.type === c.after.type ? '' : ` (${c.after.type ?? 'no problem type'})`}`),
  ];
  return { added: added.map(change), removed: removed.map(change), changed: changed.map((c) => ({ before: change(c.before), after: change(c.after) })), summary: words.length === 0 ? 'the contract is unchanged' : words.join('; ') };
}
