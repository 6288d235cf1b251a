/** Workflows: the list, one record, creating one, saving and validating its draft. */
import { z } from 'zod';
import { deletedSchema, draftSavedSchema, restoredSchema, validatedSchema, workflowListSchema, workflowRecordSchema, workflowState, workflowViewSchema, type WorkflowSummary } from '../../../shared/admin/index.ts';
import type { WorkflowDocument } from '../../../shared/schema/index.ts';
import type { WorkflowRecord } from '../../store/types.ts';
import { createArchive } from '../commands/archive.ts';
import { workflowParams, type AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const documentField = z.record(z.string(), z.unknown());
const draftBody = z.object({ document: documentField, baseRevision: z.number().int().min(0) }).strict();
const createBody = z.object({ document: documentField }).strict();
const validateBody = z.object({ document: documentField.optional() }).strict();
const archiveBody = z.object({ reason: z.string().trim().max(500).optional().meta({ description: 'Why it is archived, for the audit log and the list.' }) }).strict();
const noBody = z.object({}).strict();

/** A workflow record as the API shows it: absent values are null, never missing. */
const recordView = (workflow: WorkflowRecord) => ({ ...workflow, draft: workflow.draft ?? null, active: workflow.active ?? null, archived: workflow.archived ?? null, canary: workflow.canary ?? null });

export function workflowEndpoints(context: AdminContext): Endpoint[] {
  const { store, options, record } = context;
  const { lifecycle } = options;
  const archive = createArchive({ store }, lifecycle);

  async function summary(w: WorkflowRecord): Promise<WorkflowSummary> {
    const active = w.versions.find((v) => v.version === w.active);
    const doc = (await store.document(active?.hash ?? w.draft!.hash)) as Partial<WorkflowDocument>;
    const lastChange = [w.draft ? { at: w.draft.updatedAt, by: w.draft.updatedBy } : undefined, ...w.versions.map((v) => ({ at: v.publishedAt, by: v.publishedBy }))]
      .filter((c): c is { at: string; by: string } => c !== undefined)
      .sort((a, b) => (a.at < b.at ? 1 : -1))[0];
    return {
      id: w.id,
      name: doc.name,
      route: doc.route,
      activeVersion: w.active ?? null,
      state: workflowState(active),
      draftChanges: w.draft !== undefined && w.draft.hash !== active?.hash,
      draftRevision: w.draft?.revision ?? 0,
      versionCount: w.versions.length,
      lastChange,
      ...(w.archived ? { archived: w.archived } : {}),
    };
  }

  return [
    defineEndpoint({
      method: 'get', path: '/workflows', permission: 'read', summary: 'Every workflow with its route, active version, state and last change', response: workflowListSchema,
      handler: async () => {
        const state = await store.state();
        const items = [];
        for (const w of state.workflows.values()) items.push(await summary(w));
        return { revision: state.revision, workflows: items.sort((a, b) => a.id.localeCompare(b.id)) };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows', permission: 'edit', summary: 'Create a workflow from a document (its first draft)', status: 201, body: createBody, response: workflowRecordSchema,
      handler: async ({ actor, body }) => recordView(await lifecycle.create(actor, body.document)),
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id', permission: 'read', summary: 'A workflow: its draft, versions and active pointer', params: workflowParams, response: workflowViewSchema,
      handler: async ({ params }) => {
        const { workflow } = await record(params.id);
        const draft = workflow.draft ? { ...workflow.draft, document: await store.document(workflow.draft.hash) } : null;
        return { ...recordView(workflow), draft };
      },
    }),
    defineEndpoint({
      method: 'put', path: '/workflows/:id/draft', permission: 'edit', summary: 'Save the draft; baseRevision must be the draft revision it was based on (409 when stale)', params: workflowParams, body: draftBody, response: draftSavedSchema,
      handler: async ({ actor, params, body }) => {
        const draft = await lifecycle.saveDraft(actor, params.id, body.document, body.baseRevision);
        const result = await context.validate(body.document);
        return { draft, problems: result.ok ? [] : result.problems };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/validate', permission: 'edit', summary: 'Validate the draft (or a document given in the body) as a publish would', params: workflowParams, body: validateBody, response: validatedSchema,
      handler: async ({ params, body }) => {
        const document = body.document ?? (await context.versionDocument(params.id, 'draft'));
        const problems = await lifecycle.check(await store.state(), params.id, document);
        return { ok: problems.length === 0, problems };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/archive', permission: 'publish', summary: 'Archive a workflow: it stops serving, its route is free, its draft and versions stay for audit and take no edit until restored', params: workflowParams, body: archiveBody, response: workflowRecordSchema,
      handler: async ({ actor, params, body }) => recordView(await archive.archive(actor, params.id, body.reason || undefined)),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/restore', permission: 'publish', summary: 'Restore an archived workflow; the version that served when it was archived serves again only if its route is still free (else it comes back inactive, saying why)', params: workflowParams, body: noBody, response: restoredSchema,
      handler: async ({ actor, params }) => {
        const restored = await archive.restore(actor, params.id);
        return { ...restored, active: restored.active ?? null };
      },
    }),
    defineEndpoint({
      method: 'delete', path: '/workflows/:id', permission: 'publish', summary: 'Delete a workflow that never had a version (a draft only); one with versions is archived instead', params: workflowParams, body: noBody, response: deletedSchema,
      handler: ({ actor, params }) => archive.remove(actor, params.id),
    }),
  ];
}
