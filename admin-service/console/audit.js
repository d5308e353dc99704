// The audit trail, oldest first, narrowed by the API's filters (actor, target, action,
// outcome, time range) and read a page at a time with its cursor: "Read more" reads on.

import { api, totalText } from './api.js';
import { field, h, messageBox, replace, table } from './dom.js';

const PAGE_SIZE = 100;

export function renderAudit(main) {
  const text = (id) => h('input', { id, spellcheck: 'false', autocomplete: 'off' });
  const inputs = {
    actor: text('audit-actor'),
    target: text('audit-target'),
    action: text('audit-action'),
    outcome: h('select', { id: 'audit-outcome' },
      ['', 'success', 'refused', 'failed'].map((value) => h('option', { value }, value || 'any'))),
    since: text('audit-since'),
    until: text('audit-until'),
  };
  const box = messageBox();
  const status = h('p', { role: 'status', id: 'audit-status' });
  const results = h('div', { id: 'audit-results' });
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, 'Read more');
  const apply = h('button', { type: 'submit', id: 'audit-apply' }, 'Apply filters');
  const form = h('form', { class: 'card filters', id: 'audit-filters', role: 'search' },
    field('Actor client id', inputs.actor),
    field('Target', inputs.target, 'Exactly as shown: a client id, scope or issuer id.'),
    field('Action', inputs.action, 'Exactly, e.g. client.create or client.scopes.replace.'),
    field('Outcome', inputs.outcome),
    field('Since', inputs.since, 'RFC 3339, as in the Time column.'),
    field('Until', inputs.until, 'Both ends are included.'),
    h('div', { class: 'buttons' }, apply));
  replace(main, h('h1', {}, 'Audit trail'),
    h('p', { class: 'hint' }, 'Oldest first. Every filter given must match; leave a field empty to not filter by it.'),
    form, box.element, status, results, h('div', { class: 'buttons' }, more));

  let state = null;

  async function read() {
    more.disabled = apply.disabled = true;
    box.clear();
    try {
      const query = new URLSearchParams(state.filters);
      query.set('size', PAGE_SIZE);
      if (state.next) query.set('after', state.next);
      const page = await api('GET', `/api/v1/oauth/audit?${query}`);
      state.shown.push(...page.items);
      state.next = page.next;
      state.total = totalText(page, Object.keys(state.filters).length > 0);
    } catch (error) {
      box.error(error);
    } finally {
      more.disabled = apply.disabled = false;
    }
    if (state.total === null) {
      status.textContent = '';
      replace(results);
      more.hidden = true;
      return;
    }
    const filtered = Object.keys(state.filters).length > 0;
    status.textContent = `${state.shown.length} of ${state.total} ${filtered ? 'matching ' : ''}events shown.`;
    more.hidden = !state.next;
    replace(results, table('Audit events', ['Time', 'Actor', 'Action', 'Target', 'Outcome', 'Source', 'Detail'],
      state.shown.map((event) => [event.occurred_at, event.actor_client_id, event.action, event.target || '',
        event.outcome, event.source_address || '', event.detail || ''])));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const filters = {};
    for (const [name, input] of Object.entries(inputs)) {
      const value = input.value.trim();
      if (value) filters[name] = value;
    }
    state = { filters, next: null, shown: [], total: null };
    read();
  });
  more.addEventListener('click', () => read());
  form.requestSubmit();
}
