// Clients: one page of the listing at a time (the API's cursor), a filter over that page,
// opening a client by id, and creating one (its secret shown once).

import { api, holds, segment } from './api.js';
import { busy, field, h, messageBox, replace, secretDialog, table } from './dom.js';
import { scopePicker } from './client.js';

const PAGE_SIZE = 20;

export async function renderClients(main) {
  const listArea = h('div', { id: 'client-list' });
  replace(main,
    h('h1', {}, 'Clients'),
    h('section', { 'aria-labelledby': 'list-heading' },
      h('h2', { id: 'list-heading' }, 'All clients, oldest first'),
      listArea),
    await createForm(() => showPage(listArea, [null], 0)));
  await showPage(listArea, [null], 0);
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

// cursors[i] is the `after` of page i (null for the first page).
async function showPage(area, cursors, index) {
  const box = messageBox();
  let page;
  try {
    const after = cursors[index];
    page = await api('GET', `/api/v1/oauth/client?size=${PAGE_SIZE}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  } catch (error) {
    box.error(error);
    replace(area, box.element);
    return;
  }
  const filter = h('input', { id: 'client-filter', type: 'search', spellcheck: 'false' });
  const rows = page.items.map((client) => ({
    text: [client.client_id, client.name || '', client.description || '', ...client.scopes].join(' ').toLowerCase(),
    cells: [
      h('a', { href: `#/clients/${segment(client.client_id)}`, class: 'id' }, client.client_id),
      client.name || '',
      client.scopes.length ? client.scopes.join(' ') : '(none)',
      client.has_secret ? 'yes' : 'no',
      shortTime(client.created_at),
    ],
  }));
  const tableArea = h('div');
  const count = h('p', { role: 'status', class: 'hint' });
  const draw = () => {
    const wanted = filter.value.trim().toLowerCase();
    const shown = rows.filter((row) => !wanted || row.text.includes(wanted));
    replace(tableArea, table(`Clients ${index * PAGE_SIZE + 1} to ${index * PAGE_SIZE + page.items.length}`
      + ` of ${page.total}${page.total_is_estimate ? ' (about)' : ''}`,
    ['Client id', 'Name', 'Scopes', 'Secret', 'Created'], shown.map((row) => row.cells)));
    count.textContent = wanted ? `${shown.length} of the ${rows.length} clients on this page match.` : '';
  };
  filter.addEventListener('input', draw);
  draw();
  const previous = h('button', { type: 'button', id: 'page-previous', disabled: index === 0 }, 'Previous page');
  const next = h('button', { type: 'button', id: 'page-next', disabled: !page.next }, 'Next page');
  previous.addEventListener('click', () => showPage(area, cursors, index - 1));
  next.addEventListener('click', () => {
    const following = cursors.slice(0, index + 1);
    following.push(page.next);
    showPage(area, following, index + 1);
  });
  replace(area,
    h('div', { class: 'toolbar' },
      field('Filter this page', filter,
        'The API has no search: this filters the page shown (id, name, description, scopes).'),
      openById()),
    count, tableArea, h('div', { class: 'buttons' }, previous, next));
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
