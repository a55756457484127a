// Collects one message's data stream from smtp-server: the bytes (up to the size limit, so an
// oversized message costs no memory past it) and the framing scan.
import type { SMTPServerDataStream } from 'smtp-server';
import { type DataScan, DataScanner } from './data-scanner.ts';

export interface CollectedData {
  raw: Buffer;
  scan: DataScan;
  sizeExceeded: boolean;
}

/** Resolves when the terminating dot arrived; null when the stream broke off (client gone). */
export function collectData(stream: SMTPServerDataStream, maxBytes: number): Promise<CollectedData | null> {
  return new Promise((resolve) => {
    const scanner = new DataScanner();
    const chunks: Buffer[] = [];
    let kept = 0;
    stream.on('data', (chunk: Buffer) => {
      scanner.push(chunk);
      if (kept + chunk.length <= maxBytes) {
        chunks.push(chunk);
        kept += chunk.length;
      }
    });
    // smtp-server destroys the stream when the client leaves mid-DATA: 'end' never comes.
    stream.on('error', () => resolve(null));
    stream.once('close', () => resolve(null));
    stream.once('end', () =>
      resolve({
        raw: Buffer.concat(chunks, kept),
        scan: scanner.finish(),
        sizeExceeded: stream.sizeExceeded,
      }),
    );
  });
}
