/**
 * The admin MCP server's prompts: "explain an answer" and "review a draft". Each gathers what the
 * caller may read (through the admin endpoints, as the caller) into the prompt, so the assistant
 * starts from facts; what the caller's role may not read is left out and said to be.
 */
import type { GetPromptResult, Prompt, PromptMessage } from '@modelcontextprotocol/sdk/types.js';
import { AdminError } from '../errors.ts';
import { readResource, type Invoke } from './resources.ts';

export const PROMPTS: Prompt[] = [
  {
    name: 'explain_answer',
    title: 'Explain an answer',
    description: 'Why did a caller get this answer? From a trace id, or a partner and a time, to the node path, the version that served, and the catalog entry.',
    arguments: [
      { name: 'workflow', description: 'The workflow that answered (its id), when known.', required: false },
      { name: 'partner', description: 'The partner who called (its id), when known.', required: false },
      { name: 'time', description: 'When, as an ISO date-time (2026-12-01T10:42:00Z): the requests within 15 minutes of it; without it, the last day.', required: false },
      { name: 'status', description: 'The status or problem type they got, e.g. 403 or insufficient-scope.', required: false },
      { name: 'trace', description: 'The trace id from the answer\'s traceId field or traceparent header.', required: false },
    ],
  },
  {
    name: 'review_draft',
    title: 'Review a draft',
    description: 'Review a workflow\'s draft before it is published: what changed against the active version, how its error contract changes, and its tests.',
    arguments: [{ name: 'workflow', description: 'The workflow whose draft to review (its id).', required: true }],
  },
];

const text = (value: string): PromptMessage => ({ role: 'user', content: { type: 'text', text: value } });
const json = (title: string, value: unknown) => text(`${title}:\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``);

/** A call's answer, or why the caller cannot have it (its role, a missing version): the prompt says so instead of failing. */
async function attempt(invoke: Invoke, tool: string, args: Record<string, unknown>): Promise<{ ok: true; value: unknown } | { ok: false; why: string }> {
  try {
    return { ok: true, value: await invoke(tool, args) };
  } catch (error) {
    if (error instanceof AdminError) return { ok: false, why: error.message };
    throw error;
  }
}

async function explainAnswer(invoke: Invoke, args: Record<string, string | undefined>): Promise<GetPromptResult> {
  const { workflow, partner, time, status, trace } = args;
  const who = partner ? `partner ${partner}` : 'a caller';
  const asked = [`Explain why ${who} got ${status ? `the answer ${status}` : 'this answer'}${workflow ? ` from workflow ${workflow}` : ''}${time ? ` at ${time}` : ''}${trace ? ` (trace id ${trace})` : ''}.`];
  asked.push(
    'Name the node path that led there (node ids and ports), the catalog entry it answered with (problem type, title, status), and what the caller or an operator can change.',
    'Evidence records each request with its node path (node:port), the version that served it and the outcome; the workflow\'s error contract lists every answer it can give with the node and port that give it; the partner\'s record says whether it is suspended and what its plan allows.',
  );
  if (!workflow) asked.push('No workflow was named: find it with list_workflows (match the route), then read sluice://workflows/{id}/contract.md.');
  const messages: PromptMessage[] = [text(asked.join('\n'))];
  if (workflow) {
    try {
      const contract = await readResource(invoke, `sluice://workflows/${encodeURIComponent(workflow)}/contract.md`);
      messages.push({ role: 'user', content: { type: 'resource', resource: contract.contents[0]! } });
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      messages.push(text(`The contract of ${workflow} could not be read: ${error.message}.`));
    }
    const live = await attempt(invoke, 'get_workflow_live', { id: workflow, ...(partner ? { partner } : {}) });
    messages.push(live.ok ? json(`Live view of ${workflow}${partner ? ` for ${partner}` : ''} (last minute on this gateway)`, live.value) : text(`No live view of ${workflow}: ${live.why}.`));
  }
  if (partner) {
    const record = await attempt(invoke, 'get_partner', { id: partner });
    messages.push(record.ok ? json(`Partner ${partner}`, record.value) : text(`Partner ${partner} could not be read: ${record.why}.`));
    const stats = await attempt(invoke, 'get_partner_stats', { id: partner });
    messages.push(stats.ok ? json(`Requests of ${partner} by workflow and outcome`, stats.value) : text(`No request counts for ${partner}: ${stats.why}.`));
  }
  if (trace) {
    const found = await attempt(invoke, 'get_evidence_trace', { traceId: trace });
    messages.push(found.ok ? json(`Evidence of trace ${trace}: its requests (node path with ports, the version that served), the version as published, the partner's suspension then, the audit entries around`, found.value) : text(`No evidence of trace ${trace}: ${found.why}.`));
  }
  if (partner || workflow) {
    // the requests around the time asked about (the last day without one): records for auditors, counts for everyone
    const at = time === undefined ? Number.NaN : Date.parse(time);
    const window = Number.isNaN(at) ? { from: Date.now() - 86_400_000, to: Date.now() } : { from: at - 15 * 60_000, to: at + 15 * 60_000 };
    const filter = { ...window, ...(partner ? { partner } : {}), ...(workflow ? { workflow } : {}), ...(status && /^\d{3}$/.test(status) ? { status: Number(status) } : {}) };
    const records = await attempt(invoke, 'get_evidence', { ...filter, limit: 20 });
    if (records.ok) messages.push(json(`Evidence records${Number.isNaN(at) ? ' of the last day' : ` within 15 minutes of ${time}`} (newest first)`, records.value));
    else {
      const counts = await attempt(invoke, 'get_evidence_aggregate', { ...window, ...(partner ? { partner } : {}), ...(workflow ? { workflow } : {}), by: 'workflow,version,outcome,status,problem' });
      messages.push(counts.ok ? json(`Evidence counts (records need the auditor role: ${records.why})`, counts.value) : text(`No evidence: ${counts.why}.`));
    }
  }
  return { description: `Explain ${status ?? 'an answer'} for ${who}`, messages };
}

async function reviewDraft(invoke: Invoke, workflow: string): Promise<GetPromptResult> {
  const record = (await invoke('get_workflow', { id: workflow })) as { active: number | null; draft: unknown };
  if (record.draft === null) throw new AdminError('not_found', `workflow "${workflow}" has no draft`);
  const messages: PromptMessage[] = [
    text(
      `Review the draft of workflow ${workflow} before it is published${record.active === null ? ' (its first version)' : ` (it replaces version ${record.active})`}. ` +
        'Say what changes for callers (new or removed answers, changed statuses), whether the tests cover the changed nodes, and anything risky: a wider route, a weaker check, a higher limit, an upstream that changed.',
    ),
  ];
  if (record.active !== null) {
    const diff = await attempt(invoke, 'get_workflow_diff', { id: workflow, from: 'active', to: 'draft' });
    messages.push(diff.ok ? json('Changes from the active version to the draft', diff.value) : text(`No diff: ${diff.why}.`));
    const contract = await attempt(invoke, 'get_workflow_contract_diff', { id: workflow, from: 'active', to: 'draft' });
    messages.push(contract.ok ? json('How the error contract changes', contract.value) : text(`No contract diff: ${contract.why}.`));
  } else {
    const contract = await attempt(invoke, 'get_workflow_contract', { id: workflow, version: 'draft' });
    messages.push(contract.ok ? json('The error contract of the draft', contract.value) : text(`No contract: ${contract.why}.`));
  }
  const validation = await attempt(invoke, 'validate_workflow', { id: workflow });
  messages.push(validation.ok ? json('Validation of the draft', validation.value) : text(`Not validated: ${validation.why}.`));
  const tests = await attempt(invoke, 'test_workflow', { id: workflow });
  messages.push(tests.ok ? json('The workflow tests run against the draft', tests.value) : text(`Tests not run: ${tests.why}.`));
  return { description: `Review the draft of ${workflow}`, messages };
}

/** Builds one prompt as the caller. */
export async function getPrompt(invoke: Invoke, name: string, args: Record<string, string | undefined>): Promise<GetPromptResult> {
  if (name === 'explain_answer') return explainAnswer(invoke, args);
  if (name === 'review_draft') {
    if (!args.workflow) throw new AdminError('bad_request', 'review_draft needs the argument "workflow"');
    return reviewDraft(invoke, args.workflow);
  }
  throw new AdminError('not_found', `no prompt "${name.slice(0, 64)}" (see prompts/list)`);
}
