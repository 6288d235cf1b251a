import { z } from 'zod';
import { idSchema, MAX_EDGES, MAX_NODES, workflowEdgeSchema, workflowNodeSchema } from './workflow.ts';

/** An exit's name: a port of every subflow node that uses the fragment. */
export const exitNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'exit names are lower-case words (a-z, 0-9, "-", "_"), up to 32 characters');

/** The most exits a fragment declares. */
export const MAX_EXITS = 16;

/**
 * A shared flow: nodes and edges drawn once and used by many workflows through `subflow` nodes,
 * inlined when each workflow is validated (its transition table stays flat). An edge whose `to`
 * names one of `exits` leaves the fragment: the subflow node's port of that name says where to.
 */
const fragmentObject = z
  .object({
    $schema: z.string().optional(),
    id: idSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    exits: z
      .array(z.object({ name: exitNameSchema, description: z.string().max(500).optional() }).strict())
      .min(1)
      .max(MAX_EXITS)
      .meta({ description: 'Where the fragment ends: each exit is a port of the subflow nodes that use it; an edge to an exit\'s name leaves the fragment by it.' }),
    start: idSchema.optional().meta({ description: 'First node; defaults to the one node without incoming edges.' }),
    nodes: z.array(workflowNodeSchema).min(1).max(MAX_NODES),
    edges: z.array(workflowEdgeSchema).max(MAX_EDGES).default([]),
    layout: z.record(z.string(), z.object({ x: z.number(), y: z.number() }).strict()).default({}).meta({ description: 'Editor positions by node or exit name; ignored by the engine.' }),
  })
  .strict();

export const fragmentDocumentSchema = fragmentObject
  .superRefine((doc, ctx) => {
    const nodeIds = new Set(doc.nodes.map((n) => n.id));
    const seen = new Set<string>();
    doc.exits.forEach((exit, i) => {
      if (seen.has(exit.name)) ctx.addIssue({ code: 'custom', path: ['exits', i, 'name'], message: `exit "${exit.name}" is declared twice` });
      if (nodeIds.has(exit.name)) ctx.addIssue({ code: 'custom', path: ['exits', i, 'name'], message: `exit "${exit.name}" has the id of a node: an edge to it would be ambiguous` });
      seen.add(exit.name);
    });
    doc.nodes.forEach((node, i) => {
      if (node.kind === 'subflow') ctx.addIssue({ code: 'custom', path: ['nodes', i, 'kind'], message: 'a fragment cannot use another fragment (subflow nodes are for workflows)' });
    });
  })
  .meta({ title: 'Sluice fragment', description: 'A shared flow: nodes and edges used by many workflows through subflow nodes, with declared exits.' });

/** What a fragment's first draft must have right (its nodes and edges may be half drawn): id, name, exits. */
export const fragmentEnvelopeSchema = fragmentObject.extend({ nodes: z.array(z.unknown()), edges: z.array(z.unknown()).optional(), layout: z.unknown().optional() });

export type FragmentDocument = z.infer<typeof fragmentDocumentSchema>;

/** The published fragment a subflow node names: its active version, or the pinned one; undefined when there is none. */
export type FragmentResolver = (id: string, version?: number) => { version: number; document: FragmentDocument } | undefined;
