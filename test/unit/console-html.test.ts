import { describe, expect, it } from 'vitest';
import { EventsPage, Html, html, MessagePage } from '../../src/console/views';
import type { JournalEntry } from '../../src/journal';

describe('the console html template', () => {
  it('escapes every value unless it is markup; lists join; false, null and undefined are nothing', () => {
    const hostile = `<script>alert("x")</script>&'`;
    expect(html`<p title="${hostile}">${hostile}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    expect(html`<ul>${['a<', 'b'].map((item) => html`<li>${item}</li>`)}</ul>`.text).toBe(
      '<ul><li>a&lt;</li><li>b</li></ul>',
    );
    expect(html`${false}${null}${undefined}${0}${''}|${new Html('<b>ok</b>')}`.text).toBe('0|<b>ok</b>');
    expect(String(MessagePage({ title: 'T', message: '<i>' }))).toBe('<h1>T</h1><p>&lt;i&gt;</p>');
  });

  it('a hostile event type or subject from a callback is shown as text, never as markup', () => {
    const entry = {
      eventKey: 'k'.repeat(64),
      eventType: '<img src=x onerror=alert(1)>',
      source: 'standard-webhooks',
      subject: '"><script>1</script>',
      status: 'failed',
      receivedAt: 0,
      arrivedVia: 'delivered',
      lastErrorCode: null,
    } as unknown as JournalEntry;
    const page = EventsPage({ filters: { q: '"><b>' }, entries: [entry] }).text;
    expect(page).not.toMatch(/<img|<script|"><b>/);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('value="&quot;&gt;&lt;b&gt;"');
  });
});
