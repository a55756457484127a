// Worker thread body: parses one message at a time for ParsePool. It may be terminated at any
// moment (time budget) or die from its heap limit (memory budget); it holds no state worth saving.
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { startIdleGc } from '../runtime/idle-gc.ts';
import { movable, transferable } from '../runtime/thread-bytes.ts';
import { batchParse } from './batch-parse.ts';
import { installByteBlob } from './byte-blob.ts';
import { extractPart, parseMessage } from './extract.ts';
import type { BatchParse } from './types.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

/** Nice value of parse threads: the lowest, so SMTP and spool threads (0) always go first. */
const PARSE_NICE = 19;

const port = parentPort;
if (!port) throw new Error('parse-worker.ts must run in a worker thread');

// Accepting mail comes before parsing it: a message is safe once spooled, and its parse can wait.
// On Linux, setpriority(pid 0) applies to the calling thread only, so this lowers just this parse
// thread; when the SMTP threads are busy the scheduler gives them the cores and parsing catches
// up in the gaps (docs/adr/0004-parsing-yields-to-ingest.md). Where the call fails, nothing breaks.
try {
  if (process.platform === 'linux') os.setPriority(0, PARSE_NICE);
} catch {}

installByteBlob();
// A parse leaves its garbage behind; once the queue is quiet this thread hands the memory back.
startIdleGc();

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.kind === 'parseBatch') {
      const results: BatchParse[] = [];
      for (const raw of req.raws) {
        try {
          // The stored form (JSON, search document, listing columns) is made here too, in this
          // low-priority thread, rather than by the writer thread (spool commits) or the main
          // thread (SMTP); the parsed object itself does not travel back.
          results.push(batchParse(await parseMessage(raw)));
        } catch (err) {
          results.push({ ok: false, error: err instanceof Error ? err.message : String(err) });
        }
      }
      post({ type: 'done', id: req.id, ok: true, results });
      return;
    }
    if (req.kind === 'parse') {
      post({ type: 'done', id: req.id, ok: true, parsed: await parseMessage(req.raw) });
      return;
    }
    const part = await extractPart(req.raw, req.partId);
    if (!part) {
      post({ type: 'done', id: req.id, ok: true, part: null });
      return;
    }
    const content = transferable(part.content);
    post({ type: 'done', id: req.id, ok: true, part: { ...part, content } }, movable([content]));
  } catch (err) {
    post({ type: 'done', id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (req: WorkerRequest) => {
  void handle(req);
});
post({ type: 'ready' });
