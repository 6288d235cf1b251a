import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../../engine/config.ts';
import { createWorkflowEnv, parseSecretHosts } from '../../../../engine/kinds/support/workflow-env.ts';

describe('SLUICE_SECRET_HOSTS: where each secret may be sent', () => {
  it('parses NAME=host,host;NAME=host, repeated names adding hosts', () => {
    expect(parseSecretHosts(' SLUICE_SECRET_AS = auth.example.com, *.idp.example ;SLUICE_SECRET_B=127.0.0.1:8443; SLUICE_SECRET_AS=other.example')).toEqual({
      SLUICE_SECRET_AS: ['auth.example.com', '*.idp.example', 'other.example'],
      SLUICE_SECRET_B: ['127.0.0.1:8443'],
    });
    expect(parseSecretHosts('')).toEqual({});
  });

  it.each([
    ['no equals sign', 'SLUICE_SECRET_AS', /NAME=host/],
    ['a lower-case name', 'secret=auth.example.com', /NAME=host/],
    ['no host', 'SLUICE_SECRET_AS=', /bound to no host/],
    ['a URL instead of a host', 'SLUICE_SECRET_AS=https://auth.example.com', /not a host name/],
    ['a path', 'SLUICE_SECRET_AS=auth.example.com/introspect', /not a host name/],
  ])('refuses %s', (_name, text, words) => {
    expect(() => parseSecretHosts(text)).toThrow(words);
  });

  it('the gateway refuses to start on a malformed binding, naming the setting', () => {
    expect(() => loadSettings({ SLUICE_SECRET_HOSTS: 'SLUICE_SECRET_AS=https://x' })).toThrow(/SLUICE_SECRET_HOSTS/);
  });

  it('a workflow learns the hosts of an allowed secret only, before and without reading its value', () => {
    const env = createWorkflowEnv({ SLUICE_SECRET_AS: 'the-value', DATABASE_PASSWORD: 'db' }, { urls: [], secrets: ['SLUICE_SECRET_*'], secretHosts: { SLUICE_SECRET_AS: ['auth.example.com'] } });
    expect(env.secretHosts('SLUICE_SECRET_AS', 'config.clientSecretEnv')).toEqual(['auth.example.com']);
    expect(env.secretHosts('SLUICE_SECRET_UNSET', 'config.clientSecretEnv')).toEqual([]);
    expect(() => env.secretHosts('DATABASE_PASSWORD', 'config.clientSecretEnv')).toThrow(/not allowed as a secret/);
  });
});
