import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Each test file gets fresh storage; bring the journal schema up to date before it runs (idempotent).
await applyD1Migrations(env.JOURNAL, env.TEST_MIGRATIONS);
