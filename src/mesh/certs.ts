import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The mesh's workload certificates, as Istio's CA issues them: one root, and per workload an
 * RSA 2048 key with a certificate whose only identity is a SPIFFE URI SAN
 * (`spiffe://cluster.local/ns/<ns>/sa/<sa>`, istio/istio security/pkg/pki/util generateCertificate;
 * RSA 2048 is `WORKLOAD_RSA_KEY_SIZE`'s default). Issued with Debian's `openssl` into the mesh's
 * own directory, so nothing secret outlives the scenario's sidecars.
 */

export const TRUST_DOMAIN = 'cluster.local';
export const spiffeId = (namespace: string, serviceAccount: string): string => `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;

export interface WorkloadCert {
  cert: string;
  key: string;
  /** The root both sides trust. */
  ca: string;
  spiffe: string;
}

export class MeshCertError extends Error {}

const run = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new MeshCertError("mutual TLS in the mesh needs Debian's openssl; run: npm run setup");
    throw new MeshCertError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').at(-1)}`);
  }
}

/** A root in `dir`, then one certificate per workload, each signed by it. */
export async function issueWorkloadCerts<K extends string>(dir: string, workloads: Record<K, { namespace: string; serviceAccount: string }>): Promise<Record<K, WorkloadCert>> {
  const ca = join(dir, 'root-cert.pem');
  const caKey = join(dir, 'root-key.pem');
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/O=cluster.local', '-keyout', caKey, '-out', ca], dir);
  const out = {} as Record<K, WorkloadCert>;
  for (const name of Object.keys(workloads) as K[]) {
    const w = workloads[name];
    const key = join(dir, `${name}-key.pem`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}-cert.pem`);
    const ext = join(dir, `${name}.ext`);
    const spiffe = spiffeId(w.namespace, w.serviceAccount);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/', '-keyout', key, '-out', csr], dir);
    writeFileSync(ext, `subjectAltName=critical,URI:${spiffe}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n`);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', cert], dir);
    out[name] = { cert, key, ca, spiffe };
  }
  return out;
}
