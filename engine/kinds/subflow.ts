import type { SubflowConfig } from '../../shared/nodes/index.ts';
import { PrepareError } from './prepare-error.ts';
import type { Runtime } from './types.ts';

/**
 * A subflow node never runs: validation with the store's fragments inlines its fragment's nodes in
 * its place. One left here means the document was compiled without them, which is refused.
 */
export const subflow: Runtime<SubflowConfig> = (config) => {
  throw new PrepareError('config.fragment', `fragment "${config.fragment}" was not inlined: a subflow runs only when its workflow is validated with the published fragments`);
};
