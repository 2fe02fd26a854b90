/**
 * The operator console (`/console`): events with filters and search, one event's payload, actions and timeline,
 * failures grouped by cause with bulk replay, held batches, health. Server-rendered with a small escaping `html` template (views.ts); sign-in with Logto.
 */
export { type ConsoleDeps, createConsoleRoutes } from './routes';
export { type ConsoleSettings, consoleSettings } from './settings';
