import shipped from '../../automations.config';
import { defineConfig, github, stripe } from '../../src/recipes';

/**
 * The shipped automations.config.ts with every imported recipe added: what the bundle costs when a deployment uses
 * all of them (`npm run bench -- size`, variant "every recipe imported").
 */
export default defineConfig({
  ...shipped,
  stripe: stripe({ prices: { price_123: { roles: ['pro'], plan: 'pro' } } }),
  github: github({ organizations: { 'your-github-org': { roles: ['github-member'] } } }),
});
