// Open connections per client IP and in all, across every listener: the numbers the connect hook
// judges. Counted when the socket is accepted, released once when it closes.
export class ConnectionCounter {
  private readonly perIp = new Map<string, number>();
  private total = 0;

  /** Counts a new connection; returns the counts including it and a release function (idempotent). */
  acquire(ip: string): { fromIp: number; total: number; release: () => void } {
    const fromIp = (this.perIp.get(ip) ?? 0) + 1;
    this.perIp.set(ip, fromIp);
    this.total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left === 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    };
    return { fromIp, total: this.total, release };
  }

  get open(): number {
    return this.total;
  }
}
