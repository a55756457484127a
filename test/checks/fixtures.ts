// Realistic messages for the message checks: what services send when someone resets a password,
// signs in by link or by code, or gets a newsletter. Built as raw MIME (quoted-printable HTML,
// tables for layout, tracking wrappers), the way they arrive, so the tests go through the parser.

const CRLF = '\r\n';

/** Quoted-printable (RFC 2045 §6.7): "=" escaped, lines soft-broken under 76 characters. */
function qp(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const escaped = Buffer.from(line, 'utf8')
      .toString('latin1')
      .replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    let rest = escaped;
    while (rest.length > 75) {
      let cut = 75;
      // Never split an =XX escape.
      const eq = rest.lastIndexOf('=', cut);
      if (eq > cut - 3) cut = eq;
      out.push(`${rest.slice(0, cut)}=`);
      rest = rest.slice(cut);
    }
    out.push(rest);
  }
  return out.join(CRLF);
}

export interface MessageParts {
  subject: string;
  from?: string;
  text?: string;
  html?: string;
  headers?: string[];
}

/** A raw message: multipart/alternative when it has both parts, else the one it has. */
export function rawMessage(p: MessageParts): Buffer {
  const head = [
    `From: ${p.from ?? 'Acme <no-reply@acme.example>'}`,
    'To: ann@example.test',
    `Subject: ${p.subject}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@acme.example>`,
    'Date: Tue, 24 Nov 2026 09:30:00 +0000',
    'MIME-Version: 1.0',
    ...(p.headers ?? []),
  ];
  const textPart = [
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
  ];
  const htmlPart = [
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
  ];
  let body: string[];
  if (p.text !== undefined && p.html !== undefined) {
    body = [
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      ...textPart,
      qp(p.text),
      '--alt',
      ...htmlPart,
      qp(p.html),
      '--alt--',
      '',
    ];
  } else if (p.html !== undefined) {
    body = [...htmlPart, qp(p.html)];
  } else {
    body = [...textPart, qp(p.text ?? '')];
  }
  return Buffer.from([...head, ...body].join(CRLF));
}

const FOOTER_TEXT = `Acme Inc., 500 Market Street, Suite 400, San Francisco, CA 94105
Questions? Call +1 (415) 555-0100 or write to help@acme.example.
© 2026 Acme Inc. All rights reserved.`;

const FOOTER_HTML = `<tr><td style="padding:24px;color:#8a8f98;font-size:12px;line-height:18px">
Acme Inc., 500 Market Street, Suite 400, San Francisco, CA 94105<br>
Questions? Call +1 (415) 555-0100 or write to <a href="mailto:help@acme.example">help@acme.example</a>.<br>
&copy; 2026 Acme Inc. All rights reserved.
</td></tr>`;

/** Password reset: a button in a table layout behind a click-tracking wrapper, and the text part. */
export const PASSWORD_RESET: MessageParts = {
  subject: 'Reset your Acme password',
  text: `Hi Ann,

Someone asked to reset the password of your Acme account.
Reset your password:
https://app.acme.example/reset?token=Zm9vYmFyLXJlc2V0&uid=42

This link expires in 24 hours. If you did not ask for this, ignore this message.

${FOOTER_TEXT}`,
  html: `<!DOCTYPE html>
<html><body style="margin:0;background:#f4f5f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" style="background:#ffffff;border-radius:8px">
<tr><td style="padding:32px"><h1 style="font-size:22px">Reset your password</h1>
<p>Someone asked to reset the password of your Acme account.</p>
<table role="presentation"><tr><td style="background:#3e63dd;border-radius:6px">
<a href="https://links.acme.example/ls/click?upn=u001.Qk3&amp;u=https%3A%2F%2Fapp.acme.example%2Freset%3Ftoken%3DZm9vYmFyLXJlc2V0%26uid%3D42" style="display:inline-block;padding:12px 20px;color:#fff">Choose a new password</a>
</td></tr></table>
<p>This link expires in 24 hours. If you did not ask for this, ignore this message.</p>
</td></tr>
${FOOTER_HTML}
</table></td></tr></table>
<img src="https://links.acme.example/o/open.gif?id=u001" width="1" height="1" alt="">
</body></html>`,
};

/** Magic link: sign in by clicking, the link behind Outlook's safe-links wrapper in the HTML. */
export const MAGIC_LINK: MessageParts = {
  subject: 'Sign in to Acme',
  text: `Click the link below to sign in to Acme. It works once, for 15 minutes.

<https://app.acme.example/auth/magic?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl
&redirect=%2Fdashboard>

If you did not try to sign in, you can ignore this email.`,
  html: `<html><body>
<p>Click the button below to sign in to Acme. It works once, for 15 minutes.</p>
<p><a href="https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fapp.acme.example%2Fauth%2Fmagic%3Ftoken%3DeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl%26redirect%3D%252Fdashboard&amp;data=05%7C01%7C&amp;reserved=0"><img src="https://cdn.acme.example/button-sign-in.png" alt="Sign in to Acme" width="200"></a></p>
<p>Or open <a href="https://app.acme.example/login">the sign-in page</a> and ask for a new link.</p>
</body></html>`,
};

/** A 2FA code laid out in table cells, among numbers that are not codes. HTML only. */
export const TWO_FACTOR_TABLE: MessageParts = {
  subject: 'Your Acme verification code',
  html: `<html><head><style>.code{font-size:32px;letter-spacing:6px;font-family:monospace}</style></head><body>
<table role="presentation" width="600" cellpadding="0" cellspacing="0">
<tr><td style="padding:16px">Hi Ann, we noticed a sign-in from a new device on March 3, 2026 at 14:05.</td></tr>
<tr><td style="padding:16px 16px 0">Your verification code</td></tr>
<tr><td class="code" style="padding:8px 16px"><strong>482 913</strong></td></tr>
<tr><td style="padding:16px">The code expires in 10 minutes. Your order #558812 of $1,299.00 is unaffected.</td></tr>
<tr><td style="padding:16px">Not you? Call 1-800-555-0199 right away.</td></tr>
${FOOTER_HTML}
</table></body></html>`,
};

/** A letters-and-digits code beside a booking reference, which is not one. Text only. */
export const CONFIRMATION_CODE: MessageParts = {
  subject: 'Confirm your email address',
  text: `Welcome to Acme!

Booking reference: QX7K2M
Enter this code to confirm your email address: ABC-123

Your invoice 20260518 for EUR 45.00 is attached.
${FOOTER_TEXT}`,
};

/** Digits in cells of their own, as some services show a code. */
export const SPACED_DIGITS: MessageParts = {
  subject: 'Your one-time passcode',
  html: `<html><body><p>Use this one-time passcode to finish signing in:</p>
<table><tr><td>7</td><td>0</td><td>4</td><td>2</td><td>1</td><td>9</td></tr></table>
<p>Sent on 2026-11-24.</p></body></html>`,
};

/** A newsletter whose links go through three kinds of tracking wrapper, and a repeated link. */
export const NEWSLETTER: MessageParts = {
  subject: 'Acme weekly: what is new',
  headers: [
    'List-Unsubscribe: <https://news.acme.example/unsubscribe?u=42&l=weekly>, <mailto:unsubscribe@news.acme.example?subject=unsubscribe%2042>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=news.acme.example; s=s1;',
    ' h=from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post;',
    ' bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==',
  ],
  text: `This week at Acme: faster search. Read more: https://www.acme.example/blog/faster-search.

Release notes (https://www.acme.example/releases/2026-11).

Unsubscribe: https://news.acme.example/unsubscribe?u=42&l=weekly`,
  html: `<html><body>
<h2>This week at Acme</h2>
<p><a href="https://www.google.com/url?q=https://www.acme.example/blog/faster-search&amp;sa=D">Faster search</a> is here.</p>
<p><a href="https://t.acme-mail.example/CL0/aHR0cHM6Ly93d3cuYWNtZS5leGFtcGxlL3JlbGVhc2VzLzIwMjYtMTE/1/0100">Release notes</a></p>
<p><a href="https://www.acme.example/blog/faster-search">Read the post</a></p>
<p><a href="https://news.acme.example/unsubscribe?u=42&amp;l=weekly">Unsubscribe</a></p>
</body></html>`,
};
