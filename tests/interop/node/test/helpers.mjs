// Shared by the Node.js interoperability tests. scripts/interop starts the services and
// exports INTEROP_TOKEN_URL, INTEROP_ADMIN_URL, INTEROP_ISSUER, INTEROP_ROOT_CLIENT_ID and
// INTEROP_ROOT_CLIENT_SECRET; without them every test fails (never skips).
import assert from 'node:assert/strict';

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests with scripts/interop node`);
  }
  return value;
}

export const service = {
  get tokenUrl() { return env('INTEROP_TOKEN_URL').replace(/\/$/, ''); },
  get adminUrl() { return env('INTEROP_ADMIN_URL').replace(/\/$/, ''); },
  get issuer() { return env('INTEROP_ISSUER'); },
  get rootId() { return env('INTEROP_ROOT_CLIENT_ID'); },
  get rootSecret() { return env('INTEROP_ROOT_CLIENT_SECRET'); },
  get tokenEndpoint() { return `${this.tokenUrl}/api/v1/oauth/token`; },
  get jwksUri() { return `${this.tokenUrl}/.well-known/jwks.json`; },
};

const TIMEOUT_MS = 10_000;

// POST a form to the token endpoint with client_secret_post; returns the parsed body.
export async function tokenWithPost(clientId, clientSecret, scope) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
  });
  if (scope !== undefined) form.set('scope', scope);
  const response = await fetch(service.tokenEndpoint, {
    method: 'POST',
    body: form,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

let rootToken;
async function getRootToken() {
  rootToken ??= (await tokenWithPost(service.rootId, service.rootSecret)).access_token;
  return rootToken;
}

// Creates a client with these scopes through admin-service; returns { clientId, clientSecret, scopes }.
export async function createClient(scopes) {
  const response = await fetch(`${service.adminUrl}/api/v1/oauth/client`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await getRootToken()}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ scopes }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await response.json();
  assert.equal(response.status, 200, `create client: ${JSON.stringify(body)}`);
  return { clientId: body.client_id, clientSecret: body.client_secret, scopes };
}

// Every scope of the registry, in registry order (what the root client is granted).
export async function registryScopes() {
  const response = await fetch(`${service.adminUrl}/api/v1/oauth/scope`, {
    headers: { authorization: `Bearer ${await getRootToken()}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  assert.equal(response.status, 200);
  return response.json();
}

// The granted scopes of a token response, sorted (the set is what matters).
export function scopesOf(tokenResponse) {
  assert.equal(typeof tokenResponse.scope, 'string', `no scope in ${JSON.stringify(tokenResponse)}`);
  return tokenResponse.scope.split(' ').sort();
}

export const sorted = (list) => [...list].sort();
