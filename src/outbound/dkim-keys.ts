// The signing keys of --dkim-keys: `domain:selector:key-file` entries, each a PEM private key
// (RSA or Ed25519; the algorithm follows the key). Read once at start-up, so a bad entry stops
// the server with a message naming it instead of failing on the first send.
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { ConfigError } from '../config/load.ts';
import { type DkimKey, isValidDomain, isValidSelector } from './dkim.ts';

export function loadDkimKeys(entries: readonly string[]): DkimKey[] {
  return entries.map((entry) => {
    const [domain, selector, ...rest] = entry.split(':');
    const file = rest.join(':');
    const where = `--dkim-keys "${domain}:${selector}:…"`;
    if (!domain || !selector || !file)
      throw new ConfigError(`--dkim-keys: "${entry}" is not domain:selector:key-file`);
    if (!isValidDomain(domain)) throw new ConfigError(`${where}: "${domain}" is not a domain name`);
    if (!isValidSelector(selector)) throw new ConfigError(`${where}: "${selector}" is not a DKIM selector`);
    let pem: string;
    try {
      pem = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${where}: cannot read the key file: ${(err as Error).message}`);
    }
    let type: string | undefined;
    try {
      type = createPrivateKey(pem).asymmetricKeyType;
    } catch {
      throw new ConfigError(`${where}: the key file does not hold a PEM private key`);
    }
    if (type !== 'rsa' && type !== 'ed25519')
      throw new ConfigError(`${where}: an ${type} key cannot sign DKIM`);
    return {
      domain: domain.toLowerCase(),
      selector: selector.toLowerCase(),
      algorithm: type === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256',
      privateKeyPem: pem,
    };
  });
}
