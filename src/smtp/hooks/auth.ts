// Auth stage: checks AUTH PLAIN / LOGIN credentials against the users file, or accepts anything
// in sandbox mode (the user name is still recorded). The password only passes through here.
import type { AuthUsers } from '../auth-file.ts';
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, reject } from './types.ts';

export interface AuthInput extends SessionFacts {
  method: string;
  username: string;
  password: string;
}

export type AuthHook = (input: AuthInput) => Verdict | Promise<Verdict>;

export function createAuthHook(opts: { users: AuthUsers | null; acceptAny: boolean }): AuthHook {
  return async (input) => {
    if (opts.acceptAny) return input.username ? ACCEPT : reject('auth-failed');
    if (!opts.users) return reject('auth-failed');
    return (await opts.users.verify(input.username, input.password)) ? ACCEPT : reject('auth-failed');
  };
}
