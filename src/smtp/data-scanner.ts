// Watches message data (after dot-unstuffing) chunk by chunk for framing faults: a CR not followed
// by LF or an LF not preceded by CR (RFC 5321 §2.3.8), and the longest line. The wire ends DATA
// only on <CRLF>.<CRLF>, so "\n.\n" and friends stay inside the data, where this scan finds them.
// One pass over the line feeds and one over the carriage returns, each with native indexOf.
const CR = 0x0d;
const LF = 0x0a;

export interface DataScan {
  bareLineEnding: boolean;
  /** Longest line in octets, its CRLF included. */
  longestLine: number;
}

export class DataScanner {
  private bare = false;
  private longest = 0;
  /** Octets of the current, unfinished line. */
  private lineLength = 0;
  private lastByte = -1;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // A CR that ended the previous chunk must be followed by LF here.
    if (this.lastByte === CR && chunk[0] !== LF) this.bare = true;
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      if (!this.bare && (lf === 0 ? this.lastByte : chunk[lf - 1]) !== CR) this.bare = true;
      this.longest = Math.max(this.longest, this.lineLength + lf - start + 1);
      this.lineLength = 0;
      start = lf + 1;
    }
    if (!this.bare) this.findBareCr(chunk);
    this.lineLength += chunk.length - start;
    this.longest = Math.max(this.longest, this.lineLength);
    this.lastByte = chunk[chunk.length - 1]!;
  }

  /** A CR not followed by LF; one at the very end is judged with the next chunk (or at finish). */
  private findBareCr(chunk: Uint8Array): void {
    for (let cr = chunk.indexOf(CR); cr !== -1 && cr < chunk.length - 1; cr = chunk.indexOf(CR, cr + 1)) {
      if (chunk[cr + 1] !== LF) {
        this.bare = true;
        return;
      }
    }
  }

  finish(): DataScan {
    if (this.lastByte === CR) this.bare = true;
    return { bareLineEnding: this.bare, longestLine: this.longest };
  }
}
