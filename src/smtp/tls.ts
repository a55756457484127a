// TLS material for STARTTLS and implicit TLS: the operator's PEM files, or a self-signed pair
// generated once into <dataDir>/tls/ and reused, so clients that pin it keep working after restarts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.ts';

export interface TlsMaterial {
  key: string;
  cert: string;
}

async function readPair(keyFile: string, certFile: string): Promise<TlsMaterial> {
  const [key, cert] = await Promise.all([fs.readFile(keyFile, 'utf8'), fs.readFile(certFile, 'utf8')]);
  return { key, cert };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** The pair from a short-lived worker thread (self-signed-worker.ts), which exits afterwards. */
function generatePair(hostname: string): Promise<TlsMaterial> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./self-signed-worker.ts', import.meta.url), {
      workerData: { hostname },
    });
    let pair: TlsMaterial | null = null;
    worker.once('message', (m: TlsMaterial) => (pair = m));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      pair ? resolve(pair) : reject(new Error(`TLS certificate generation failed (worker exit ${code})`)),
    );
  });
}

export async function loadTls(
  config: Pick<Config, 'tlsCert' | 'tlsKey' | 'dataDir' | 'smtpHostname'>,
): Promise<TlsMaterial> {
  if (config.tlsCert && config.tlsKey) return readPair(config.tlsKey, config.tlsCert);
  const dir = path.join(config.dataDir, 'tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  if ((await exists(keyFile)) && (await exists(certFile))) return readPair(keyFile, certFile);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await generatePair(config.smtpHostname);
  // The key is written first and both with 0600: nobody else on the host may read the key.
  await fs.writeFile(keyFile, pair.key, { mode: 0o600 });
  await fs.writeFile(certFile, pair.cert, { mode: 0o600 });
  return pair;
}
