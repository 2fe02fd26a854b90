import { list, text } from '../config';

/** The console's settings, from the Worker's variables. */
export interface ConsoleSettings {
  /** CONSOLE_CLIENT_ID: a Logto application (Traditional web, or SPA without a secret) with the redirect URI. */
  clientId: string;
  /** CONSOLE_CLIENT_SECRET (a secret): the web application's; empty for an SPA (PKCE alone). */
  clientSecret: string;
  /** CONSOLE_USER_IDS: Logto user IDs allowed in. */
  userIds: string[];
  /** CONSOLE_ROLE_NAMES: Logto user roles whose holders are allowed in. */
  roleNames: string[];
}

/**
 * The console is on when CONSOLE_CLIENT_ID is set; it then needs someone to let in (CONSOLE_USER_IDS or
 * CONSOLE_ROLE_NAMES), else it is refused with a message naming the variables.
 */
export function consoleSettings(env: object): ConsoleSettings | { off: string } {
  const clientId = text(env, 'CONSOLE_CLIENT_ID');
  if (!clientId)
    return { off: 'set CONSOLE_CLIENT_ID to a Logto application (see docs/operations.md, "The console")' };
  const userIds = list(text(env, 'CONSOLE_USER_IDS'));
  const roleNames = list(text(env, 'CONSOLE_ROLE_NAMES'));
  if (userIds.length === 0 && roleNames.length === 0)
    return { off: 'set CONSOLE_USER_IDS or CONSOLE_ROLE_NAMES: nobody is allowed in' };
  // As set (not trimmed): it is sent to Logto as it is.
  const secret = (env as { CONSOLE_CLIENT_SECRET?: unknown }).CONSOLE_CLIENT_SECRET;
  return { clientId, clientSecret: typeof secret === 'string' ? secret : '', userIds, roleNames };
}
