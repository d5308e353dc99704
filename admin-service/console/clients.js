// Clients: the API's listing a page at a time (its cursors), narrowed by its search (`q`:
// part of an id, name or description), opening a client by id, and creating one (its
// secret shown once).

import { api, holds, segment, totalText } from './api.js';
import { busy, field, h, messageBox, replace, secretDialog, table } from './dom.js';
import { scopePicker } from './client.js';

const PAGE_SIZE = 20;

export async function renderClients(main) {
  const search = h('input', { id: 'client-search', type: 'search', spellcheck: 'false',
    autocomplete: 'off', maxlength: 128 });
  const searchForm = h('form', { class: 'inline', id: 'client-search-form', role: 'search' },
    field('Search clients', search, 'Part of a client id, name or description, in any case.'),
    h('button', { type: 'submit', id: 'client-search-submit' }, 'Search'));
  const results = h('div', { id: 'client-results' });
  let searched = '';
  const first = () => showPage(results, searched, [null], 0);
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    searched = search.value.trim();
    first();
  });
  // Emptying the box (or its clear button) lists every client again.
  search.addEventListener('input', () => {
    if (!search.value && searched) searchForm.requestSubmit();
  });
  replace(main,
    h('h1', {}, 'Clients'),
    h('section', { 'aria-labelledby': 'list-heading' },
      h('h2', { id: 'list-heading' }, 'Clients, oldest first'),
      h('div', { id: 'client-list' }, h('div', { class: 'toolbar' }, searchForm, openById()), results)),
    await createForm(first));
  await first();
}

function openById() {
  const id = h('input', { id: 'open-client-id', required: true, spellcheck: 'false' });
  const form = h('form', { class: 'inline', id: 'open-client' },
    field('Open a client by id', id), h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.location.hash = `#/clients/${segment(id.value.trim())}`;
  });
  return form;
}

// cursors[i] is the `after` of page i (null for the first page); q the search ('' for none).
async function showPage(area, q, cursors, index) {
  const box = messageBox();
  let page;
  try {
    const query = new URLSearchParams({ size: PAGE_SIZE });
    if (q) query.set('q', q);
    if (cursors[index]) query.set('after', cursors[index]);
    page = await api('GET', `/api/v1/oauth/client?${query}`);
  } catch (error) {
    box.error(error);
    replace(area, box.element);
    return;
  }
  const rows = page.items.map((client) => [
    h('a', { href: `#/clients/${segment(client.client_id)}`, class: 'id' }, client.client_id),
    client.name || '',
    client.scopes.length ? client.scopes.join(' ') : '(none)',
    client.has_secret ? 'yes' : 'no',
    shortTime(client.created_at),
  ]);
  const total = totalText(page, Boolean(q));
  const what = q ? `Clients matching “${q}”` : 'Clients';
  const caption = page.items.length
    ? `${what} ${index * PAGE_SIZE + 1} to ${index * PAGE_SIZE + page.items.length} of ${total}`
    : `${what}: none`;
  const count = h('p', { role: 'status', class: 'hint', id: 'client-count' },
    q ? `${page.total === 0 ? 'No' : total} client${page.total === 1 ? '' : 's'} match${page.total === 1 ? 'es' : ''} “${q}”.` : '');
  const previous = h('button', { type: 'button', id: 'page-previous', disabled: index === 0 }, 'Previous page');
  const next = h('button', { type: 'button', id: 'page-next', disabled: !page.next }, 'Next page');
  previous.addEventListener('click', () => showPage(area, q, cursors, index - 1));
  next.addEventListener('click', () => {
    const following = cursors.slice(0, index + 1);
    following.push(page.next);
    showPage(area, q, following, index + 1);
  });
  replace(area, count,
    table(caption, ['Client id', 'Name', 'Scopes', 'Secret', 'Created'], rows),
    h('div', { class: 'buttons' }, previous, next));
}

// 2026-12-01T06:13:03.094494Z -> 2026-12-01 06:13:03 UTC
export function shortTime(rfc3339) {
  return `${rfc3339.slice(0, 19).replace('T', ' ')} UTC`;
}

async function createForm(refresh) {
  if (!holds('client:create')) {
    return h('p', { class: 'hint' }, 'Creating clients needs the scope client:create.');
  }
  const name = h('input', { id: 'create-name', maxlength: 200 });
  const description = h('input', { id: 'create-description', maxlength: 2000 });
  const scopes = await scopePicker('Scopes', []);
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'create-submit' }, 'Create client');
  const form = h('form', { class: 'card', id: 'create-client', 'aria-labelledby': 'create-heading' },
    h('h2', { id: 'create-heading' }, 'New client'),
    field('Name (optional)', name), field('Description (optional)', description),
    scopes.element,
    h('p', { class: 'hint' }, 'You can grant only scopes your own client holds.'),
    box.element, h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { scopes: scopes.value() };
    if (name.value.trim()) body.name = name.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    const created = await busy(submit, box, () => api('POST', '/api/v1/oauth/client', body));
    if (!created) return;
    form.reset();
    replace(box.element, 'Created ',
      h('a', { href: `#/clients/${segment(created.client_id)}`, id: 'created-client-link' }, created.client_id), '.');
    box.element.hidden = false;
    box.element.className = 'message success';
    if (created.client_secret) {
      secretDialog('New client secret', created.client_id, created.client_secret);
    }
    refresh();
  });
  return form;
}
