/**
 * The part of oidc-provider 8.8.1 the tests use (the package ships no types). Its
 * configuration is passed as plain data and read by the provider itself.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface TokenModel {
    find(value: string): Promise<{ destroy(): Promise<void> } | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    readonly ClientCredentials: TokenModel;
    readonly AccessToken: TokenModel;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
