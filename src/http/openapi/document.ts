// The OpenAPI 3.1 document of Mailroom's HTTP API, generated from the zod schemas the handlers
// validate requests with (routes/*/schema.ts) and the response shapes the tests check responses
// against (shapes.ts). Served at /api/v1/openapi.json (and /api/v1/swagger.json, where Mailpit
// serves its own).
import { z } from 'zod';
import { actionJobId, actionJobShape, messageRouting } from '../routes/actions/schema.ts';
import { chaosBody, chaosTriggers } from '../routes/chaos/schema.ts';
import {
  routeBody,
  routeId,
  routeList,
  routeShape,
  routeTestBody,
  routeTestResult,
} from '../routes/inbound-routes/schema.ts';
import { inboxList } from '../routes/inboxes/routes.ts';
import { apiKey, createdKey, keyBody, keyList, keyListQuery, keyParam } from '../routes/keys/schema.ts';
import {
  extractResult,
  htmlCheckResult,
  linkCheckQuery,
  linkCheckResult,
  listUnsubscribeResult,
} from '../routes/message/checks-schema.ts';
import { releaseBody, releaseResult } from '../routes/message/release.ts';
import { partIdParam } from '../routes/message/schema.ts';
import {
  deleteBody,
  deleteSearchQuery,
  listQuery,
  readBody,
  readQuery,
  searchQuery,
} from '../routes/messages/schema.ts';
import {
  deliveryList,
  deliveryParam,
  delivery as deliveryShape,
  outboundMessage,
  queueAction,
  queueListQuery,
} from '../routes/queue/schema.ts';
import { batchBodyDoc, batchResults, idempotencyKey, sendAccepted, sendBody } from '../routes/send/schema.ts';
import {
  suppression,
  suppressionBody,
  suppressionList,
  suppressionListQuery,
} from '../routes/suppressions/schema.ts';
import { renameTagBody, setTagsBody, tagParam } from '../routes/tags/schema.ts';
import {
  previewBody,
  rendered,
  template,
  templateBody,
  templateList,
  templateName,
} from '../routes/templates/schema.ts';
import {
  deskShape,
  entryShape,
  eventShape,
  eventsQuery,
  heldBody,
  heldQuery,
  heldShape,
  noteBody,
  replyBody,
  ticketList,
  ticketListQuery,
  ticketPatch,
  ticketShape,
  ticketWithEntries,
} from '../routes/tickets/schema.ts';
import { viewQuery } from '../routes/view/schema.ts';
import { cursorResult, waitQuery, waitResult } from '../routes/wait/schema.ts';
import { enableEndpointBody, webhookEndpointList, webhookEndpointShape } from '../routes/webhooks/schema.ts';
import * as shapes from './shapes.ts';

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

interface Response {
  description: string;
  /** Media type → schema (undefined: any body of that type). */
  content?: Record<string, z.ZodType | undefined>;
}

export interface Operation {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  path_params?: Record<string, z.ZodType>;
  /** Request headers the operation reads (optional unless the schema says otherwise). */
  headers?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, Response>;
}

const ID = { ID: z.string().describe('Message database ID, or `latest` for the newest message') };
const ok: Response = { description: 'Done', content: { 'text/plain': z.literal('ok') } };
const json = (schema: z.ZodType, description: string): Response => ({
  description,
  content: { 'application/json': schema },
});
const problem = (description: string): Response => ({
  description,
  content: { 'application/problem+json': shapes.problem },
});
const bad = problem('The request is not valid (the detail says why)');
const notFound = problem('No such message (or part)');

export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/messages',
    operationId: 'GetMessages',
    summary: 'List messages, newest first',
    tag: 'messages',
    query: listQuery,
    responses: { 200: json(shapes.messagesSummary, 'A page of messages'), 400: bad },
  },
  {
    method: 'put',
    path: '/api/v1/messages',
    operationId: 'SetReadStatus',
    summary: 'Mark messages read or unread: by IDs, by search, or all',
    tag: 'messages',
    query: readQuery,
    body: readBody,
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'delete',
    path: '/api/v1/messages',
    operationId: 'DeleteMessages',
    summary: 'Delete messages by IDs, or every message when no IDs are given',
    tag: 'messages',
    body: deleteBody,
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'get',
    path: '/api/v1/search',
    operationId: 'Search',
    summary: 'Search messages (Mailpit syntax)',
    tag: 'messages',
    query: searchQuery,
    responses: { 200: json(shapes.messagesSummary, 'A page of matching messages'), 400: bad },
  },
  {
    method: 'delete',
    path: '/api/v1/search',
    operationId: 'DeleteSearch',
    summary: 'Delete the messages matching a search',
    tag: 'messages',
    query: deleteSearchQuery,
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'get',
    path: '/api/v1/wait',
    operationId: 'WaitForMessage',
    summary:
      'Wait (long poll) for a parsed message matching a search: at once if one is there, else when one arrives; 408 when none did in time',
    tag: 'testing',
    query: waitQuery,
    responses: {
      200: json(waitResult, 'The matching message and its cursor'),
      400: bad,
      408: problem('No matching message arrived before the timeout'),
      503: problem('Too many requests are waiting already (Retry-After), or the server is shutting down'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/wait/cursor',
    operationId: 'WaitCursor',
    summary: 'The cursor of the newest stored message: wait after it to see only mail that arrives later',
    tag: 'testing',
    responses: { 200: json(cursorResult, 'The cursor') },
  },
  {
    method: 'post',
    path: '/api/v1/send',
    operationId: 'SendMessage',
    summary:
      'Queue a message (Mailpit send body): 202 once durably queued; with the capture transport and no Prefer: respond-async, 200 after the capture, as Mailpit answers',
    tag: 'send',
    headers: {
      'Idempotency-Key': idempotencyKey,
      Prefer: z.string().describe('respond-async: answer 202 as soon as the message is durably queued'),
    },
    body: sendBody,
    responses: {
      200: json(sendAccepted, 'Queued and, with the capture transport, in the inbox (as Mailpit answers)'),
      202: json(
        sendAccepted,
        'Queued (relay or mx transport, or Prefer: respond-async); with a repeated Idempotency-Key, queued before',
      ),
      400: bad,
      409: problem('The Idempotency-Key was used for another request'),
      413: problem('The request body or the composed message is over the size limit'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/send/batch',
    operationId: 'SendBatch',
    summary: 'Queue up to 500 messages, each checked and queued on its own',
    tag: 'send',
    headers: {
      'Idempotency-Key': idempotencyKey,
      Prefer: z.string().describe('respond-async: answer 202 as soon as the messages are durably queued'),
    },
    body: batchBodyDoc,
    responses: {
      200: json(batchResults, 'One result per message, in order: its ID, or the problem that kept it out'),
      202: json(batchResults, 'The same, at once (relay or mx transport, or Prefer: respond-async)'),
      400: bad,
      413: problem('The request body is over the size limit'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/queue',
    operationId: 'ListDeliveries',
    summary: 'Deliveries of the outbound queue, newest first',
    tag: 'queue',
    query: queueListQuery,
    responses: { 200: json(deliveryList, 'A page of deliveries'), 400: bad },
  },
  {
    method: 'post',
    path: '/api/v1/queue/{ID}/{Action}',
    operationId: 'QueueAction',
    summary: 'Hold, release, retry now or cancel one delivery',
    tag: 'queue',
    path_params: { ID: deliveryParam, Action: queueAction },
    responses: {
      200: json(deliveryShape, 'The delivery after the action'),
      400: bad,
      404: problem('No such delivery'),
      409: problem('The delivery is in a state that does not allow the action'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/outbound/{ID}',
    operationId: 'GetOutbound',
    summary: 'One outbound message: envelope, deliveries with per-recipient replies, and every event',
    tag: 'queue',
    path_params: { ID: z.string().describe('Database ID returned by /api/v1/send') },
    responses: {
      200: json(outboundMessage, 'The outbound message'),
      404: problem('No such outbound message'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/routes',
    operationId: 'ListRoutes',
    summary: 'Inbound routes, from the routes file and the API, in evaluation order',
    tag: 'routes',
    responses: { 200: json(routeList, 'Every route') },
  },
  {
    method: 'post',
    path: '/api/v1/routes',
    operationId: 'CreateRoute',
    summary: 'Create a route with a new ID',
    tag: 'routes',
    body: routeBody,
    responses: {
      201: json(routeShape, 'The stored route'),
      400: bad,
      409: problem('As many routes as allowed exist'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/routes/test',
    operationId: 'TestRoutes',
    summary: 'Dry run: route raw MIME or a stored message and show what each matching route would do',
    tag: 'routes',
    body: routeTestBody,
    responses: {
      200: json(routeTestResult, 'The routes looked at, in order'),
      400: bad,
      404: problem('No such message'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/routes/{ID}',
    operationId: 'GetRoute',
    summary: 'One route',
    tag: 'routes',
    path_params: { ID: routeId },
    responses: { 200: json(routeShape, 'The route'), 400: bad, 404: problem('No such route') },
  },
  {
    method: 'put',
    path: '/api/v1/routes/{ID}',
    operationId: 'SaveRoute',
    summary: 'Create or replace a route; refused when a condition does not compile',
    tag: 'routes',
    path_params: { ID: routeId },
    body: routeBody,
    responses: {
      200: json(routeShape, 'The replaced route'),
      201: json(routeShape, 'The new route'),
      400: bad,
      409: problem('A route of the routes file, or as many routes as allowed exist'),
    },
  },
  {
    method: 'delete',
    path: '/api/v1/routes/{ID}',
    operationId: 'DeleteRoute',
    summary: 'Delete a route',
    tag: 'routes',
    path_params: { ID: routeId },
    responses: {
      200: ok,
      400: bad,
      404: problem('No such route'),
      409: problem('A route of the routes file'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/routing',
    operationId: 'GetMessageRouting',
    summary:
      'What routing did with a received message: route and action events, and each action with its state',
    tag: 'routes',
    path_params: { ID: z.string().describe('Message database ID') },
    responses: {
      200: json(messageRouting, 'Events oldest first, actions in route order'),
      400: bad,
      404: problem('No such message'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/actions/{ID}/replay',
    operationId: 'ReplayAction',
    summary: 'Run an action again (a webhook or publish that failed), due now with a fresh lifetime',
    tag: 'routes',
    path_params: { ID: actionJobId },
    responses: {
      200: json(actionJobShape, 'The action, due again'),
      400: bad,
      404: problem('No such action'),
      409: problem('The action is running'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/webhooks/endpoints',
    operationId: 'ListWebhookEndpoints',
    summary:
      'Every URL a webhook action posted to: failures in a row, and whether they disabled it (disabled first)',
    tag: 'routes',
    responses: { 200: json(webhookEndpointList, 'Every endpoint with a recorded attempt') },
  },
  {
    method: 'post',
    path: '/api/v1/webhooks/endpoints/enable',
    operationId: 'EnableWebhookEndpoint',
    summary:
      'Enable a webhook URL that failures disabled and clear its count; actions that failed meanwhile are replayed one by one',
    tag: 'routes',
    body: enableEndpointBody,
    responses: {
      200: json(webhookEndpointShape, 'The endpoint, enabled'),
      400: bad,
      404: problem('No webhook has been posted to this URL'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/inbound/attachments/{ID}/{PartID}',
    operationId: 'DownloadInboundAttachment',
    summary:
      "A part of a routed message by the signed URL in a webhook payload (attachments: 'url'); no credentials, the signature is one",
    tag: 'routes',
    path_params: {
      ID: z.string().describe('Message database ID'),
      PartID: partIdParam.describe('Part ID, as in the payload'),
    },
    query: z.object({
      expires: z.string().describe('Unix time (seconds) after which the URL no longer works'),
      sig: z
        .string()
        .describe('base64url HMAC-SHA256 of the message ID, part ID and expiry (--attachment-url-secret)'),
    }),
    responses: {
      200: {
        description: 'The decoded part, as a download',
        content: { 'application/octet-stream': undefined },
      },
      403: problem('The signature does not match, or the URL has expired'),
      404: problem('The message or part is gone, or downloads are not configured'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tickets',
    operationId: 'ListTickets',
    summary: "The desks' tickets, most recently updated first",
    tag: 'tickets',
    query: ticketListQuery,
    responses: { 200: json(ticketList, 'A page of tickets'), 400: bad },
  },
  {
    method: 'get',
    path: '/api/v1/tickets/{ID}',
    operationId: 'GetTicket',
    summary: 'One ticket with its conversation, oldest entry first',
    tag: 'tickets',
    path_params: { ID: z.string().describe('Ticket ID, or its key (SUPPORT-7102)') },
    responses: { 200: json(ticketWithEntries, 'The ticket'), 404: problem('No such ticket') },
  },
  {
    method: 'patch',
    path: '/api/v1/tickets/{ID}',
    operationId: 'UpdateTicket',
    summary: 'Change state, assignee, tags or subject (events say what changed)',
    tag: 'tickets',
    path_params: { ID: z.string().describe('Ticket ID, or its key (SUPPORT-7102)') },
    body: ticketPatch,
    responses: {
      200: json(ticketShape, 'The ticket after the change'),
      400: bad,
      404: problem('No such ticket'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/tickets/{ID}/replies',
    operationId: 'ReplyToTicket',
    summary: "Mail an agent's reply to the requester through the outbound queue",
    tag: 'tickets',
    path_params: { ID: z.string().describe('Ticket ID, or its key (SUPPORT-7102)') },
    headers: { 'Idempotency-Key': idempotencyKey },
    body: replyBody,
    responses: {
      202: json(
        z.object({ Ticket: ticketShape, Entry: entryShape, OutboundID: z.string() }),
        'Queued and recorded',
      ),
      400: bad,
      404: problem('No such ticket'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/tickets/{ID}/notes',
    operationId: 'AddTicketNote',
    summary: 'Add an internal note: never mailed',
    tag: 'tickets',
    path_params: { ID: z.string().describe('Ticket ID, or its key (SUPPORT-7102)') },
    body: noteBody,
    responses: {
      201: json(z.object({ Ticket: ticketShape, Entry: entryShape }), 'Recorded'),
      400: bad,
      404: problem('No such ticket'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tickets/desks',
    operationId: 'ListDesks',
    summary: 'The configured desks and their intake addresses',
    tag: 'tickets',
    responses: { 200: json(z.object({ desks: z.array(deskShape) }), 'The desks') },
  },
  {
    method: 'get',
    path: '/api/v1/tickets/held',
    operationId: 'ListHeldTicketMail',
    summary: 'Mail for a desk that joined no ticket, with the reason',
    tag: 'tickets',
    query: heldQuery,
    responses: { 200: json(z.object({ held: z.array(heldShape) }), 'Held messages') },
  },
  {
    method: 'post',
    path: '/api/v1/tickets/held/{MessageID}/{Action}',
    operationId: 'ResolveHeldTicketMail',
    summary: 'Attach a held message to a ticket, open a ticket from it, or dismiss it',
    tag: 'tickets',
    path_params: { MessageID: z.string(), Action: z.enum(['attach', 'open', 'dismiss']) },
    body: heldBody,
    responses: {
      200: json(z.object({ Resolution: z.string(), Ticket: ticketShape.nullable() }), 'Done'),
      400: bad,
      404: problem('No desk holds this message'),
      409: problem('The message is no longer stored'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tickets/events',
    operationId: 'TicketEvents',
    summary: 'The ticket event feed: SSE resuming after Last-Event-ID, or JSON pages (format=json)',
    tag: 'tickets',
    headers: { 'Last-Event-ID': z.string().optional() },
    query: eventsQuery,
    responses: {
      200: json(
        z.object({ events: z.array(eventShape), last: z.number().int() }),
        'Events after the position (format=json); text/event-stream otherwise',
      ),
    },
  },
  {
    method: 'get',
    path: '/api/v1/templates',
    operationId: 'ListTemplates',
    summary: 'Stored message templates, by name',
    tag: 'templates',
    responses: { 200: json(templateList, 'Every template') },
  },
  {
    method: 'get',
    path: '/api/v1/templates/{Name}',
    operationId: 'GetTemplate',
    summary: 'One template',
    tag: 'templates',
    path_params: { Name: templateName },
    responses: { 200: json(template, 'The template'), 400: bad, 404: problem('No such template') },
  },
  {
    method: 'put',
    path: '/api/v1/templates/{Name}',
    operationId: 'SaveTemplate',
    summary: 'Create or replace a template (Handlebars or Liquid); refused when a part does not compile',
    tag: 'templates',
    path_params: { Name: templateName },
    body: templateBody,
    responses: { 200: json(template, 'The stored template'), 400: bad },
  },
  {
    method: 'delete',
    path: '/api/v1/templates/{Name}',
    operationId: 'DeleteTemplate',
    summary: 'Delete a template',
    tag: 'templates',
    path_params: { Name: templateName },
    responses: { 200: ok, 400: bad, 404: problem('No such template') },
  },
  {
    method: 'post',
    path: '/api/v1/templates/{Name}/preview',
    operationId: 'PreviewTemplate',
    summary: 'Render a template with sample data',
    tag: 'templates',
    path_params: { Name: templateName },
    body: previewBody,
    responses: {
      200: json(rendered, 'Subject, text and HTML as they would be sent'),
      400: bad,
      404: problem('No such template'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/suppressions',
    operationId: 'ListSuppressions',
    summary: 'Addresses no delivery is attempted to, newest first',
    tag: 'suppressions',
    query: suppressionListQuery,
    responses: { 200: json(suppressionList, 'A page of entries'), 400: bad },
  },
  {
    method: 'put',
    path: '/api/v1/suppressions',
    operationId: 'Suppress',
    summary: 'Add an address to the suppression list (or replace its entry)',
    tag: 'suppressions',
    body: suppressionBody,
    responses: { 200: json(suppression, 'The entry'), 400: bad },
  },
  {
    method: 'delete',
    path: '/api/v1/suppressions/{Address}',
    operationId: 'Unsuppress',
    summary: 'Take an address off the suppression list',
    tag: 'suppressions',
    path_params: { Address: z.string().describe('The suppressed address') },
    responses: { 200: ok, 400: bad, 404: problem('The address is not suppressed') },
  },
  {
    method: 'get',
    path: '/api/v1/keys',
    operationId: 'ListKeys',
    summary: 'Stored API keys, newest first (never their secrets); needs the manage scope',
    tag: 'keys',
    query: keyListQuery,
    responses: {
      200: json(keyList, 'A page of keys'),
      400: bad,
      403: problem('The manage scope is missing'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/keys',
    operationId: 'CreateKey',
    summary: 'Make an API key; the key is in this response only. Needs manage, and every scope given',
    tag: 'keys',
    body: keyBody,
    responses: {
      201: json(createdKey, 'The key and its record'),
      400: bad,
      403: problem('The manage scope is missing, or the key would have a scope its maker lacks'),
      409: problem('As many keys are active as allowed'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/keys/{ID}',
    operationId: 'GetKey',
    summary: 'One API key (never its secret); needs the manage scope',
    tag: 'keys',
    path_params: { ID: keyParam },
    responses: {
      200: json(apiKey, 'The key'),
      400: bad,
      403: problem('The manage scope is missing'),
      404: problem('No such key'),
    },
  },
  {
    method: 'delete',
    path: '/api/v1/keys/{ID}',
    operationId: 'RevokeKey',
    summary: 'Revoke an API key (it stays listed); needs the manage scope',
    tag: 'keys',
    path_params: { ID: keyParam },
    responses: {
      200: ok,
      400: bad,
      403: problem('The manage scope is missing'),
      404: problem('No such key'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}',
    operationId: 'GetMessage',
    summary: 'One message, parsed; marks it read',
    tag: 'message',
    path_params: ID,
    responses: { 200: json(shapes.message, 'The message'), 404: notFound },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/headers',
    operationId: 'GetHeaders',
    summary: 'The header fields of a message',
    tag: 'message',
    path_params: ID,
    responses: { 200: json(shapes.headers, 'Header name → values'), 404: notFound },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/raw',
    operationId: 'DownloadRaw',
    summary: 'The message exactly as received',
    tag: 'message',
    path_params: ID,
    query: z.object({ dl: z.string().optional().describe('1 to download as <ID>.eml') }),
    responses: {
      200: { description: 'RFC 5322 source', content: { 'text/plain': undefined } },
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/part/{PartID}',
    operationId: 'DownloadAttachment',
    summary: 'One decoded MIME part (attachment or inline)',
    tag: 'message',
    path_params: { ...ID, PartID: partIdParam },
    responses: {
      200: {
        description: 'The part, with its content type',
        content: { 'application/octet-stream': undefined },
      },
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/part/{PartID}/thumb',
    operationId: 'Thumbnail',
    summary: 'A 180×120 JPEG thumbnail of an image part (blank for other types)',
    tag: 'message',
    path_params: { ...ID, PartID: partIdParam },
    responses: {
      200: { description: 'JPEG', content: { 'image/jpeg': undefined } },
      400: problem('No such message or part (400 here, as in Mailpit)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/sa-check',
    operationId: 'SpamAssassinCheck',
    summary: 'Spam score from SpamAssassin (spamd) or Rspamd',
    tag: 'message',
    path_params: ID,
    responses: {
      200: json(shapes.spamResult, "The score and the rules that fired; a checker's failure is in Error"),
      404: problem('No such message, or no spam checker configured'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/extract',
    operationId: 'ExtractMessage',
    summary:
      "The message's links (HTML and text, each once, with their text) and likely one-time codes, best first",
    tag: 'checks',
    path_params: ID,
    responses: {
      200: json(extractResult, 'Links and codes'),
      400: problem('The message could not be parsed'),
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/html-check',
    operationId: 'HTMLCheck',
    summary:
      "HTML and CSS features the message uses that mail programs support partly or not at all (caniemail's tables), with scores per client family",
    tag: 'checks',
    path_params: ID,
    responses: {
      200: json(htmlCheckResult, "Mailpit's HTMLCheckResponse plus Families, Truncated and DataDate"),
      400: problem('The message has no HTML part, or could not be parsed'),
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/link-check',
    operationId: 'LinkCheck',
    summary:
      'The HTTP status of each web link (HEAD, then GET), through the address policy of webhooks: internal addresses are refused unless --webhook-allow names them',
    tag: 'checks',
    path_params: ID,
    query: linkCheckQuery,
    responses: {
      200: json(linkCheckResult, "Mailpit's LinkCheckResponse plus Blocked, Redirects and Location per link"),
      400: problem('The query is not valid, or the message could not be parsed'),
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/api/v1/message/{ID}/list-unsubscribe',
    operationId: 'ListUnsubscribeCheck',
    summary:
      'List-Unsubscribe and one-click unsubscribe (RFC 2369, RFC 8058): the URIs, whether one-click is declared, DKIM coverage, errors and warnings',
    tag: 'checks',
    path_params: ID,
    responses: { 200: json(listUnsubscribeResult, 'The check; nothing is fetched or posted'), 404: notFound },
  },
  {
    method: 'post',
    path: '/api/v1/message/{ID}/release',
    operationId: 'ReleaseMessage',
    summary:
      'Send the message on to the release server (--release-host) for these recipients; recorded as a release event in its routing history',
    tag: 'message',
    path_params: ID,
    body: releaseBody,
    responses: {
      200: {
        description:
          'Every recipient took it: `ok` as Mailpit says it, or the details with Accept: application/json',
        content: { 'text/plain': z.literal('ok'), 'application/json': releaseResult },
      },
      400: problem(
        'The request is not valid, or a recipient is not an address or not allowed (nothing was sent)',
      ),
      404: notFound,
      409: problem('Release is not configured (--release-host)'),
      502: problem('The release server refused the message for some recipient, or could not be reached'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/inboxes',
    operationId: 'GetInboxes',
    summary:
      'The inboxes (--inbox) with their message counts; credentials limited to one inbox see only that one',
    tag: 'testing',
    responses: { 200: json(inboxList, 'The default inbox first, then those of --inbox in their order') },
  },
  {
    method: 'get',
    path: '/api/v1/chaos',
    operationId: 'GetChaos',
    summary:
      "The chaos triggers of this node's SMTP listeners (Mailpit's shape plus Connect, Data, latency and disconnect)",
    tag: 'testing',
    responses: {
      200: json(chaosTriggers, 'Every trigger'),
      409: problem('Chaos is not enabled on this node (--chaos-enabled, --chaos, smtp role)'),
    },
  },
  {
    method: 'put',
    path: '/api/v1/chaos',
    operationId: 'SetChaos',
    summary: 'Replace the chaos triggers; a trigger left out is off, and {} turns chaos off',
    tag: 'testing',
    body: chaosBody,
    responses: {
      200: json(chaosTriggers, 'Every trigger, as now in force'),
      400: bad,
      409: problem('Chaos is not enabled on this node (--chaos-enabled, --chaos, smtp role)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tags',
    operationId: 'GetAllTags',
    summary: 'Every tag name',
    tag: 'tags',
    responses: { 200: json(z.array(z.string()), 'Tag names, sorted') },
  },
  {
    method: 'put',
    path: '/api/v1/tags',
    operationId: 'SetTags',
    summary: 'Set exactly these tags on these messages',
    tag: 'tags',
    body: setTagsBody,
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'put',
    path: '/api/v1/tags/{Tag}',
    operationId: 'RenameTag',
    summary: 'Rename a tag',
    tag: 'tags',
    path_params: { Tag: tagParam.describe('The URL-encoded tag name') },
    body: renameTagBody,
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'delete',
    path: '/api/v1/tags/{Tag}',
    operationId: 'DeleteTag',
    summary: 'Remove a tag from every message',
    tag: 'tags',
    path_params: { Tag: tagParam.describe('The URL-encoded tag name') },
    responses: { 200: ok, 400: bad },
  },
  {
    method: 'get',
    path: '/api/v1/info',
    operationId: 'AppInformation',
    summary: 'Version, totals and runtime statistics',
    tag: 'application',
    responses: { 200: json(shapes.appInfo, 'Application information') },
  },
  {
    method: 'get',
    path: '/api/v1/webui',
    operationId: 'WebUIConfiguration',
    summary: 'What the web UI should offer',
    tag: 'application',
    responses: { 200: json(shapes.webUiConfig, 'Web UI configuration') },
  },
  {
    method: 'get',
    path: '/view/{ID}.html',
    operationId: 'GetMessageHTML',
    summary: 'The message HTML as a sandboxed standalone document (remote resources blocked by default)',
    tag: 'view',
    path_params: ID,
    query: viewQuery,
    responses: { 200: { description: 'HTML', content: { 'text/html': undefined } }, 404: notFound },
  },
  {
    method: 'get',
    path: '/view/{ID}.txt',
    operationId: 'GetMessageText',
    summary: 'The message text',
    tag: 'view',
    path_params: ID,
    responses: { 200: { description: 'Text', content: { 'text/plain': undefined } }, 404: notFound },
  },
  {
    method: 'get',
    path: '/t/o/{ID}/{Signature}.gif',
    operationId: 'TrackOpen',
    summary:
      'Open pixel of a tracked message: records message:opened (no credentials; a wrong signature is a 404)',
    tag: 'tracking',
    path_params: {
      ID: z.string().describe('Outbound message ID'),
      Signature: z.string().describe('HMAC of the message ID (--tracking-secret)'),
    },
    responses: {
      200: { description: 'A 1×1 transparent GIF', content: { 'image/gif': undefined } },
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/t/c/{ID}/{Signature}',
    operationId: 'TrackClick',
    summary:
      'Click redirect of a tracked link: records message:clicked and redirects (no credentials; never to a URL it did not sign)',
    tag: 'tracking',
    path_params: {
      ID: z.string().describe('Outbound message ID'),
      Signature: z.string().describe('HMAC of the message ID and the target URL'),
    },
    query: z.object({ u: z.string().describe('The target URL') }),
    responses: { 302: { description: 'Redirect to the signed URL' }, 404: notFound },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    operationId: 'OpenAPI',
    summary: 'This document',
    tag: 'application',
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': undefined } } },
  },
];

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

function parameters(op: Operation): unknown[] {
  const out: unknown[] = [];
  for (const [name, schema] of Object.entries(op.path_params ?? {})) {
    out.push({
      name,
      in: 'path',
      required: true,
      schema: schemaOf(schema, 'input'),
      description: schema.description,
    });
  }
  for (const [name, schema] of Object.entries(op.headers ?? {})) {
    out.push({
      name,
      in: 'header',
      required: false,
      schema: schemaOf(schema, 'input'),
      description: schema.description,
    });
  }
  if (op.query) {
    const json = schemaOf(op.query, 'input') as {
      properties?: Record<string, { description?: string }>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: 'query',
        required: json.required?.includes(name) ?? false,
        schema,
        description: schema.description,
      });
    }
  }
  return out;
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.content && {
          content: Object.fromEntries(
            Object.entries(r.content).map(([type, schema]) => [
              type,
              schema ? { schema: schemaOf(schema, 'output') } : {},
            ]),
          ),
        }),
      };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      tags: [op.tag],
      parameters: parameters(op),
      ...(op.body && {
        requestBody: { content: { 'application/json': { schema: schemaOf(op.body, 'input') } } },
      }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mailroom API',
      version,
      description:
        "Mailpit-compatible API v1 (same paths, fields and status codes) plus Mailroom's additions. Errors are RFC 9457 problem JSON.",
    },
    paths,
  };
}
