// `mailroom dkim keygen`: makes a DKIM signing key and tells the operator which TXT record to
// publish (RFC 6376 §3.6.2.1), like opendkim-genkey does for OpenDKIM.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type DkimAlgorithm,
  dnsRecord,
  dnsZoneLine,
  generateKey,
  isValidDomain,
  isValidSelector,
} from '../outbound/dkim.ts';

export const DKIM_USAGE = `Usage:
  mailroom dkim keygen --domain DOMAIN --selector SELECTOR [--algorithm rsa-sha256|ed25519-sha256] [--out FILE]

Generates a DKIM signing key (RSA 2048 by default) for DOMAIN and prints the DNS TXT record to
publish at SELECTOR._domainkey.DOMAIN. The private key (PKCS#8 PEM) is written to FILE with mode
0600 (an existing file is never overwritten), or printed on standard output without --out.
`;

export interface DkimIo {
  out(text: string): void;
  err(text: string): void;
}

const ALGORITHMS: readonly DkimAlgorithm[] = ['rsa-sha256', 'ed25519-sha256'];

function usageError(io: DkimIo, message: string): number {
  io.err(`dkim: ${message}\n\n${DKIM_USAGE}`);
  return 2;
}

/** Writes the key so that only its owner can read it, refusing to replace a file already there. */
function writePrivateKey(file: string, pem: string): void {
  // 'wx' is O_CREAT|O_EXCL: an existing key (maybe the one in DNS now) is never lost.
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    // The umask can only narrow the mode given to open; set it outright so it is 0600 exactly.
    fs.fchmodSync(fd, 0o600);
    fs.writeFileSync(fd, pem);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs one dkim command; returns the exit code: 0 done, 1 the key could not be written, 2 bad usage. */
export async function runDkimCommand(args: string[], io: DkimIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return usageError(io, 'which command?');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(DKIM_USAGE);
    return 0;
  }
  if (sub !== 'keygen') return usageError(io, `unknown command "${sub}"`);

  let values: { domain?: string; selector?: string; algorithm?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        domain: { type: 'string' },
        selector: { type: 'string' },
        algorithm: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  if (values.help) {
    io.out(DKIM_USAGE);
    return 0;
  }

  const domain = values.domain?.trim().toLowerCase().replace(/\.$/, '');
  const selector = values.selector?.trim().toLowerCase();
  const algorithm = (values.algorithm ?? 'rsa-sha256') as DkimAlgorithm;
  if (!domain) return usageError(io, '--domain is required');
  if (!selector) return usageError(io, '--selector is required');
  if (!isValidDomain(domain)) {
    return usageError(
      io,
      `--domain "${values.domain}" is not a domain name (dot-separated labels of letters, digits and inner hyphens)`,
    );
  }
  if (!isValidSelector(selector)) {
    return usageError(
      io,
      `--selector "${values.selector}" is not a selector (RFC 6376 §3.1: labels of letters, digits and inner hyphens)`,
    );
  }
  // The whole owner name must still fit DNS's 253-octet limit (RFC 1035 §2.3.4).
  const name = `${selector}._domainkey.${domain}`;
  if (name.length > 253) return usageError(io, `${name} is longer than a DNS name can be (253 octets)`);
  if (!ALGORITHMS.includes(algorithm)) {
    return usageError(io, `--algorithm must be one of ${ALGORITHMS.join(', ')}, not "${values.algorithm}"`);
  }
  if (values.out === '') return usageError(io, '--out needs a file name');

  const { privateKeyPem, publicKeyBase64 } = generateKey(algorithm);
  if (values.out === undefined) {
    io.out(privateKeyPem.endsWith('\n') ? privateKeyPem : `${privateKeyPem}\n`);
  } else {
    try {
      writePrivateKey(values.out, privateKeyPem);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      io.err(
        err.code === 'EEXIST'
          ? `dkim: ${values.out} already exists; refusing to overwrite it\n`
          : `dkim: cannot write ${values.out}: ${err.message}\n`,
      );
      return 1;
    }
    io.out(`Private key written to ${values.out} (mode 0600).\n`);
  }

  const pub = { domain, selector, algorithm, publicKeyBase64 };
  const record = dnsRecord(pub);
  io.out(
    `\nPublish this DNS TXT record:\n` +
      `  name:  ${record.name}\n` +
      `  value: ${record.value}\n` +
      `\nAs a zone-file line (strings of at most 255 octets, RFC 6376 §3.6.2.2):\n` +
      `${dnsZoneLine(pub)}\n`,
  );
  return 0;
}
