// oauth4webapi (https://github.com/panva/oauth4webapi): RFC 8414 discovery (algorithm
// 'oauth2'), clientCredentialsGrantRequest with ClientSecretBasic (which form-encodes the
// credentials, RFC 6749 §2.3.1) and ClientSecretPost, and validateJwtAccessToken: the
// RFC 9068 checks of a resource server (typ at+jwt; iss, exp, aud, sub, iat, jti,
// client_id; the signature against the issuer's jwks_uri) with the expected audience
// being the issuer URL (DESIGN.md: the default audience).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';

import { createClient, registryScopes, scopesOf, service, sorted } from './helpers.mjs';

const insecure = { [oauth.allowInsecureRequests]: true };

async function discover() {
  const issuer = new URL(service.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  return oauth.processDiscoveryResponse(issuer, response);
}

async function grant(as, clientId, authentication, scope) {
  const client = { client_id: clientId };
  const parameters = new URLSearchParams();
  if (scope !== undefined) parameters.set('scope', scope);
  const response = await oauth.clientCredentialsGrantRequest(as, client, authentication, parameters, insecure);
  return oauth.processClientCredentialsResponse(as, client, response);
}

function bearerRequest(token) {
  return new Request(`${service.adminUrl}/api/v1/oauth/client`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('oauth4webapi', () => {
  let as;
  let reader;
  before(async () => {
    as = await discover();
    reader = await createClient(['client:read', 'scope:read']);
  });

  test('processDiscoveryResponse accepts the RFC 8414 metadata', () => {
    assert.equal(as.issuer, service.issuer);
    assert.equal(as.token_endpoint, `${service.issuer}/api/v1/oauth/token`);
    assert.ok(as.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(as.token_endpoint_auth_methods_supported.includes('client_secret_post'));
  });

  for (const [name, authentication] of [
    ['ClientSecretBasic', (secret) => oauth.ClientSecretBasic(secret)],
    ['ClientSecretPost', (secret) => oauth.ClientSecretPost(secret)],
  ]) {
    test(`clientCredentialsGrantRequest with ${name}, no scope`, async () => {
      const result = await grant(as, reader.clientId, authentication(reader.clientSecret));
      assert.equal(result.token_type, 'bearer');
      assert.ok(result.expires_in > 0);
      assert.deepEqual(scopesOf(result), sorted(reader.scopes));
    });

    test(`clientCredentialsGrantRequest with ${name} and scope`, async () => {
      const result = await grant(as, reader.clientId, authentication(reader.clientSecret), 'client:read');
      assert.deepEqual(scopesOf(result), ['client:read']);
    });

    test(`${name} with the root secret's reserved characters (+ / %)`, async () => {
      assert.match(service.rootSecret, /[+].*[/].*%/);
      const result = await grant(as, service.rootId, authentication(service.rootSecret));
      assert.deepEqual(scopesOf(result), sorted(await registryScopes()));
    });
  }

  test('a client without scopes gets no scope member', async () => {
    const scopeless = await createClient([]);
    const result = await grant(as, scopeless.clientId, oauth.ClientSecretBasic(scopeless.clientSecret));
    assert.ok(!('scope' in result), `scope must be omitted: ${JSON.stringify(result)}`);
  });

  test('validateJwtAccessToken (RFC 9068) with the issuer as expected audience', async () => {
    const result = await grant(as, reader.clientId, oauth.ClientSecretBasic(reader.clientSecret));
    const claims = await oauth.validateJwtAccessToken(as, bearerRequest(result.access_token), service.issuer, insecure);
    assert.equal(claims.iss, service.issuer);
    assert.equal(claims.sub, reader.clientId);
    assert.equal(claims.client_id, reader.clientId);
    assert.deepEqual(claims.scope.split(' ').sort(), sorted(reader.scopes));
  });

  test('validateJwtAccessToken refuses another audience', async () => {
    const result = await grant(as, reader.clientId, oauth.ClientSecretPost(reader.clientSecret));
    await assert.rejects(
      oauth.validateJwtAccessToken(as, bearerRequest(result.access_token), 'https://another-service.example', insecure),
      (error) => {
        // The audience check itself must be what fails (not a missing claim).
        assert.match(error.message, /"aud"/);
        assert.doesNotMatch(error.message, /missing/);
        return true;
      },
    );
  });
});
