import { z } from 'zod';
import { documentSizeProblemsSliced, issueProblems, runPaced, storedCredentialProblems, type ValidationProblem } from '../../../shared/compile/index.ts';
import { workflowDocumentSchema, type DocumentLimits } from '../../../shared/schema/index.ts';
import { createPace } from '../../compile/pace.ts';
import { storedDocumentSliced, type StoredDocument } from '../../store/audit.ts';
import { AdminError } from '../errors.ts';

/**
 * A draft as the store keeps it, made in slices (a large one never holds the event loop). A
 * draft may be half drawn, but never larger than a document may be, nor hold a credential.
 */
export async function storedDraft(document: unknown, limits: DocumentLimits | undefined, sliceMs: number | undefined): Promise<StoredDocument> {
  const pace = createPace(sliceMs);
  const problems = await runPaced(documentSizeProblemsSliced(document, limits), pace);
  if (problems.length > 0) throw new AdminError('validation_failed', `the document is too large: ${problems.map((p) => p.message).join('; ')}`, { problems });
  const credentials = storedCredentialProblems(document);
  if (credentials.length > 0) throw new AdminError('validation_failed', `the document holds ${credentials.length} credential(s) as typed: ${credentials.map((p) => p.field).join(', ')}`, { problems: credentials });
  return runPaced(storedDocumentSliced(document), pace);
}

/**
 * What a new workflow's first draft must have right although a draft may be half drawn: the
 * envelope (id, name, route, and no key the format does not know). Its nodes and edges are
 * checked by validation, as on every draft; a wrong route or a stray key is not something the
 * canvas can show or fix, so a workflow is never created with one.
 */
const envelopeSchema = workflowDocumentSchema.extend({
  nodes: z.array(z.unknown()),
  edges: z.array(z.unknown()).optional(),
  layout: z.unknown().optional(),
  tests: z.unknown().optional(),
  samples: z.unknown().optional(),
  log: z.unknown().optional(),
});

/** The envelope's problems, each pinned to its field. */
function envelopeProblems(document: unknown): ValidationProblem[] {
  const parsed = envelopeSchema.safeParse(document);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) =>
    issueProblems(issue).map(({ path, message }) => ({ code: 'invalid_document' as const, message, field: path.map(String).join('.') || '(document)' })),
  );
}

/** The document's id when its envelope is valid; refuses it (every envelope problem at once) when not. */
export function requireEnvelope(document: unknown): string {
  const problems = envelopeProblems(document);
  if (problems.length > 0)
    throw new AdminError('validation_failed', `the document cannot become a workflow: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { problems });
  return (document as { id: string }).id;
}
