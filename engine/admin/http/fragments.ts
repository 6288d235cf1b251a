/** Fragments (shared flows): the list with who uses each, one fragment, drafts, validation, publish and rollback. */
import { z } from 'zod';
import { fragmentDraftSavedSchema, fragmentListSchema, fragmentPublishedSchema, fragmentRecordSchema, fragmentVersionSchema, fragmentViewSchema, validatedSchema, type FragmentSummary } from '../../../shared/admin/index.ts';
import { MAX_PUBLISH_NOTE } from '../../../shared/schema/lifecycle.ts';
import { fragmentOf } from '../../compile/fragments.ts';
import type { FragmentRecord, StoreState } from '../../store/types.ts';
import type { FragmentUsage } from '../commands/fragments.ts';
import { AdminError } from '../errors.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const documentField = z.record(z.string(), z.unknown());
const fragmentParams = z.object({ id: z.string() });
const versionParams = fragmentParams.extend({ n: z.coerce.number().int().min(1) });
const createBody = z.object({ document: documentField }).strict();
const draftBody = z.object({ document: documentField, baseRevision: z.number().int().min(0) }).strict();
const validateBody = z.object({ document: documentField.optional() }).strict();
const publishBody = z.object({ note: z.string().max(MAX_PUBLISH_NOTE).optional().meta({ description: 'What the version is for, kept with it and in the audit log.' }) }).strict();
const versionBody = z.object({ version: z.number().int().min(1) }).strict();

const recordView = (record: FragmentRecord) => ({ ...record, draft: record.draft ?? null, active: record.active ?? null });

export function fragmentEndpoints(context: AdminContext): Endpoint[] {
  const { store } = context;
  // read when called: the endpoint table is also built without a lifecycle (the API reference)
  const fragments = () => context.options.lifecycle.fragments;

  async function requireRecord(id: string): Promise<{ state: StoreState; record: FragmentRecord }> {
    const state = await store.state();
    const record = fragmentOf(state, id);
    if (!record) throw new AdminError('not_found', `no fragment "${id}"`);
    return { state, record };
  }

  async function summary(record: FragmentRecord, usedBy: FragmentUsage[]): Promise<FragmentSummary> {
    const active = record.versions.find((v) => v.version === record.active);
    const document = (await store.document(active?.hash ?? record.draft!.hash)) as { name?: unknown; exits?: unknown };
    return {
      id: record.id,
      ...(typeof document.name === 'string' ? { name: document.name } : {}),
      exits: Array.isArray(document.exits) ? (document.exits as Array<{ name: string; description?: string }>) : [],
      activeVersion: record.active ?? null,
      draftChanges: record.draft !== undefined && record.draft.hash !== active?.hash,
      draftRevision: record.draft?.revision ?? 0,
      versionCount: record.versions.length,
      usedBy,
    };
  }

  return [
    defineEndpoint({
      method: 'get', path: '/fragments', permission: 'read', summary: 'Every fragment (shared flow) with its exits, active version and the workflows that use it', response: fragmentListSchema,
      handler: async () => {
        const state = await store.state();
        const items = [];
        for (const record of Object.values(state.fragments ?? {})) items.push(await summary(record, await fragments().usages(state, record.id)));
        return { revision: state.revision, fragments: items.sort((a, b) => a.id.localeCompare(b.id)) };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/fragments', permission: 'edit', summary: 'Create a fragment from a document (its first draft)', status: 201, body: createBody, response: fragmentRecordSchema,
      handler: async ({ actor, body }) => recordView(await fragments().create(actor, body.document)),
    }),
    defineEndpoint({
      method: 'get', path: '/fragments/:id', permission: 'read', summary: 'A fragment: its draft, versions, active pointer and the workflows that use it', params: fragmentParams, response: fragmentViewSchema,
      handler: async ({ params }) => {
        const { state, record } = await requireRecord(params.id);
        const draft = record.draft ? { ...record.draft, document: await store.document(record.draft.hash) } : null;
        return { ...recordView(record), draft, usedBy: await fragments().usages(state, record.id) };
      },
    }),
    defineEndpoint({
      method: 'put', path: '/fragments/:id/draft', permission: 'edit', summary: 'Save the fragment\'s draft; baseRevision must be the draft revision it was based on (409 when stale)', params: fragmentParams, body: draftBody, response: fragmentDraftSavedSchema,
      handler: async ({ actor, params, body }) => {
        const draft = await fragments().saveDraft(actor, params.id, body.document, body.baseRevision);
        return { draft, problems: (await fragments().check(body.document)).problems };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/fragments/:id/validate', permission: 'edit', summary: 'Validate the fragment\'s draft (or a document given in the body) on its own, as a publish would before checking the workflows that use it', params: fragmentParams, body: validateBody, response: validatedSchema,
      handler: async ({ params, body }) => {
        const { record } = await requireRecord(params.id);
        const document = body.document ?? (record.draft ? await store.document(record.draft.hash) : undefined);
        if (document === undefined) throw new AdminError('not_found', `fragment "${params.id}" has no draft`);
        const { problems } = await fragments().check(document);
        return { ok: problems.length === 0, problems };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/fragments/:id/publish', permission: 'publish', summary: 'Publish the fragment\'s draft as its next version; refused unless every workflow following the fragment still validates and passes its tests with it', params: fragmentParams, body: publishBody, response: fragmentPublishedSchema,
      handler: ({ actor, params, body }) => fragments().publish(actor, params.id, body.note),
    }),
    defineEndpoint({
      method: 'post', path: '/fragments/:id/rollback', permission: 'publish', summary: 'Make an earlier version of the fragment active again, checked as a publish is', params: fragmentParams, body: versionBody, response: fragmentPublishedSchema,
      handler: ({ actor, params, body }) => fragments().rollback(actor, params.id, body.version),
    }),
    defineEndpoint({
      method: 'get', path: '/fragments/:id/versions/:n', permission: 'read', summary: 'One version of a fragment with its document', params: versionParams, response: fragmentVersionSchema,
      handler: async ({ params }) => {
        const { record } = await requireRecord(params.id);
        const version = record.versions.find((v) => v.version === params.n);
        if (!version) throw new AdminError('not_found', `fragment "${params.id}" has no version ${params.n}`);
        return { ...version, active: record.active === params.n, document: await store.document(version.hash) };
      },
    }),
  ];
}
