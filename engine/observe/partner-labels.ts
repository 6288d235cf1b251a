/** The partner label of a request with no identified partner. */
export const NO_PARTNER = 'none';
/** The partner label of every partner beyond the bound. */
export const OTHER_PARTNER = 'other';

/**
 * Bounds the partner label: partners named by credentials (api-key nodes, SLUICE_METRICS_PARTNERS)
 * always get their own; the first `limit` others seen get theirs too, every later one is `other`.
 * So 10,000 distinct partner ids make at most known + limit + 2 label values.
 */
export class PartnerLabels {
  readonly known = new Set<string>();
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number, known: Iterable<string> = []) {
    this.#limit = limit;
    for (const partner of known) this.known.add(partner);
  }

  label(partner: string | undefined): string {
    if (partner === undefined) return NO_PARTNER;
    if (this.known.has(partner) || this.#seen.has(partner)) return partner;
    if (this.#seen.size < this.#limit && partner !== NO_PARTNER && partner !== OTHER_PARTNER) {
      this.#seen.add(partner);
      return partner;
    }
    return OTHER_PARTNER;
  }

  get size(): number {
    return this.known.size + this.#seen.size;
  }
}

