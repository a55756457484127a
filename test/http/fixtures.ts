// Raw test messages for the HTTP API tests, built as bytes so non-UTF-8 content stays exact.

const CRLF = '\r\n';

/** Bytes of a PDF-like attachment, deliberately not valid UTF-8. */
export const ATTACHMENT_BYTES = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0xff, 0xfe, 0x00, 0x80, 0x0a]);

/**
 * multipart/mixed: a text body (part 1), an attachment whose declared name tries a path escape
 * and a right-to-left override (part 2), and a text attachment with a non-ASCII name (part 3).
 */
export function mixedMessage(): Uint8Array {
  const b64 = Buffer.from(ATTACHMENT_BYTES).toString('base64');
  return Buffer.from(
    [
      'Received: from relay-b.example.test by mx.example.test; Tue, 24 Nov 2026 09:30:02 +0000',
      'Received: from client.example.test by relay-b.example.test; Tue, 24 Nov 2026 09:30:01 +0000',
      'From: "Alice Example" <alice@example.test>',
      'To: Bob <bob@example.test>, carol@example.test',
      'Cc: dave@example.test',
      'Reply-To: replies@example.test',
      'Subject: Quarterly report',
      'Message-ID: <mixed-1@example.test>',
      'Date: Tue, 24 Nov 2026 09:30:00 +0000',
      'X-Folded: first part',
      '\tsecond part',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please find the report attached.',
      '--b1',
      'Content-Type: application/pdf',
      "Content-Disposition: attachment; filename*=UTF-8''..%2F..%2Fevil%E2%80%AEfdp.exe",
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt",
      '',
      'hello',
      '--b1--',
      '',
    ].join(CRLF),
  );
}

/** A Latin-1 message with raw 8-bit bytes in a header and the body (0xE9, 0xE8, 0xFF, 0xFE). */
export function latin1Message(): Uint8Array {
  const head = Buffer.from(
    [
      'From: latin@example.test',
      'To: bob@example.test',
      'Subject: caf\xe9',
      'Message-ID: <latin-1@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Un caf\xe9 cr\xe8me, \xff\xfe bytes.',
      '',
    ].join(CRLF),
    'latin1',
  );
  return new Uint8Array(head);
}

export function simpleMessage(subject: string): Uint8Array {
  return Buffer.from(
    [
      'From: Sender <sender@example.test>',
      'To: rcpt@example.test',
      `Subject: ${subject}`,
      `Message-ID: <${subject.replace(/\W/g, '')}@example.test>`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      '',
      `Body of ${subject}.`,
      '',
    ].join(CRLF),
  );
}
