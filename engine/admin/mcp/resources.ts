/**
 * The admin MCP server's resources: workflow documents, the error catalog and contracts (JSON and
 * Markdown). Each is read through an admin endpoint as the caller, so the caller's role decides
 * exactly as for the tool (and the HTTP call) that reads the same thing.
 */
import type { ReadResourceResult, Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import type { WorkflowSummary } from '../../../shared/admin/index.ts';
import { contractMarkdown, type ContractEntry } from '../../../shared/compile/index.ts';
import { AdminError } from '../errors.ts';

/** Calls a tool as the caller: the role checked (a refusal audited), the answer the endpoint's. */
export type Invoke = (tool: string, args: Record<string, unknown>) => Promise<unknown>;

/** The most workflows resources/list names one by one; past it the templates still read any workflow. */
const LISTED_WORKFLOWS = 250;

const JSON_TYPE = 'application/json';
const MARKDOWN_TYPE = 'text/markdown';

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  { uriTemplate: 'sluice://workflows/{id}/draft', name: 'workflow-draft', title: 'A workflow\'s draft document', mimeType: JSON_TYPE },
  { uriTemplate: 'sluice://workflows/{id}/active', name: 'workflow-active', title: 'The document of a workflow\'s active version', mimeType: JSON_TYPE },
  { uriTemplate: 'sluice://workflows/{id}/versions/{n}', name: 'workflow-version', title: 'The document of one version of a workflow', mimeType: JSON_TYPE },
  { uriTemplate: 'sluice://workflows/{id}/contract.json', name: 'workflow-contract', title: 'The error contract of a workflow\'s active version', mimeType: JSON_TYPE },
  { uriTemplate: 'sluice://workflows/{id}/contract.md', name: 'workflow-contract-markdown', title: 'The error contract of a workflow\'s active version, in words', mimeType: MARKDOWN_TYPE },
];

const CATALOG: Resource = { uri: 'sluice://catalog', name: 'error-catalog', title: 'The error catalog: every problem the gateway can answer with', mimeType: JSON_TYPE };

/** The resources the caller can read now: the catalog, and each workflow's draft, active document and contract. */
export async function listResources(invoke: Invoke): Promise<Resource[]> {
  const { workflows } = (await invoke('list_workflows', {})) as { workflows: WorkflowSummary[] };
  const resources: Resource[] = [CATALOG];
  for (const w of workflows.slice(0, LISTED_WORKFLOWS)) {
    const base = `sluice://workflows/${encodeURIComponent(w.id)}`;
    const label = w.name ?? w.id;
    if (w.draftChanges || w.activeVersion === null) resources.push({ uri: `${base}/draft`, name: `${w.id}-draft`, title: `${label}: draft`, mimeType: JSON_TYPE });
    if (w.activeVersion !== null) {
      resources.push(
        { uri: `${base}/active`, name: `${w.id}-active`, title: `${label}: version ${w.activeVersion} (active)`, mimeType: JSON_TYPE },
        { uri: `${base}/contract.json`, name: `${w.id}-contract`, title: `${label}: error contract`, mimeType: JSON_TYPE },
        { uri: `${base}/contract.md`, name: `${w.id}-contract-md`, title: `${label}: error contract in words`, mimeType: MARKDOWN_TYPE },
      );
    }
  }
  return resources;
}

const asJson = (uri: string, value: unknown): ReadResourceResult => ({ contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(value, null, 2) }] });

/** Reads one resource as the caller. */
export async function readResource(invoke: Invoke, uri: string): Promise<ReadResourceResult> {
  if (uri === CATALOG.uri) return asJson(uri, await invoke('list_errors', {}));
  const match = /^sluice:\/\/workflows\/([^/]+)\/(draft|active|versions\/([0-9]+)|contract\.json|contract\.md)$/.exec(uri);
  if (match === null) throw new AdminError('not_found', `no resource ${uri.slice(0, 200)} (see resources/list and resources/templates/list)`);
  const id = decodeURIComponent(match[1]!);
  const what = match[2]!;
  if (what === 'draft') {
    const workflow = (await invoke('get_workflow', { id })) as { draft: { document: unknown } | null };
    if (workflow.draft === null) throw new AdminError('not_found', `workflow "${id}" has no draft`);
    return asJson(uri, workflow.draft.document);
  }
  if (what === 'active' || match[3] !== undefined) {
    let n = match[3];
    if (n === undefined) {
      const workflow = (await invoke('get_workflow', { id })) as { active: number | null };
      if (workflow.active === null) throw new AdminError('not_found', `workflow "${id}" has no active version`);
      n = String(workflow.active);
    }
    return asJson(uri, ((await invoke('get_workflow_version', { id, n })) as { document: unknown }).document);
  }
  const contract = (await invoke('get_workflow_contract', { id })) as { workflow: string; version: number | 'draft'; route: { methods: string[]; path: string }; entries: ContractEntry[] };
  if (what === 'contract.json') return asJson(uri, contract);
  return { contents: [{ uri, mimeType: MARKDOWN_TYPE, text: contractMarkdown({ workflow: contract.workflow, version: contract.version, route: contract.route }, contract.entries) }] };
}
