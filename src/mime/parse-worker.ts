// Worker thread body: parses one message at a time for ParsePool. It may be terminated at any
// moment (time budget) or die from its heap limit (memory budget); it holds no state worth saving.
import { parentPort } from 'node:worker_threads';
import { extractPart, parseMessage } from './extract.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts must run in a worker thread');

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

/** A buffer that can be transferred without taking others' bytes along. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.kind === 'parse') {
      post({ type: 'done', id: req.id, ok: true, parsed: await parseMessage(req.raw) });
      return;
    }
    const part = await extractPart(req.raw, req.partId);
    if (!part) {
      post({ type: 'done', id: req.id, ok: true, part: null });
      return;
    }
    const content = ownBytes(part.content);
    post({ type: 'done', id: req.id, ok: true, part: { ...part, content } }, [content.buffer]);
  } catch (err) {
    post({ type: 'done', id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (req: WorkerRequest) => {
  void handle(req);
});
post({ type: 'ready' });
