// The SASL exchanges of AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN, step by step, from the AUTH
// line through each continuation line until credentials (or a refusal) come out. No I/O and no
// hooks: the session sends what a step says and checks the credentials itself.
import { decodeBase64, decodePlain } from './commands.ts';

/** RFC 4954 §4: the server's challenges for LOGIN, "Username:" and "Password:" in base64. */
const LOGIN_USERNAME = 'VXNlcm5hbWU6';
const LOGIN_PASSWORD = 'UGFzc3dvcmQ6';

/** An exchange waiting for the client's next line. */
export type SaslState = { method: 'PLAIN' } | { method: 'LOGIN'; username?: string };

export type SaslStep =
  /** Answer 334 with this text; `state` waits for the client's response. */
  | { kind: 'challenge'; text: string; state: SaslState }
  | { kind: 'credentials'; method: 'PLAIN' | 'LOGIN'; username: string; password: string }
  | { kind: 'refused'; code: number; text: string };

const refused = (code: number, text: string): SaslStep => ({ kind: 'refused', code, text });

function plain(response: string): SaslStep {
  const credentials = decodePlain(response);
  if (!credentials) return refused(501, '5.5.2 Invalid PLAIN response');
  return { kind: 'credentials', method: 'PLAIN', ...credentials };
}

/** The first step, from the arguments of AUTH: the mechanism and an optional initial response. */
export function saslStart(args: string): SaslStep {
  const [mechanism = '', initial, extra] = args.split(' ');
  if (extra !== undefined) return refused(501, '5.5.4 Syntax: AUTH mechanism [initial-response]');
  const method = mechanism.toUpperCase();
  if (method === 'PLAIN') {
    if (initial === undefined) return { kind: 'challenge', text: '', state: { method } };
    // RFC 4954 §4: "=" is an empty initial response.
    return plain(initial === '=' ? '' : initial);
  }
  if (method === 'LOGIN') {
    if (initial === undefined) return { kind: 'challenge', text: LOGIN_USERNAME, state: { method } };
    const username = decodeBase64(initial);
    if (username === null) return refused(501, '5.5.2 Invalid base64');
    return { kind: 'challenge', text: LOGIN_PASSWORD, state: { method, username } };
  }
  return refused(504, '5.5.4 Unrecognized authentication type');
}

/** The next step, from the client's response to a challenge; "*" cancels (RFC 4954 §4). */
export function saslContinue(state: SaslState, line: string): SaslStep {
  if (line.trim() === '*') return refused(501, '5.0.0 Authentication canceled');
  if (state.method === 'PLAIN') return plain(line);
  const text = decodeBase64(line);
  if (text === null) return refused(501, '5.5.2 Invalid base64');
  if (state.username === undefined) {
    return { kind: 'challenge', text: LOGIN_PASSWORD, state: { method: 'LOGIN', username: text } };
  }
  return { kind: 'credentials', method: 'LOGIN', username: state.username, password: text };
}
