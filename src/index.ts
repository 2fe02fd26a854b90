import { createApp } from './handlers';

/** The Worker: a Hono app on `fetch`. */
export default {
  fetch: createApp().fetch,
} satisfies ExportedHandler<Env>;
