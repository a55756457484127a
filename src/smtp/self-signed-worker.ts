// Generates Mailroom's self-signed TLS pair in a throwaway worker thread (see tls.ts): the X.509
// and ASN.1 libraries behind `selfsigned` are about 1.5 MB of source whose compiled modules would
// otherwise stay loaded in the server's main thread for its whole life, for one use.
import { parentPort, workerData } from 'node:worker_threads';
import { generate } from 'selfsigned';

const { hostname } = workerData as { hostname: string };
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
parentPort?.postMessage({ key: pems.private, cert: pems.cert });
