// TLS material for STARTTLS and implicit TLS: the operator's PEM files, or a self-signed pair
// generated once into <dataDir>/tls/ and reused, so clients that pin it keep working after restarts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';
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

async function generatePair(hostname: string): Promise<TlsMaterial> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    // Ten years: a development certificate should not expire under a running sandbox.
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
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
