import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminProblemSchema, publishAnswerSchema, workflowViewSchema } from '../../shared/admin/index.ts';
import type { ValidationProblem } from '../../shared/compile/index.ts';
import { ADMIN_TOKEN_FILE } from './auth.ts';

/** What `sluice apply` did with one file. */
export interface ApplyResult {
  file: string;
  workflow: string | undefined;
  /** `pending`: the file removes or changes answers of the error contract, so it waits for a publisher's approval (the version serving stays). */
  outcome: 'published' | 'unchanged' | 'pending' | 'refused';
  version?: number;
  problems?: ValidationProblem[];
  message?: string;
}

/** The admin API as the CLI calls it: base URL and bearer token. */
export function createAdminClient(baseUrl: string, token: string) {
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${baseUrl.replace(/\/$/, '')}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  return { call };
}

/**
 * The admin URL and token the CLI uses: SLUICE_ADMIN_URL (or SLUICE_URL) and SLUICE_ADMIN_TOKEN
 * (or SLUICE_TOKEN), else this machine's gateway and its token file.
 */
export function adminTarget(env: Record<string, string | undefined>, dataDir: string): { url: string; token: string } {
  const url = env.SLUICE_ADMIN_URL ?? env.SLUICE_URL ?? `http://127.0.0.1:${env.PORT ?? '8080'}`;
  let token = env.SLUICE_ADMIN_TOKEN ?? env.SLUICE_TOKEN;
  if (!token && existsSync(join(dataDir, ADMIN_TOKEN_FILE))) token = readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  if (!token) throw new Error(`no admin token: set SLUICE_ADMIN_TOKEN (or run on the gateway's machine, where ${join(dataDir, ADMIN_TOKEN_FILE)} holds one)`);
  return { url, token };
}

/**
 * GitOps: pushes every workflow file of a directory as a draft and publishes it through the
 * admin API. A file equal to the active version is left alone; a refused one is reported with
 * its problems and the version already serving stays.
 */
export async function applyDirectory(client: ReturnType<typeof createAdminClient>, dir: string): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  /** A refused call as a result: the problem's detail and the problems it names. */
  const refused = (file: string, workflow: string, answer: { status: number; body: unknown }): ApplyResult => {
    const problem = adminProblemSchema.partial().safeParse(answer.body);
    return { file, workflow, outcome: 'refused', message: (problem.success ? problem.data.detail : undefined) ?? `HTTP ${answer.status}`, problems: problem.success ? problem.data.problems : undefined };
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let document: { id?: unknown };
    try {
      document = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { id?: unknown };
    } catch (error) {
      results.push({ file, workflow: undefined, outcome: 'refused', message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    const id = typeof document.id === 'string' ? document.id : undefined;
    if (!id) {
      results.push({ file, workflow: undefined, outcome: 'refused', message: 'the document has no "id"' });
      continue;
    }
    const existing = await client.call('GET', `/workflows/${encodeURIComponent(id)}`);
    let saved: { status: number; body: Record<string, unknown> };
    if (existing.status === 404) saved = await client.call('POST', '/workflows', { document });
    else if (existing.status === 200) {
      const { draft } = workflowViewSchema.parse(existing.body);
      saved = JSON.stringify(draft?.document) === JSON.stringify(document) ? { status: 200, body: {} } : await client.call('PUT', `/workflows/${encodeURIComponent(id)}/draft`, { document, baseRevision: draft?.revision ?? 0 });
    } else saved = existing;
    if (saved.status >= 300) {
      results.push(refused(file, id, saved));
      continue;
    }
    const answer = await client.call('POST', `/workflows/${encodeURIComponent(id)}/publish`);
    if (answer.status >= 300) {
      results.push(refused(file, id, answer));
      continue;
    }
    const published = publishAnswerSchema.parse(answer.body);
    if ('pending' in published) results.push({ file, workflow: id, outcome: 'pending', message: `waits for another publisher's approval: ${published.approval.diff.summary}` });
    else results.push({ file, workflow: id, outcome: published.unchanged ? 'unchanged' : 'published', version: published.version });
  }
  return results;
}
