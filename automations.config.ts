import { defineConfig } from './src/recipes';

/**
 * What this Worker does in your Logto tenant. Edit, then `npm test` / `npm run dev` / `npm run deploy`: a bad field
 * stops all three with a message naming it. Every recipe is idempotent (the same event twice, a replay or the sweep
 * changes nothing the second time). The README's cookbook explains each one. Logto already assigns default roles to
 * every new user and joins users to organizations by verified email domain (JIT): use Logto for those.
 */
export default defineConfig({
  // Journal what would be done and change nothing: a good first deployment.
  dryRun: false,

  // A personal organization for every new user who signs up (add organization role names to give them one in it).
  personalOrganization: {
    name: ["{name}'s workspace", "{username}'s workspace", "{emailLocal}'s workspace"],
    organizationRoles: [],
  },

  // Roles by rule — uncomment and adapt:
  // rolesByRule: [{ name: 'staff', roles: ['staff'], when: { emailDomains: ['example.com'] } }],

  // Organizations by rule, beyond Logto's JIT (covers social sign-ups and users created through the API):
  // organizationsByRule: [
  //   { name: 'github-users', organizationId: 'your-org-id', organizationRoles: ['member'], when: { connectors: ['github'] } },
  // ],

  // Stamp how and where each user signed up into customData.signUp.
  stamps: { key: 'signUp' },

  // Repair what Logto never delivered (it sends each webhook once): every 15 min, users created since the last sweep;
  // every 24 h, users Logto's filters say lack a sign-up role, a rule's role or a rule's organization.
  reconcile: { enabled: true, cron: '*/15 * * * *', filterEveryHours: 24 },

  // A sweep, cleanup or bulk replay acting on more users than this waits for an operator's approval.
  brakes: { maxUsers: 50, maxShare: 0.2 },

  // Opt-in: suspend users who never signed in 30 days after creation (dry-run first).
  // cleanup: { enabled: true, dryRun: true, action: 'suspend', neverSignedInDays: 30 },

  // Stripe and GitHub are imported recipes: only what you import is deployed. Add `stripe` / `github` to the import
  // above (`import { defineConfig, github, stripe } from './src/recipes';`), then uncomment.
  // Stripe: roles and a plan stamp per price (set STRIPE_WEBHOOK_SECRET).
  // stripe: stripe({ prices: { price_123: { roles: ['pro'], plan: 'pro' } } }),
  // GitHub: membership of a GitHub organization → Logto roles (set GITHUB_WEBHOOK_SECRET).
  // github: github({ organizations: { 'your-github-org': { roles: ['github-member'] } } }),

  // Your own code: see examples/.
  handlers: [],
});
