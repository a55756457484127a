// Real SMTP clients driven from tests: swaks and Python's smtplib as child processes.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string | Buffer): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Runs a Python script (smtplib) with JSON arguments available as `ARGS`. */
export function python(script: string, args: unknown): Promise<RunResult> {
  const prelude = 'import json, sys, smtplib, ssl, base64\nARGS = json.loads(sys.argv[1])\n';
  return run('python3', ['-c', prelude + script, JSON.stringify(args)]);
}

/** An SSL context that accepts the harness's self-signed certificate. */
export const PY_INSECURE_CTX =
  'ctx = ssl.create_default_context()\nctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n';
