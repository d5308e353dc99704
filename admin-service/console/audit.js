// The audit trail, oldest first, read a page at a time with the API's cursor. The API has
// no filters: the filters here apply to the events read, and "Read more" reads on.

import { api } from './api.js';
import { field, h, messageBox, replace, table } from './dom.js';

const PAGE_SIZE = 100;
// Pages read for one click at most, and the matches that end a click's reading early.
const PAGES_PER_READ = 10;
const ENOUGH = 50;

export function renderAudit(main) {
  const inputs = {
    action: h('input', { id: 'audit-action', spellcheck: 'false' }),
    actor: h('input', { id: 'audit-actor', spellcheck: 'false' }),
    target: h('input', { id: 'audit-target', spellcheck: 'false' }),
    outcome: h('select', { id: 'audit-outcome' },
      ['', 'success', 'refused', 'failed'].map((value) => h('option', { value }, value || 'any'))),
  };
  const box = messageBox();
  const status = h('p', { role: 'status', id: 'audit-status' });
  const results = h('div', { id: 'audit-results' });
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, 'Read more');
  const apply = h('button', { type: 'submit', id: 'audit-apply' }, 'Apply filters');
  const form = h('form', { class: 'card filters', id: 'audit-filters' },
    field('Action contains', inputs.action, 'e.g. client.create, client.scopes'),
    field('Actor client id', inputs.actor),
    field('Target contains', inputs.target),
    field('Outcome', inputs.outcome),
    h('div', { class: 'buttons' }, apply));
  replace(main, h('h1', {}, 'Audit trail'),
    h('p', { class: 'hint' }, 'Oldest first. The API has no filters: the console reads the trail page by page and shows the events that match.'),
    form, box.element, status, results, h('div', { class: 'buttons' }, more));

  let state = null;
  const matches = (event, filters) =>
    (!filters.action || event.action.includes(filters.action))
    && (!filters.actor || event.actor_client_id === filters.actor)
    && (!filters.target || (event.target || '').includes(filters.target))
    && (!filters.outcome || event.outcome === filters.outcome);

  async function read() {
    more.disabled = apply.disabled = true;
    box.clear();
    try {
      let found = 0;
      for (let i = 0; i < PAGES_PER_READ && !state.done && found < ENOUGH; i += 1) {
        const after = state.next ? `&after=${encodeURIComponent(state.next)}` : '';
        const page = await api('GET', `/api/v1/oauth/audit?size=${PAGE_SIZE}${after}`);
        state.read += page.items.length;
        const kept = page.items.filter((event) => matches(event, state.filters));
        found += kept.length;
        state.shown.push(...kept);
        state.next = page.next;
        state.done = !page.next;
      }
    } catch (error) {
      box.error(error);
    } finally {
      more.disabled = apply.disabled = false;
    }
    status.textContent = `${state.shown.length} matching events of ${state.read} read${state.done ? ' (the whole trail)' : ''}.`;
    more.hidden = state.done;
    replace(results, table('Audit events', ['Time', 'Actor', 'Action', 'Target', 'Outcome', 'Source', 'Detail'],
      state.shown.map((event) => [event.occurred_at, event.actor_client_id, event.action, event.target || '',
        event.outcome, event.source_address || '', event.detail || ''])));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state = {
      filters: {
        action: inputs.action.value.trim(),
        actor: inputs.actor.value.trim(),
        target: inputs.target.value.trim(),
        outcome: inputs.outcome.value,
      },
      next: null, done: false, read: 0, shown: [],
    };
    read();
  });
  more.addEventListener('click', () => read());
  form.requestSubmit();
}
