// The admin API, called with the signed-in client's token. The token lives in this
// module's memory only: never in web storage or a cookie, gone on sign-out or reload.

let current = null; // { token, clientId, scopes: [...], expiresAt }
let expiryTimer = null;
let onEnd = () => {};

// An answer of the API that is not a success, as the API words it.
export class ApiError extends Error {
  constructor(status, body) {
    const code = (body && body.error) || `http_${status}`;
    const description = (body && body.error_description) || `the server answered ${status}`;
    super(`${code}: ${description}`);
    this.status = status;
    this.code = code;
    this.description = description;
    this.body = body;
  }
}

// Called with a message when the session ends by itself (expired or refused token).
export function onSessionEnd(callback) {
  onEnd = callback;
}

export function session() {
  return current;
}

export function holds(scope) {
  return current !== null && current.scopes.includes(scope);
}

// Signs in through admin-service's same-origin relay to token-service's token endpoint.
export async function signIn(clientId, clientSecret, scope) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId,
    client_secret: clientSecret });
  if (scope) form.set('scope', scope);
  const response = await fetch('/console/token', { method: 'POST', body: form,
    cache: 'no-store', credentials: 'omit' });
  const body = await readJson(response);
  if (!response.ok || !body || typeof body.access_token !== 'string') {
    throw new ApiError(response.status, body);
  }
  current = {
    token: body.access_token,
    clientId,
    scopes: body.scope ? body.scope.split(' ') : [],
    expiresAt: Date.now() + body.expires_in * 1000,
  };
  clearTimeout(expiryTimer);
  // setTimeout's longest delay is about 24.8 days; a longer-lived token ends on its first 401.
  if (body.expires_in * 1000 < 2 ** 31) {
    expiryTimer = setTimeout(() => end('Your token expired: sign in again.'), body.expires_in * 1000);
  }
  return current;
}

// Forgets the token, revoking it first when the client may (token:revoke): the page's
// copy is gone either way, and a revoked one is useless to whoever else got hold of it.
export async function signOut() {
  const ending = current;
  current = null;
  clearTimeout(expiryTimer);
  if (ending && ending.scopes.includes('token:revoke')) {
    try {
      await fetch('/api/v1/oauth/revocation', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ending.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: ending.token }),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      // Unreachable: the token expires with its lifetime.
    }
  }
}

// The session ended by itself (expired, or refused): nothing to revoke.
function end(message) {
  current = null;
  clearTimeout(expiryTimer);
  onEnd(message);
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: `http_${response.status}`, error_description: text.slice(0, 300) };
  }
}

// api('GET', '/api/v1/oauth/client'): the parsed body (null for 204). A 401 ends the
// session (the token expired or was revoked); any other refusal throws an ApiError.
export async function api(method, path, body) {
  if (current === null) throw new ApiError(401, { error: 'invalid_token', error_description: 'not signed in' });
  const headers = { Authorization: `Bearer ${current.token}`, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const parsed = await readJson(response);
  if (response.status === 401) {
    const error = new ApiError(401, parsed);
    end(`The API refused the token (${error.message}): sign in again.`);
    throw error;
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// A client id or other value as one path segment.
export function segment(value) {
  return encodeURIComponent(value);
}

// How many a listing page's total says: counted, the database's estimate (a large
// listing), or, for a filtered listing, a count that stopped at its cap.
export function totalText(page, filtered) {
  if (!page.total_is_estimate) return `${page.total}`;
  return filtered ? `${page.total} or more` : `about ${page.total}`;
}
