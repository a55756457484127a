// Delivery reports as other servers write them, about a message of ours named by its Message-ID:
// DSNs in Postfix's and Exchange's forms (RFC 3464) and an ARF complaint (RFC 5965). LF line ends;
// the callers turn them into CRLF.
import { newMessageId } from '../../src/domain/ids.ts';

/** A DSN as Postfix writes it: the original's header section returned as text/rfc822-headers. */
export function postfixDsn(
  messageId: string,
  recipient: string,
  diagnostic: string,
  action = 'failed',
): string {
  return `From: MAILER-DAEMON@mx.one.example (Mail Delivery System)
To: app@shop.example
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F2A1B.1764000000/mx.one.example"
Message-Id: <${newMessageId()}@mx.one.example>

--4F2A1B.1764000000/mx.one.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.one.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--4F2A1B.1764000000/mx.one.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.one.example
X-Postfix-Queue-ID: 4F2A1B
X-Postfix-Sender: rfc822; app@shop.example
Arrival-Date: Tue, 24 Nov 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; ${recipient}
Original-Recipient: rfc822;${recipient}
Action: ${action}
Status: ${action === 'failed' ? '5.1.1' : '4.4.1'}
Remote-MTA: dns; inner.one.example
Diagnostic-Code: smtp; ${diagnostic.replace(': ', ':\n    ')}

--4F2A1B.1764000000/mx.one.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <app@shop.example>
From: Shop <app@shop.example>
To: ${recipient}
Subject: Your order
Message-ID: ${messageId}

--4F2A1B.1764000000/mx.one.example--
`;
}

/** Exchange Online's form: an enhanced code with three digits, the whole original attached. */
export function exchangeDsn(messageId: string, recipient: string): string {
  return `From: postmaster@outlook.example
To: app@shop.example
Subject: Undeliverable: Your order
Content-Type: multipart/report; report-type="delivery-status"; boundary="_b_"
MIME-Version: 1.0

--_b_
Content-Type: text/plain; charset="us-ascii"

Your message to ${recipient} couldn't be delivered.

--_b_
Content-Type: message/delivery-status

Reporting-MTA: dns;PR3P123MB0001.outlook.example
Received-From-MTA: dns;mail.shop.example
Arrival-Date: Tue, 24 Nov 2026 10:00:01 +0000

Final-Recipient: rfc822;${recipient.toUpperCase()}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--_b_
Content-Type: message/rfc822

From: Shop <app@shop.example>
To: ${recipient}
Subject: Your order
Message-ID: ${messageId}
Content-Type: text/plain

Thanks for your order.

--_b_--
`;
}

export function arf(messageId: string, recipient: string | null, feedbackType = 'abuse'): string {
  return `From: feedbackloop@isp.example
To: fbl@shop.example
Subject: Complaint about message from 192.0.2.1
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1"

--part1
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--part1
Content-Type: message/feedback-report

Feedback-Type: ${feedbackType}
User-Agent: ISP-FBL/1.0
Version: 1
Original-Mail-From: <app@shop.example>
${recipient ? `Original-Rcpt-To: <${recipient}>\n` : ''}Arrival-Date: Tue, 24 Nov 2026 10:00:02 +0000

--part1
Content-Type: message/rfc822
Content-Disposition: inline

From: Shop <app@shop.example>
To: redacted@isp.example
Subject: Your order
Message-ID: ${messageId}

Thanks for your order.
--part1--
`;
}
