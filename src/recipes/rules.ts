import type { AutomationInput, NewUser } from '../automations';
import type { AutomationConfig } from './config';

export type RuleWhen = AutomationConfig['rolesByRule'][number]['when'];

/** The domain of the user's primary email, lower-cased, when it counts as verified. */
export function verifiedEmailDomain(user: NewUser, trustApiEmails: boolean): string | undefined {
  const email = user.user.primaryEmail;
  if (typeof email !== 'string' || !email.includes('@')) return undefined;
  // Logto verifies an email before a sign-up may use it (code or a social/SSO provider); an email written through
  // the Management API was not verified by anyone unless the operator says its writers are trusted.
  if (user.origin !== 'sign-up' && !trustApiEmails) return undefined;
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** Connector targets of the user's social/SSO identities (`identities` keys). */
export const connectorsOf = (user: NewUser): string[] => Object.keys(user.user.identities ?? {});

/** Does a rule match? Every condition given must hold. */
export function ruleMatches(
  when: RuleWhen,
  user: NewUser,
  input: AutomationInput,
  options: { trustApiEmails: boolean },
): boolean {
  if (when.emailDomains) {
    const domain = verifiedEmailDomain(user, options.trustApiEmails);
    if (!domain || !when.emailDomains.includes(domain)) return false;
  }
  if (when.connectors && !connectorsOf(user).some((connector) => when.connectors?.includes(connector)))
    return false;
  if (when.applications && !(user.applicationId && when.applications.includes(user.applicationId)))
    return false;
  if (when.test && !when.test(user, input)) return false;
  return true;
}
