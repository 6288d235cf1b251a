/**
 * The error contract in words, for people who do not read graphs: why each answer is given (the
 * condition that leads there, from the node kinds and port names), the path on the canvas and an
 * example body. One set of words for the editor's contract view and its Markdown export.
 */
import type { ContractEntry } from './contract.ts';
export { nodeName } from './port-words.ts';

/** An answer of the contract, said for a person: what the caller gets, why and how the request gets there. */
export interface EntryWords {
  status: number;
  title: string;
  /** The problem type, or "the node's own answer" for a respond node. */
  type: string;
  /** Why it happens, in words. */
  why: string;
  /** The way there on the canvas, by node names ("Verify token → Check scopes → Too many"), or "any request" for gateway answers. */
  path: string;
  /** The example answer body, as pretty JSON. */
  example: string;
  /** Headers that come with it, as `name: value` lines. */
  headers: string[];
}

/** A contract entry in words; `names` gives the canvas name of a node id (its label). */
export function entryWords(entry: ContractEntry, names: (id: string) => string = (id) => id): EntryWords {
  const skipped = entry.pathSkipped ? [`… ${entry.pathSkipped} more`] : [];
  return {
    status: entry.status,
    title: entry.title,
    type: entry.type ?? 'the node’s own answer (not a problem)',
    why: entry.condition,
    path: entry.node ? [...skipped, ...entry.path.map((s) => names(s.node))].join(' → ') : 'any request to the route (the gateway answers)',
    example: JSON.stringify(entry.example, null, 2),
    headers: Object.entries(entry.headers).map(([k, v]) => `${k}: ${v}`),
  };
}

/** Contract entries in reading order: by status, then by where they come from (gateway answers last). */
export const sortedEntries = (entries: readonly ContractEntry[]) => [...entries].sort((a, b) => a.status - b.status || (a.node ?? '~').localeCompare(b.node ?? '~') || a.id.localeCompare(b.id));

export interface ContractDocumentInfo {
  workflow: string;
  /** The version the contract is of ('draft' or a number). */
  version: number | 'draft';
  route: { methods: readonly string[]; path: string };
  /** The workflow's name. */
  name?: string | undefined;
  /** What changes between the active version and the draft, in words. */
  change?: string | undefined;
}

/**
 * Text from the document (labels, names, titles) as Markdown prose: no raw HTML (`<` and `&` are
 * escaped outside code spans) and no line breaks, so a label cannot add markup to the export.
 */
function prose(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split(/(`` .+? ``|`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}
const cell = (text: string) => prose(text).replace(/\|/g, '\\|');
/** A code fence longer than any run of backticks in the text, so an example body cannot close it early. */
const fence = (text: string) => '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));

/** The contract as Markdown: a table of every answer, then each answer with why, path and example. */
export function contractMarkdown(info: ContractDocumentInfo, entries: readonly ContractEntry[], names?: (id: string) => string): string {
  const said = sortedEntries(entries).map((e) => entryWords(e, names));
  const version = info.version === 'draft' ? 'the draft' : `version ${info.version}`;
  const lines = [
    `# ${prose(info.name ?? info.workflow)}: the answers it gives`,
    '',
    `Workflow \`${info.workflow}\`, ${version}, serving \`${info.route.methods.join(', ')} ${info.route.path}\`. Every answer that does not come from the upstream:`,
    '',
    ...(info.change ? [`**Change against the active version:** ${prose(info.change)}.`, ''] : []),
    '| Status | Title | Problem type | Why |',
    '| --- | --- | --- | --- |',
    ...said.map((w) => `| ${w.status} | ${cell(w.title)} | ${cell(w.type)} | ${cell(w.why)} |`),
  ];
  for (const w of said) {
    lines.push('', `## ${w.status} ${prose(w.title)}`, '', `- **Why:** ${prose(w.why)}`, `- **Problem type:** ${prose(w.type)}`, `- **Path on the canvas:** ${prose(w.path)}`);
    if (w.headers.length > 0) lines.push(`- **Headers:** ${w.headers.map((h) => `\`${h}\``).join(', ')}`);
    lines.push('', `${fence(w.example)}json`, w.example, fence(w.example));
  }
  return `${lines.join('\n')}\n`;
}
