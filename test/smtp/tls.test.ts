// TLS material: generated once into <dataDir>/tls with mode 0600, reused later; files win.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { loadTls } from '../../src/smtp/tls.ts';
import { tempDir } from '../helpers/backends.ts';

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a self-signed pair is generated on first start and reused after', async () => {
  const config = loadConfig({ argv: ['--data-dir', dir, '--smtp-hostname', 'mx.example.test'], env: {} });
  const first = await loadTls(config);
  for (const f of ['key.pem', 'cert.pem']) {
    assert.equal(fs.statSync(path.join(dir, 'tls', f)).mode & 0o777, 0o600, f);
  }
  const cert = new X509Certificate(first.cert);
  assert.match(cert.subject, /CN=mx\.example\.test/);
  assert.ok(cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(first.key))));
  const second = await loadTls(config);
  assert.equal(second.cert, first.cert);
  assert.equal(second.key, first.key);
});

test('--tls-cert and --tls-key files are used as given', async () => {
  const other = tempDir();
  const generated = await loadTls(loadConfig({ argv: ['--data-dir', other], env: {} }));
  const certFile = path.join(dir, 'given-cert.pem');
  const keyFile = path.join(dir, 'given-key.pem');
  fs.writeFileSync(certFile, generated.cert);
  fs.writeFileSync(keyFile, generated.key);
  const config = loadConfig({
    argv: ['--data-dir', dir, '--tls-cert', certFile, '--tls-key', keyFile],
    env: {},
  });
  assert.deepEqual(await loadTls(config), generated);
  fs.rmSync(other, { recursive: true, force: true });
});
