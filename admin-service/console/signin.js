// The sign-in form: client credentials, exchanged for a token kept in memory only.

import { signIn } from './api.js';
import { busy, field, h, messageBox, replace } from './dom.js';

// Renders the form into main; calls done() once signed in. notice: why it is shown.
export function renderSignIn(main, notice, done) {
  const id = h('input', { id: 'signin-client-id', name: 'client_id', required: true,
    autocomplete: 'username', spellcheck: 'false' });
  const secret = h('input', { id: 'signin-secret', name: 'client_secret', type: 'password',
    required: true, autocomplete: 'current-password' });
  const scope = h('input', { id: 'signin-scope', name: 'scope', spellcheck: 'false' });
  const box = messageBox();
  const submit = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'card', id: 'signin-form' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'With a client\'s credentials: the console can do what that client\'s scopes allow, '
      + 'as a script with the same token could. The token is kept in this page\'s memory only: '
      + 'reloading or closing the page signs you out.'),
    notice ? h('p', { class: 'message notice', role: 'status' }, notice) : null,
    field('Client id', id),
    field('Client secret', secret),
    field('Scopes (optional)', scope, 'Space-separated; empty: every scope of the client.'),
    box.element,
    h('div', { class: 'buttons' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const signedIn = await busy(submit, box, () =>
      signIn(id.value.trim(), secret.value, scope.value.trim()));
    if (signedIn) {
      secret.value = '';
      done();
    } else {
      secret.select();
    }
  });
  replace(main, form);
  id.focus();
}
