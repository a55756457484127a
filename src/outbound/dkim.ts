// DKIM signing of outbound mail (RFC 6376), with RSA-SHA256 or Ed25519-SHA256 keys (RFC 8463).
// The cryptography and canonicalization are mailauth's; this module picks the header fields, keeps
// the bytes CRLF-clean, and makes the keys and the DNS records that publish them.
import { generateKeyPairSync } from 'node:crypto';
import { domainToASCII } from 'node:url';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
}

export interface DkimPublicKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  publicKeyBase64: string;
}

/**
 * Header fields signed unless the caller names others. They are those a recipient sees or acts on
 * (RFC 6376 §5.4.1's list). List-Unsubscribe-Post is here because RFC 8058 §4 only lets one-click
 * unsubscription work when both it and List-Unsubscribe are covered by a valid signature.
 */
export const DEFAULT_SIGNED_HEADERS: readonly string[] = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
];

// RFC 5322 §3.6.8: a field name is printable ASCII other than the colon (which separates h= entries).
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

const CR = 0x0d;
const LF = 0x0a;

/**
 * Makes every line end with CRLF. RFC 5322 §2.3 forbids a bare CR or LF, and SMTP relays rewrite
 * them, which would change the bytes after signing and break the body hash; fixing them first
 * means what is signed is what is sent.
 */
function toCrlf(raw: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(raw.length * 2);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === CR || b === LF) {
      out[n++] = CR;
      out[n++] = LF;
      if (b === CR && raw[i + 1] === LF) i++;
    } else {
      out[n++] = b;
    }
  }
  return Buffer.from(out.subarray(0, n));
}

function headerList(fields: readonly string[]): string[] {
  for (const f of fields) {
    if (!FIELD_NAME.test(f)) throw new Error(`DKIM: "${f}" is not a header field name`);
  }
  // RFC 6376 §5.4: the From header field MUST be signed, whatever the caller asked for.
  return fields.some((f) => f.toLowerCase() === 'from') ? [...fields] : ['From', ...fields];
}

/**
 * Returns the message with a DKIM-Signature header field in front, relaxed/relaxed canonicalization
 * (RFC 6376 §3.4.2, §3.4.4), which survives the whitespace and folding changes relays make.
 * Throws if the message cannot be signed (no From field, a key that does not match its algorithm).
 */
let signer: Promise<typeof import('mailauth/lib/dkim/sign.js')> | null = null;

/**
 * Loads mailauth's signer, once: about 3 MB of heap (joi, tldts) that a server without --dkim-keys
 * never needs; a server with keys loads it at start.
 */
export function loadSigner(): Promise<typeof import('mailauth/lib/dkim/sign.js')> {
  signer ??= import('mailauth/lib/dkim/sign.js');
  return signer;
}

export async function signMessage(
  raw: Uint8Array,
  key: DkimKey,
  opts: { headerFields?: string[]; now?: Date } = {},
): Promise<Buffer> {
  const message = toCrlf(raw);
  const signature = {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKeyPem,
    algorithm: key.algorithm,
  };
  const { dkimSign } = await loadSigner();
  const result = await dkimSign(message, {
    // The signer only reads the keys in signatureData; its typings also want them at the top level.
    ...signature,
    signatureData: [signature],
    canonicalization: 'relaxed/relaxed',
    headerList: headerList(opts.headerFields ?? DEFAULT_SIGNED_HEADERS),
    signTime: opts.now ?? new Date(),
    // Refuse (rather than warn about) short RSA keys (RFC 8301 §3.2) and malformed d= or s= values.
    strict: true,
  });
  const failure = result.errors[0];
  if (failure) {
    throw new Error(
      `DKIM: cannot sign for ${key.selector}._domainkey.${key.domain}: ${failure.err.message}`,
      {
        cause: failure.err,
      },
    );
  }
  if (!result.signatures) throw new Error('DKIM: the signer returned no signature');
  // The signer folds its own header with CRLF; normalising again costs little and guarantees it.
  return Buffer.concat([toCrlf(Buffer.from(result.signatures, 'latin1')), message]);
}

/**
 * Makes a signing key: RSA 2048 (RFC 8301 §3.2 asks signers for at least 1024 bits and 2048 is what
 * receivers expect) or Ed25519. The private key is PKCS#8 PEM. The public key is what goes into p=:
 * for RSA the DER SubjectPublicKeyInfo (RFC 6376 §3.6.1), for Ed25519 the bare 32-byte key (RFC 8463 §4.2).
 */
export function generateKey(algorithm: DkimAlgorithm = 'rsa-sha256'): {
  privateKeyPem: string;
  publicKeyBase64: string;
} {
  if (algorithm === 'ed25519-sha256') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new Error('DKIM: Ed25519 public key has no x coordinate');
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyBase64: Buffer.from(jwk.x, 'base64url').toString('base64'),
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** The TXT record that publishes a key (RFC 6376 §3.6.1, §3.6.2.1): its owner name and its value. */
export function dnsRecord(key: DkimPublicKey): { name: string; value: string } {
  const k = key.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
  return {
    name: `${key.selector}._domainkey.${key.domain}`,
    value: `v=DKIM1; k=${k}; p=${key.publicKeyBase64}`,
  };
}

/**
 * Splits a TXT value into character-strings of at most 255 octets, the most one can hold
 * (RFC 1035 §3.3); RFC 6376 §3.6.2.2 has verifiers join them back without any separator.
 */
export function txtChunks(value: string): string[] {
  // Printable ASCII only (as every DKIM tag value is), so one character is one octet.
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error('DKIM: a TXT value must be printable ASCII');
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += 255) chunks.push(value.slice(i, i + 255));
  return chunks;
}

/** The record as one master-file line (RFC 1035 §5.1), e.g. for a BIND zone, with a trailing dot. */
export function dnsZoneLine(key: DkimPublicKey, ttl = 3600): string {
  const { name, value } = dnsRecord(key);
  // A DKIM value is ASCII without quotes or backslashes; escaping them keeps the line valid anyway.
  const strings = txtChunks(value).map((c) => `"${c.replace(/["\\]/g, '\\$&')}"`);
  return `${name}. ${ttl} IN TXT ( ${strings.join(' ')} )`;
}

function normalDomain(domain: string): string {
  const trimmed = domain.trim().replace(/\.$/, '');
  // IDNA (RFC 5891): a key configured as "bücher.example" must match mail from "xn--bcher-kva.example".
  return (domainToASCII(trimmed) || trimmed).toLowerCase();
}

/** The domain of an address such as `a@b.example` or `Ann <a@b.example>`, or null if it has none. */
function addressDomain(address: string): string | null {
  const angle = /<([^<>]*)>\s*$/.exec(address);
  const spec = (angle ? angle[1]! : address).trim();
  const at = spec.lastIndexOf('@');
  if (at < 0 || at === spec.length - 1) return null;
  return normalDomain(spec.slice(at + 1));
}

/**
 * Picks the key to sign mail from an address: one for its own domain, else the closest parent's.
 * RFC 6376 §3.5 lets d= be a parent of the author's domain, and DMARC's relaxed alignment
 * (RFC 7489 §3.1.1) accepts such a signature.
 */
export function keyForSender(keys: readonly DkimKey[], fromAddress: string): DkimKey | null {
  const domain = addressDomain(fromAddress);
  if (domain === null) return null;
  const labels = domain.split('.');
  for (let i = 0; i < labels.length; i++) {
    const candidate = labels.slice(i).join('.');
    const key = keys.find((k) => normalDomain(k.domain) === candidate);
    if (key) return key;
  }
  return null;
}

// A letter or digit first and last, hyphens between, at most 63 octets (RFC 1035 §2.3.4). This is
// both an LDH host label (RFC 1123 §2.1) and RFC 5321 §4.1.2's sub-domain, which a selector is made of.
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A host name of LDH labels (RFC 1123 §2.1), at least two of them, at most 253 octets. */
export function isValidDomain(domain: string): boolean {
  const labels = domain.split('.');
  return domain.length <= 253 && labels.length >= 2 && labels.every((l) => LDH_LABEL.test(l));
}

/** RFC 6376 §3.1: selector = sub-domain *( "." sub-domain ). */
export function isValidSelector(selector: string): boolean {
  return selector.length <= 253 && selector.split('.').every((l) => LDH_LABEL.test(l));
}
