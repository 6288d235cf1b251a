import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Certificates made for a test with the openssl CLI (Debian's, as on CI): a CA, certificates it
 * issues (a server's for 127.0.0.1, partners', an expired one) and a stranger CA's. EC P-256, so
 * making a dozen takes well under a second.
 */

export interface TestCertificate {
  /** PEM files on disk, for settings that name files. */
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** SHA-256 of the DER, lower-case hex without colons. */
  fingerprint: string;
}

export interface TestPki {
  dir: string;
  ca: TestCertificate;
  /** Issues a certificate signed by this PKI's CA (or the stranger CA), valid for `days` (negative: expired). */
  issue(name: string, options?: { cn?: string; subject?: string; sans?: string[]; days?: number; by?: 'ca' | 'stranger' }): TestCertificate;
  stranger: TestCertificate;
  close(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function read(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const cert = readFileSync(certFile, 'utf8');
  return { certFile, keyFile, cert, key: readFileSync(keyFile, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256.replaceAll(':', '').toLowerCase() };
}

function selfSigned(dir: string, name: string, cn: string): TestCertificate {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${cn}`, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return read(dir, name);
}

/** A CA, a stranger CA, and a way to issue leaf certificates. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  const ca = selfSigned(dir, 'ca', 'Sluice Test Partner CA');
  const stranger = selfSigned(dir, 'stranger-ca', 'Stranger CA');
  return {
    dir,
    ca,
    stranger,
    issue(name, options = {}) {
      const by = options.by === 'stranger' ? 'stranger-ca' : 'ca';
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', options.subject ?? `/CN=${options.cn ?? name}`], dir);
      const ext = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=clientAuth,serverAuth', ...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : [])].join('\n');
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}.key`, '-days', String(options.days ?? 30), '-out', `${name}.pem`, '-extfile', `${name}.ext`], dir);
      return read(dir, name);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
