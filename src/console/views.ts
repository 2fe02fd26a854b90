import {
  type CallRecord,
  EVENT_STATUSES,
  type EventActions,
  type FailureGroup,
  type Health,
  type HeldBatch,
  type HeldItem,
  type JournalEntry,
} from '../journal';
import type { Operator } from './session';

/** Markup: text that is already HTML, inserted into a template as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** A value placed in a template: markup as it is, lists joined, false/null/undefined as nothing, the rest escaped. */
const insert = (value: unknown): string =>
  value instanceof Html
    ? value.text
    : Array.isArray(value)
      ? value.map(insert).join('')
      : value === false || value === null || value === undefined
        ? ''
        : String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] as string);

/**
 * The console's pages are server-rendered with this tagged template (every value is escaped unless it is {@link Html};
 * nested templates and lists of them are inserted as they are): no JSX runtime and no template library in the bundle.
 * Each page is a function of its props.
 */
export const html = (strings: TemplateStringsArray, ...values: unknown[]): Html =>
  new Html(strings.reduce((out, part, i) => out + insert(values[i - 1]) + part));

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1b1f24;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#1b1f24;color:#fff}
header a{color:#fff;text-decoration:none}header nav{display:flex;gap:1rem;flex-wrap:wrap}header .me{margin-left:auto}
main{padding:1rem;max-width:1200px;margin:auto}h1{font-size:1.3rem}table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}.k{font-family:monospace}
.s{padding:.05rem .4rem;border-radius:.6rem;font-size:.8rem;background:#e3e6ea}.s-failed{background:#ffd7d5}
.s-done{background:#d3f5dc}.s-running,.s-received{background:#fff1c2}.s-held{background:#ffe0b3}
form.f{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:1rem}form.f>*{min-width:8rem}input,select,button{font:inherit;padding:.3rem}
pre{background:#fff;padding:.6rem;overflow:auto;max-height:30rem;border:1px solid #e3e6ea}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{color:#57606a}.wide{overflow-x:auto}.warn{color:#9a3412}button.p{background:#1b1f24;color:#fff;border:0;border-radius:.3rem;padding:.35rem .8rem}
@media (max-width:640px){.o{display:none}}`;

const time = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
/** How long ago `ms` was ("3 min ago"; with `suffix` '' just how long), or 'never'. */
const ago = (ms: number | null | undefined, now: number, suffix = ' ago') => {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return (s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`) + suffix;
};
const status = (value: string) => html`<span class="s s-${value}">${value}</span>`;
const enc = encodeURIComponent;
/** A link to an event's page, shown as the start of its key. */
const eventLink = (key: string) => html`<a href="/console/events/${key}" class="k">${key.slice(0, 12)}</a>`;
const warn = (notice: string | undefined) => notice && html`<p class="warn">${notice}</p>`;

/** A POST form carrying the session's CSRF token (a hidden field) before its `fields`. */
const postForm = (action: string, operator: Operator, fields: Html, attributes?: Html) =>
  html`<form method="post" action="${action}"${attributes}><input type="hidden" name="csrf" value="${operator.csrf}">${fields}</form>`;

/** A column heading; `[label, 'o']` is a column a phone does not show (its cells carry class `o` too). */
type Heading = string | [string, 'o'];

/** A table of `rows` under `head`, scrolling sideways when it does not fit; without rows, the `empty` note if given. */
const table = (head: Heading[], rows: Html[], empty?: string) =>
  rows.length === 0 && empty
    ? html`<p>${empty}</p>`
    : html`<div class="wide"><table><thead><tr>${head.map((heading) =>
        typeof heading === 'string' ? html`<th>${heading}</th>` : html`<th class="o">${heading[0]}</th>`,
      )}</tr></thead><tbody>${rows}</tbody></table></div>`;

/** The page around a view: header, navigation and sign-out when signed in. (The charset is in the Content-Type.) */
export function Layout(props: { title: string; operator?: Operator; children: Html }): Html {
  const me = props.operator;
  return html`<html lang="en"><head>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${props.title} · logto-automations</title><style>${new Html(CSS)}</style></head>
<body><header><strong>logto-automations</strong>${
    me &&
    html`<nav><a href="/console">Events</a><a href="/console/failures">Failures</a>
<a href="/console/batches">Held batches</a><a href="/console/health">Health</a></nav>
${postForm('/console/logout', me, html`${me.display} <button>Sign out</button>`, html` class="me"`)}`
  }</header>
<main>${props.children}</main></body></html>`;
}

export interface EventFilters {
  status?: string;
  type?: string;
  source?: string;
  q?: string;
  since?: string;
  until?: string;
}

const SOURCES = ['logto', 'reconcile', 'cleanup', 'stripe', 'github', 'standard-webhooks'];

const select = (name: string, any: string, options: readonly string[], chosen: string | undefined) =>
  html`<select name="${name}" aria-label="${name}"><option value="">${any}</option>${options.map(
    (option) => html`<option value="${option}"${chosen === option ? html` selected` : ''}>${option}</option>`,
  )}</select>`;

export function EventsPage(props: {
  filters: EventFilters;
  entries: JournalEntry[];
  nextHref?: string;
  notice?: string;
}): Html {
  const f = props.filters;
  return html`<h1>Events</h1>
<form class="f" method="get" action="/console">${select('status', 'any status', EVENT_STATUSES, f.status)}${select(
    'source',
    'any source',
    SOURCES,
    f.source,
  )}
<input name="type" placeholder="event type" value="${f.type ?? ''}" aria-label="event type">
<input name="q" placeholder="user ID, email or event key" value="${f.q ?? ''}" aria-label="search">
<input name="since" type="datetime-local" value="${f.since ?? ''}" aria-label="since">
<input name="until" type="datetime-local" value="${f.until ?? ''}" aria-label="until">
<button class="p">Filter</button></form>${warn(props.notice)}
${table(
  ['received', 'status', 'type', ['source', 'o'], ['user', 'o'], ['key', 'o'], ['error', 'o']],
  props.entries.map(
    (e) => html`<tr><td>${time(e.receivedAt)}</td><td>${status(e.status)}</td>
<td><a href="/console/events/${e.eventKey}">${e.eventType}</a></td>
<td class="o">${e.source}${e.arrivedVia && e.arrivedVia !== 'delivered' ? ` (${e.arrivedVia})` : ''}</td>
<td class="k o">${e.subject ?? '—'}</td><td class="k o">${e.eventKey.slice(0, 12)}</td>
<td class="o">${e.lastErrorCode ?? ''}</td></tr>`,
  ),
  'No event matches.',
)}${props.nextHref && html`<p><a href="${props.nextHref}">Older →</a></p>`}`;
}

export function EventPage(props: {
  entry: JournalEntry;
  actions: EventActions;
  calls: CallRecord[];
  operator: Operator;
  payload: string;
  replayable: boolean;
  notice?: string;
}): Html {
  const e = props.entry;
  const { claimed, coveredBy } = props.actions;
  return html`<h1>${e.eventType} ${status(e.status)}</h1>${warn(props.notice)}
<dl><dt>key</dt><dd class="k">${e.eventKey}</dd><dt>source</dt><dd>${e.source}</dd>
<dt>arrived</dt><dd>${e.arrivedVia ?? 'delivered'} at ${time(e.receivedAt)}</dd>
<dt>user</dt><dd class="k">${e.subject ? html`<a href="/console?q=${enc(e.subject)}">${e.subject}</a>` : '—'}</dd>
<dt>attempts · replays</dt><dd>${e.attempts} · ${e.replays}</dd>${
    e.coveredBy && html`<dt>covered by</dt><dd>${eventLink(e.coveredBy)}</dd>`
  }${e.lastErrorCode && html`<dt>error</dt><dd><strong>${e.lastErrorCode}</strong> ${e.lastErrorMessage ?? ''}</dd>`}
<dt>finished</dt><dd>${time(e.finishedAt)}</dd></dl>${
    props.replayable &&
    postForm(`/console/events/${e.eventKey}/replay`, props.operator, html`<button class="p">Replay</button>`)
  }
<h2>Actions</h2>${claimed.length + coveredBy.length === 0 && html`<p>None claimed.</p>`}<ul>${claimed.map(
    (a) => html`<li><code>${a.actionKey}</code> ${a.status} ${a.doneAt ? `at ${time(a.doneAt)}` : ''}</li>`,
  )}${coveredBy.map((a) => html`<li><code>${a.actionKey}</code> held by ${eventLink(a.by)}</li>`)}</ul>
<h2>Timeline</h2>${table(
    ['at', 'run', 'step', 'attempt', 'outcome', 'ms'],
    props.calls.map(
      (call) => html`<tr><td>${time(call.startedAt)}</td><td>${call.run}</td><td>${call.step}</td>
<td>${call.attempt}</td><td>${
        call.outcome === 'ok'
          ? 'ok'
          : `${call.code ?? 'error'}${call.httpStatus ? ` (${call.httpStatus})` : ''}`
      }</td><td>${call.durationMs}</td></tr>`,
    ),
    'No Management API call recorded.',
  )}
<h2>Result</h2><pre>${JSON.stringify(e.result, null, 2) ?? 'null'}</pre>
<h2>Payload</h2><pre>${props.payload}</pre>`;
}

export function FailuresPage(props: { groups: FailureGroup[]; now: number }): Html {
  return html`<h1>Failures by cause</h1>
${table(
  ['event type', 'automation', 'code', 'count', ['first', 'o'], 'last', ''],
  props.groups.map(
    (
      g,
    ) => html`<tr><td>${g.eventType}</td><td>${g.automations.join(', ') || '—'}</td><td><strong>${g.code}</strong><br><small>${g.exampleMessage ?? ''}</small></td>
<td>${g.count}</td><td class="o">${time(g.firstAt)}</td><td>${ago(g.lastAt, props.now)}</td>
<td><a href="/console/failures/replay?type=${enc(g.eventType)}&amp;code=${enc(g.code)}">Replay…</a></td></tr>`,
  ),
  'No failed event.',
)}`;
}

export function ConfirmReplayPage(props: {
  type: string;
  code: string;
  count: number;
  held: boolean;
  maxUsers: number;
  operator: Operator;
}): Html {
  return html`<h1>Replay a failure group</h1>
<p><strong>${props.count}</strong> failed <code>${props.type}</code> event(s) with <code>${props.code}</code>.</p>${
    props.held &&
    html`<p class="warn">Over the brakes (maxUsers ${props.maxUsers}, or maxShare of the tenant): held as a batch for approval.</p>`
  }
${postForm(
  '/console/failures/replay',
  props.operator,
  html`<input type="hidden" name="type" value="${props.type}"><input type="hidden" name="code" value="${props.code}">
<button class="p">Replay ${props.count}</button> <a href="/console/failures">Cancel</a>`,
)}`;
}

export function BatchesPage(props: { batches: HeldBatch[] }): Html {
  return html`<h1>Held batches</h1>
${table(
  ['created', 'kind', 'status', 'items', ['reason', 'o']],
  props.batches.map(
    (
      b,
    ) => html`<tr><td><a href="/console/batches/${enc(b.batchId)}">${time(b.createdAt)}</a></td><td>${b.kind}</td>
<td>${status(b.status)}</td><td>${b.itemCount}</td><td class="o">${b.reason ?? ''}</td></tr>`,
  ),
  'Nothing held.',
)}`;
}

export function BatchPage(props: { batch: HeldBatch; items: HeldItem[]; operator: Operator }): Html {
  const b = props.batch;
  const decide = (action: string, button: Html) =>
    postForm(
      `/console/batches/${enc(b.batchId)}/${action}`,
      props.operator,
      button,
      html` style="display:inline"`,
    );
  return html`<h1>${b.kind} batch ${status(b.status)}</h1>
<p>${b.itemCount} item(s). ${b.reason ?? ''} ${
    b.decidedBy ? `Decided by ${b.decidedBy} at ${time(b.decidedAt)}.` : ''
  }</p>${
    b.status === 'held' &&
    html`<p>${decide('approve', html`<button class="p">Approve ${b.itemCount}</button>`)} ${decide(
      'discard',
      html`<button>Discard</button>`,
    )}</p>`
  }
${table(
  ['who', 'what'],
  props.items.map((item) => {
    const user = (item.preview.user ?? {}) as Record<string, unknown>;
    const automations = item.preview.automations as string[] | undefined;
    return html`<tr><td class="k">${[user.id, user.primaryEmail, user.username].filter(Boolean).join(' · ') || '—'}</td>
<td>${automations?.join(', ') ?? item.eventType}</td></tr>`;
  }),
)}${props.items.length < b.itemCount && html`<p>First ${props.items.length} shown.</p>`}`;
}

/** The deployment's pacing and token, read live (undefined when Logto or the governor could not be asked). */
export interface RuntimeHealth {
  governor?: {
    budget: { requests: number; windowMs: number };
    used: number;
    waiting: number;
    pausedUntil: number;
  };
  tokenExpiresAt?: number;
}

export function HealthPage(props: { health: Health; now: number; runtime: RuntimeHealth }): Html {
  const h = props.health;
  const { now } = props;
  const { governor, tokenExpiresAt } = props.runtime;
  const backlog = (h.counts.received ?? 0) + (h.counts.running ?? 0);
  const pacing = !governor
    ? 'unavailable'
    : governor.budget.requests > 0
      ? `${governor.used} of ${governor.budget.requests} calls used in the last ${governor.budget.windowMs / 1000} s, ${governor.waiting} waiting${governor.pausedUntil > now ? `, paused ${Math.ceil((governor.pausedUntil - now) / 1000)} s (429)` : ''}`
      : 'no budget (LOGTO_RATE_BUDGET=off)';
  return html`<h1>Health</h1><h2>Arrivals</h2>
${table(
  ['source', 'last live delivery', 'last event'],
  h.lastArrivals.map(
    (a) => html`<tr><td>${a.source}</td>
<td>${a.lastDeliveredAt ? `silent for ${ago(a.lastDeliveredAt, now, '')}` : '—'}</td>
<td>${ago(a.lastAt, now)}</td></tr>`,
  ),
)}
<h2>Backlog</h2><p>${backlog} event(s) received or running${
    h.oldestBacklogAt ? `, the oldest since ${ago(h.oldestBacklogAt, now)}` : ''
  }. Held batches: <a href="/console/batches">${h.heldBatches}</a>.</p>
<dl>${Object.entries(h.counts).map(([name, n]) => html`<dt>${status(name)}</dt><dd>${n}</dd>`)}</dl>
<h2>Logto</h2><dl><dt>rate governor</dt><dd>${pacing}</dd><dt>M2M token</dt><dd>${
    tokenExpiresAt
      ? `expires in ${Math.max(0, Math.round((tokenExpiresAt - now) / 60_000))} min`
      : 'unavailable: see /readyz'
  }</dd></dl>
<h2>Sweeps and recovery</h2>
${table(
  ['scan', 'cursor lag', 'last finished', ['last run', 'o']],
  h.scans.map(
    (s) => html`<tr><td>${s.name}</td><td>${s.name.startsWith('filter:') ? '—' : ago(s.cursor, now, '')}</td>
<td>${ago(s.lastFinishedAt, now)}${s.running ? ' (running)' : ''}</td>
<td class="o"><code>${s.lastReport ? JSON.stringify(s.lastReport) : ''}</code></td></tr>`,
  ),
)}`;
}

export function MessagePage(props: { title: string; message: string }): Html {
  return html`<h1>${props.title}</h1><p>${props.message}</p>`;
}
