import type { LlmRecord } from '../kinds/types.ts';
import { PartnerLabels } from './partner-labels.ts';
import type { LoggedLlm } from './request-log.ts';
import type { VersionMetrics } from './workflow-metrics.ts';

/** One series of sluice_llm_tokens_total: tokens in and out for a partner, product and model label. */
export interface TokenSeries {
  partner: string;
  product: string;
  model: string;
  input: number;
  output: number;
}

/**
 * Tokens of LLM calls by partner, product and model. Every label is bounded: partners as the
 * request metrics bound them, models (named by the caller's request body) to the first `modelLimit`
 * seen, the rest `other`; products are the registry's own ids.
 */
export class LlmTokens {
  readonly series = new Map<string, TokenSeries>();
  readonly #partners: PartnerLabels;
  readonly #models: PartnerLabels;

  constructor(partners: PartnerLabels, modelLimit = 50) {
    this.#partners = partners;
    this.#models = new PartnerLabels(modelLimit);
  }

  add(partner: string | undefined, product: string, model: string | undefined, input: number, output: number): void {
    const p = this.#partners.label(partner);
    const m = this.#models.label(model);
    const key = `${p}\0${product}\0${m}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = { partner: p, product, model: m, input: 0, output: 0 };
      this.series.set(key, series);
    }
    series.input += input;
    series.output += output;
  }

  /** Model label values in use. */
  get models(): number {
    return this.#models.size;
  }
}

/** Counts a served request's LLM tokens: the process's labelled series and the workflow's totals (live view). */
export function countTokens(counts: LlmTokens, version: VersionMetrics, partner: string | undefined, llm: LlmRecord): void {
  const usage = llm.usage!;
  counts.add(partner, llm.product, llm.model, usage.input, usage.output);
  const tokens = version.workflow.tokens;
  tokens.input += usage.input;
  tokens.output += usage.output;
  if (usage.estimated) tokens.estimated += usage.input + usage.output;
}

/** The request log's `llm` member of a request. */
export function loggedLlm(llm: LlmRecord): LoggedLlm {
  return { model: llm.model, input: llm.usage?.input, output: llm.usage?.output, estimated: llm.usage?.estimated };
}
