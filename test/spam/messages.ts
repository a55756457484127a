// Test messages for the spam suites: the GTUBE test message, a plain ham message and large
// multipart messages of a chosen size with markers at the start and the very end.

/** The Generic Test for Unsolicited Bulk Email: every spam filter scores it as spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** Marker a test rule looks for in the headers (always within any size cap). */
export const HEAD_MARKER = 'mailroom-head-marker';
/** Marker placed in the last bytes of a large message. */
export const TAIL_MARKER = 'mailroom-tail-marker';

function headers(subject: string, extra: string[] = []): string[] {
  return [
    'From: Ann Example <ann@example.com>',
    'To: Bob Example <bob@example.org>',
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@example.com>`,
    'MIME-Version: 1.0',
    ...extra,
  ];
}

/** A spam test message carrying the GTUBE string. */
export function gtubeMessage(): Buffer {
  return Buffer.from(
    [
      ...headers('GTUBE test'),
      'Content-Type: text/plain; charset=utf-8',
      '',
      'This is the GTUBE, the Generic Test for Unsolicited Bulk Email.',
      '',
      GTUBE,
      '',
    ].join('\r\n'),
  );
}

/** A short, ordinary personal message. */
export function hamMessage(
  body = 'Hi Bob,\r\n\r\nAre we still on for lunch on Thursday?\r\n\r\nAnn',
): Buffer {
  return Buffer.from(
    [...headers('Lunch on Thursday'), 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'),
  );
}

/**
 * A multipart message of `size` bytes (up to 80 fewer, whole lines): a short text part, a base64 attachment of filler
 * bytes, and a final text part ending with `TAIL_MARKER`. The subject holds `HEAD_MARKER`.
 */
export function largeMessage(size: number): Buffer {
  const boundary = 'mailroom-boundary-7f3a';
  const head = [
    ...headers(`Quarterly report ${HEAD_MARKER}`, [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hi Bob,',
    '',
    'The quarterly report is attached.',
    '',
    'Ann',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="report.bin"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="report.bin"',
    '',
    '',
  ].join('\r\n');
  const tail = [
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `End of the report. ${TAIL_MARKER}`,
    `--${boundary}--`,
    '',
  ].join('\r\n');
  const room = size - Buffer.byteLength(head) - Buffer.byteLength(tail);
  if (room < 200) throw new Error(`largeMessage(${size}) is too small`);
  // Deterministic filler, base64 in 76-character lines (78 bytes with CRLF).
  const filler = Buffer.alloc(Math.ceil((room / 78) * 57));
  for (let i = 0; i < filler.length; i++) filler[i] = (i * 31 + (i >> 8)) & 0xff;
  const lines = filler.toString('base64').match(/.{1,76}/g)!;
  let body = '';
  for (const line of lines) {
    if (body.length + line.length + 2 > room) break;
    body += `${line}\r\n`;
  }
  const message = Buffer.from(head + body + tail);
  if (message.length > size || message.length < size - 80) {
    throw new Error(`largeMessage built ${message.length} bytes, wanted about ${size}`);
  }
  return message;
}
