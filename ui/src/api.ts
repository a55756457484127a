// Thin typed client for the Mailpit-compatible API v1 on the same origin. Every call throws an
// ApiError carrying the status and the server's problem detail, so callers can show it.
import type {
  ActionJob,
  Desk,
  ExtractResult,
  HeldMessage,
  HtmlCheckResult,
  InboundRoute,
  InboxList,
  LinkCheckResult,
  ListResponse,
  ListUnsubscribeCheck,
  Message,
  MessageRouting,
  Outbound,
  RouteTestResult,
  SpamResult,
  Ticket,
  TicketEntry,
  TicketFilter,
  TicketList,
  TicketPatch,
  TicketState,
  TicketWithEntries,
  WebUiConfig,
} from './types.ts';

/** A failed API call: the HTTP status (0 when the network failed) and a readable reason. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

async function failure(res: Response): Promise<ApiError> {
  let detail = `${res.status} ${res.statusText}`.trim();
  try {
    const text = await res.text();
    if (text) {
      try {
        const body = JSON.parse(text) as { detail?: string; Error?: string };
        detail = body.detail ?? body.Error ?? text;
      } catch {
        detail = text.slice(0, 300);
      }
    }
  } catch {
    // Keep the status line.
  }
  return new ApiError(res.status, detail);
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', ...init });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'The server cannot be reached.');
  }
  if (!res.ok) throw await failure(res);
  return res;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  return (await request(path, init)).json() as Promise<T>;
}

function send(method: string, path: string, body?: unknown): Promise<Response> {
  return request(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const tz = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return '';
  }
})();

const enc = encodeURIComponent;

/** One page of the mailbox, or of a search when `query` is not blank. Newest first. */
export function listMessages(
  query: string,
  start: number,
  limit: number,
  signal?: AbortSignal,
): Promise<ListResponse> {
  const path = query.trim()
    ? `/api/v1/search?query=${enc(query)}&start=${start}&limit=${limit}${tz ? `&tz=${enc(tz)}` : ''}`
    : `/api/v1/messages?start=${start}&limit=${limit}`;
  return json<ListResponse>(path, { signal });
}

export function getMessage(id: string, signal?: AbortSignal): Promise<Message> {
  return json<Message>(`/api/v1/message/${enc(id)}`, { signal });
}

export function getHeaders(id: string, signal?: AbortSignal): Promise<Record<string, string[]>> {
  return json<Record<string, string[]>>(`/api/v1/message/${enc(id)}/headers`, { signal });
}

/** The delivery record of a message Mailroom sent (captured mail keeps its outbound ID). */
export function getOutbound(id: string, signal?: AbortSignal): Promise<Outbound> {
  return json<Outbound>(`/api/v1/outbound/${enc(id)}`, { signal });
}

/** The sender checks of a received message and what routing did with it. */
export function getRouting(id: string, signal?: AbortSignal): Promise<MessageRouting> {
  return json<MessageRouting>(`/api/v1/message/${enc(id)}/routing`, { signal });
}

/** Runs an action job again (a 409 while it runs); resolves to the job as it now is. */
export async function replayAction(actionId: string): Promise<ActionJob> {
  return (await send('POST', `/api/v1/actions/${enc(actionId)}/replay`)).json() as Promise<ActionJob>;
}

/** The inbound routes in force, in evaluation order. */
export async function listRoutes(signal?: AbortSignal): Promise<InboundRoute[]> {
  return (await json<{ routes: InboundRoute[] | null }>('/api/v1/routes', { signal })).routes ?? [];
}

/** A dry run of today's routes on a stored message: what each would do, and why or why not. */
export async function testRoutes(messageId: string, signal?: AbortSignal): Promise<RouteTestResult> {
  return json<RouteTestResult>('/api/v1/routes/test', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ID: messageId }),
    signal,
  });
}

export function getSpamCheck(id: string, signal?: AbortSignal): Promise<SpamResult> {
  return json<SpamResult>(`/api/v1/message/${enc(id)}/sa-check`, { signal });
}

/** The links of a message and its likely one-time codes. */
export function getExtract(id: string, signal?: AbortSignal): Promise<ExtractResult> {
  return json<ExtractResult>(`/api/v1/message/${enc(id)}/extract`, { signal });
}

/** The status of each web link; the server checks each through its address policy. */
export function getLinkCheck(id: string, follow: boolean, signal?: AbortSignal): Promise<LinkCheckResult> {
  return json<LinkCheckResult>(`/api/v1/message/${enc(id)}/link-check${follow ? '?follow=true' : ''}`, {
    signal,
  });
}

/** HTML and CSS support in mail programs, from caniemail's tables (400 without an HTML part). */
export function getHtmlCheck(id: string, signal?: AbortSignal): Promise<HtmlCheckResult> {
  return json<HtmlCheckResult>(`/api/v1/message/${enc(id)}/html-check`, { signal });
}

/** The List-Unsubscribe and one-click unsubscribe fields, checked. */
export function getListUnsubscribe(id: string, signal?: AbortSignal): Promise<ListUnsubscribeCheck> {
  return json<ListUnsubscribeCheck>(`/api/v1/message/${enc(id)}/list-unsubscribe`, { signal });
}

export function getTags(): Promise<string[]> {
  return json<string[] | null>('/api/v1/tags').then((t) => t ?? []);
}

/** The inboxes this user may see, with their counts. */
export function getInboxes(): Promise<InboxList> {
  return json<InboxList>('/api/v1/inboxes');
}

export function getWebUi(): Promise<WebUiConfig> {
  return json<WebUiConfig>('/api/v1/webui');
}

/** Marks messages read or unread; no ids means every message. */
export async function setRead(ids: string[] | 'all', read: boolean): Promise<void> {
  await send('PUT', '/api/v1/messages', ids === 'all' ? { Read: read } : { IDs: ids, Read: read });
}

/** Deletes messages; 'all' empties the mailbox. */
export async function deleteMessages(ids: string[] | 'all'): Promise<void> {
  await send('DELETE', '/api/v1/messages', ids === 'all' ? undefined : { IDs: ids });
}

/** Deletes every message a search matches. */
export async function deleteSearch(query: string): Promise<void> {
  await send('DELETE', `/api/v1/search?query=${enc(query)}${tz ? `&tz=${enc(tz)}` : ''}`);
}

/** Replaces the tags of the given messages. */
export async function setTags(ids: string[], tags: string[]): Promise<void> {
  await send('PUT', '/api/v1/tags', { IDs: ids, Tags: tags });
}

// ---------- Tickets (a support desk) ----------

/** The desk's tickets for a filter, most recently updated first. */
export function listTickets(
  f: TicketFilter,
  signal?: AbortSignal,
  limit = 200,
  start = 0,
): Promise<TicketList> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (start > 0) q.set('start', String(start));
  if (f.states.length) q.set('state', f.states.join(','));
  if (f.assignee !== null) q.set('assignee', f.assignee);
  if (f.tag) q.set('tag', f.tag);
  if (f.query.trim()) q.set('query', f.query.trim());
  return json<TicketList>(`/api/v1/tickets?${q}`, { signal });
}

/** The first `count` tickets for a filter, in pages of up to 500 (the API's most). */
export async function listTicketsUpTo(
  f: TicketFilter,
  count: number,
  signal?: AbortSignal,
): Promise<TicketList> {
  const first = await listTickets(f, signal, Math.min(count, 500));
  const seen = new Set(first.tickets.map((t) => t.ID));
  const tickets = [...first.tickets];
  let total = first.total;
  for (let start = 500; start < Math.min(count, total); start += 500) {
    const page = await listTickets(f, signal, Math.min(500, count - start), start);
    total = page.total;
    // Offsets over a list that changes meanwhile can repeat a ticket: keep its first place.
    for (const t of page.tickets) {
      if (seen.has(t.ID)) continue;
      seen.add(t.ID);
      tickets.push(t);
    }
    if (page.tickets.length === 0) break;
  }
  return { ...first, total, tickets };
}

export function getTicket(id: string, signal?: AbortSignal): Promise<TicketWithEntries> {
  return json<TicketWithEntries>(`/api/v1/tickets/${enc(id)}`, { signal });
}

export type TicketPatchBody = TicketPatch;

export async function patchTicket(id: string, patch: TicketPatch): Promise<Ticket> {
  return (await send('PATCH', `/api/v1/tickets/${enc(id)}`, patch)).json() as Promise<Ticket>;
}

/** Mails an agent's reply to the ticket's requester; `state` is the ticket's state after it. */
export async function replyTicket(
  id: string,
  text: string,
  state?: TicketState,
): Promise<{ Ticket: Ticket; Entry: TicketEntry }> {
  const res = await send('POST', `/api/v1/tickets/${enc(id)}/replies`, {
    Text: text,
    ...(state ? { State: state } : {}),
  });
  return res.json() as Promise<{ Ticket: Ticket; Entry: TicketEntry }>;
}

/** An internal note on the ticket: never mailed. */
export async function noteTicket(id: string, text: string): Promise<{ Ticket: Ticket; Entry: TicketEntry }> {
  const res = await send('POST', `/api/v1/tickets/${enc(id)}/notes`, { Text: text });
  return res.json() as Promise<{ Ticket: Ticket; Entry: TicketEntry }>;
}

export async function listDesks(signal?: AbortSignal): Promise<Desk[]> {
  return (await json<{ desks: Desk[] }>('/api/v1/tickets/desks', { signal })).desks;
}

export async function listHeld(signal?: AbortSignal): Promise<HeldMessage[]> {
  return (await json<{ held: HeldMessage[] | null }>('/api/v1/tickets/held', { signal })).held ?? [];
}

/** Attaches a held message to a ticket, opens a ticket from it, or dismisses it. */
export async function resolveHeld(
  messageId: string,
  action: 'attach' | 'open' | 'dismiss',
  body: { Desk?: string; Ticket?: string } = {},
): Promise<{ Resolution: string; Ticket: Ticket | null }> {
  const res = await send('POST', `/api/v1/tickets/held/${enc(messageId)}/${action}`, body);
  return res.json() as Promise<{ Resolution: string; Ticket: Ticket | null }>;
}

export const ticketUrls = {
  part: (id: string, entry: string, partId: string) =>
    `/api/v1/tickets/${enc(id)}/entries/${enc(entry)}/part/${enc(partId)}`,
  view: (id: string, entry: string) => `/api/v1/tickets/${enc(id)}/entries/${enc(entry)}/view.html?embed=1`,
  raw: (id: string, entry: string) => `/api/v1/tickets/${enc(id)}/entries/${enc(entry)}/raw`,
  events: () => '/api/v1/tickets/events',
};

export const urls = {
  raw: (id: string, download = false) => `/api/v1/message/${enc(id)}/raw${download ? '?dl=1' : ''}`,
  part: (id: string, partId: string) => `/api/v1/message/${enc(id)}/part/${enc(partId)}`,
  thumb: (id: string, partId: string) => `/api/v1/message/${enc(id)}/part/${enc(partId)}/thumb`,
  view: (id: string, remote: boolean) => `/view/${enc(id)}.html?embed=1${remote ? '&remote=1' : ''}`,
  events: () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`,
};

/**
 * How many remote resources the server blocked in the message's HTML (its
 * X-Mailroom-Remote-Blocked header); 0 when unknown.
 */
export async function remoteBlockedCount(id: string, signal?: AbortSignal): Promise<number> {
  try {
    const res = await fetch(urls.view(id, false), { method: 'HEAD', signal });
    const n = Number(res.headers.get('X-Mailroom-Remote-Blocked') ?? '0');
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * The first `maxBytes` of a text resource without downloading the rest (the stream is cancelled),
 * and whether there was more.
 */
export async function fetchTextPrefix(
  path: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<{ text: string; truncated: boolean }> {
  const res = await request(path, { signal });
  if (!res.body) {
    const text = await res.text();
    return { text: text.slice(0, maxBytes), truncated: text.length > maxBytes };
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const all = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const c of chunks) {
    const take = Math.min(c.byteLength, all.byteLength - at);
    all.set(c.subarray(0, take), at);
    at += take;
    if (at >= all.byteLength) break;
  }
  return { text: new TextDecoder('utf-8').decode(all), truncated };
}
