/** The admin API's answers of previews: simulation, workflow tests, error contracts and demo tokens. */
import { z } from 'zod';
import type { ContractEntry } from '../compile/contract.ts';
import type { SimulationResult, TestVerdict } from '../schema/preview.ts';
import { routeSchema } from '../schema/workflow.ts';

const objectOf = <T>(description: string) => z.custom<T>((value) => typeof value === 'object' && value !== null).meta({ description });

/** POST /simulate: shared/schema/preview.ts defines the result. */
export const simulationSchema = objectOf<SimulationResult>('The answer, the path and a trace of every node; or the problems of a document that cannot run.');
export const testRunSchema = z.object({ passed: z.boolean(), tests: z.array(objectOf<TestVerdict>('One workflow test: its verdict and, where it failed, expected against actual.')) });
export const demoTokenAnswerSchema = z.object({ token: z.string() });

const contractEntrySchema = objectOf<ContractEntry>('One answer the workflow can give that is not the upstream\'s: status, problem type, node and port, condition, example, headers.');
/** GET /workflows/:id/contract: the entries, or with ?format=openapi an OpenAPI 3.1 document. */
export const contractSchema = z.object({ workflow: z.string(), version: z.union([z.number().int(), z.literal('draft')]), route: routeSchema, entries: z.array(contractEntrySchema) });
export const contractAnswerSchema = z.union([contractSchema, z.record(z.string(), z.unknown()).meta({ description: 'OpenAPI 3.1 (format=openapi).' })]);

const contractChangeSchema = z.object({ id: z.string(), status: z.number().int(), type: z.string().optional(), node: z.string().optional(), port: z.string().optional() });
/** GET /workflows/:id/contract/diff: answers added, removed and changed, and the change in words. */
export const contractDiffSchema = z.object({
  added: z.array(contractChangeSchema),
  removed: z.array(contractChangeSchema),
  changed: z.array(z.object({ node: z.string().optional(), port: z.string().optional(), before: contractChangeSchema, after: contractChangeSchema })),
  summary: z.string(),
});
