// Messages between ParsePool (main thread) and parse-worker.ts. Payloads carry raw bytes in,
// results out; the buffers are transferred, not copied.
import type { ParsedMessage } from '../domain/message.ts';
import type { BatchParse, PartContent } from './types.ts';

export type WorkerRequest =
  | { id: number; kind: 'parse'; raw: Uint8Array }
  | { id: number; kind: 'parseBatch'; raws: Uint8Array[] }
  | { id: number; kind: 'extract'; raw: Uint8Array; partId: string };

export type JobSuccess = {
  type: 'done';
  id: number;
  ok: true;
  parsed?: ParsedMessage;
  results?: BatchParse[];
  part?: PartContent | null;
};

export type WorkerReply =
  | { type: 'ready' }
  | JobSuccess
  | { type: 'done'; id: number; ok: false; error: string };
