import type { ClientCertConfig } from '../../shared/nodes/index.ts';
import { admit } from './support/partner-admission.ts';
import { certificateKey } from './support/partner-directory.ts';
import type { Runtime } from './types.ts';

/**
 * Identifies the partner by its client certificate: the gateway verified it (on the TLS
 * connection, or from a trusted proxy's header); here it is looked up in the partner directory
 * of the current store revision, by the configured matches in order. Then the partner's access
 * to this workflow is checked.
 */
export const clientCert: Runtime<ClientCertConfig> = (config, context) => {
  const matches = config.match;
  const access = context.partners;
  const workflowId = context.workflowId;
  return {
    run: function clientCert(exchange) {
      const cert = exchange.clientCertificate();
      if (cert === undefined) return 'missing';
      if (!cert.verified) {
        exchange.problemParams = { ...exchange.problemParams, reason: cert.reason };
        return 'invalid';
      }
      const directory = access.current;
      let partner: string | undefined;
      for (const match of matches) {
        if (match === 'fingerprint') partner = directory.certificates.get(certificateKey('fingerprint', cert.fingerprint));
        else if (match === 'subject') partner = cert.subject === undefined ? undefined : directory.certificates.get(certificateKey('subject', cert.subject));
        else for (const san of cert.sans) if ((partner = directory.certificates.get(certificateKey('san', san))) !== undefined) break;
        if (partner !== undefined) break;
      }
      if (partner === undefined) {
        exchange.problemParams = { ...exchange.problemParams, reason: 'it identifies no registered partner' };
        return 'invalid';
      }
      exchange.partner = partner;
      exchange.subject = cert.subject ?? cert.fingerprint;
      return admit(directory, exchange, workflowId);
    },
  };
};
