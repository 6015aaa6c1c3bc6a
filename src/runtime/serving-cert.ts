import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';

/** A serving certificate could not be read. */
export class ServingCertError extends Error {
  override readonly name = 'ServingCertError';
}

/**
 * The metrics server's certificate, as controller-runtime chooses it: tls.crt and tls.key from a
 * directory (cert-manager, a Secret), else a self-signed one made at start (Prometheus then scrapes
 * with `insecureSkipVerify`, as kubebuilder's default ServiceMonitor does).
 */
export async function servingCert(dir: string | undefined): Promise<{ cert: string; key: string; selfSigned: boolean }> {
  if (dir) {
    try {
      const [cert, key] = await Promise.all([readFile(join(dir, 'tls.crt'), 'utf8'), readFile(join(dir, 'tls.key'), 'utf8')]);
      return { cert, key, selfSigned: false };
    } catch (err) {
      throw new ServingCertError(`cannot read tls.crt and tls.key in ${dir}`, { cause: err });
    }
  }
  const name = hostname();
  // Loaded only here: the plugin's commands share this executable and should not pay for it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}
