// openid-client v6 (https://github.com/panva/openid-client): RFC 8414 discovery of an OAuth
// 2.0 authorization server (algorithm 'oauth2', the /.well-known/oauth-authorization-server
// path), the client-credentials grant with ClientSecretPost and ClientSecretBasic, and
// RFC 7662 introspection and RFC 7009 revocation. The issuer is plain http on loopback,
// hence allowInsecureRequests.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as client from 'openid-client';

import { createClient, scopesOf, service, sorted } from './helpers.mjs';

async function configure(c, authentication) {
  return client.discovery(
    new URL(service.issuer),
    c.clientId,
    c.clientSecret,
    authentication,
    { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
  );
}

describe('openid-client', () => {
  let reader;
  before(async () => {
    reader = await createClient(['client:read', 'scope:read']);
  });

  test('discovery (oauth2 algorithm) finds the RFC 8414 metadata', async () => {
    const config = await configure(reader);
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, service.issuer);
    assert.equal(metadata.token_endpoint, `${service.issuer}/api/v1/oauth/token`);
    assert.equal(metadata.jwks_uri, `${service.issuer}/.well-known/jwks.json`);
    assert.ok(metadata.grant_types_supported.includes('client_credentials'));
  });

  for (const [name, authentication] of [
    ['ClientSecretPost (default)', () => undefined],
    ['ClientSecretBasic', (c) => client.ClientSecretBasic(c.clientSecret)],
  ]) {
    test(`clientCredentialsGrant with ${name}, no scope: all client scopes`, async () => {
      const config = await configure(reader, authentication(reader));
      const tokens = await client.clientCredentialsGrant(config);
      assert.equal(typeof tokens.access_token, 'string');
      assert.equal(tokens.token_type, 'bearer'); // normalised to lower case by the library
      assert.ok(tokens.expires_in > 0);
      assert.deepEqual(scopesOf(tokens), sorted(reader.scopes));
    });

    test(`clientCredentialsGrant with ${name} and scope: that subset`, async () => {
      const config = await configure(reader, authentication(reader));
      const tokens = await client.clientCredentialsGrant(config, { scope: 'scope:read' });
      assert.deepEqual(scopesOf(tokens), ['scope:read']);
    });
  }

  test('clientCredentialsGrant: a client without scopes gets no scope member', async () => {
    const scopeless = await createClient([]);
    const config = await configure(scopeless);
    const tokens = await client.clientCredentialsGrant(config);
    assert.ok(!('scope' in tokens), `scope must be omitted: ${JSON.stringify(tokens)}`);
  });

  test('clientCredentialsGrant: a scope the client lacks is invalid_scope', async () => {
    const config = await configure(reader);
    await assert.rejects(client.clientCredentialsGrant(config, { scope: 'client:delete' }), (error) => {
      assert.equal(error.error, 'invalid_scope');
      return true;
    });
  });

  test('tokenIntrospection of an active token (RFC 7662)', async () => {
    const c = await createClient(['client:read']);
    const config = await configure(c, client.ClientSecretBasic(c.clientSecret));
    const { access_token: token } = await client.clientCredentialsGrant(config);
    const active = await client.tokenIntrospection(config, token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, c.clientId);
    assert.equal(active.sub, c.clientId);
    assert.equal(active.scope, 'client:read');
    assert.equal(active.iss, service.issuer);
    const aud = active.aud;
    assert.ok(aud === service.issuer || (Array.isArray(aud) && aud.includes(service.issuer)),
      `introspection must show the token's aud: ${JSON.stringify(active)}`);
  });

  test('tokenRevocation (RFC 7009), then tokenIntrospection says inactive', async () => {
    const c = await createClient(['client:read']);
    const config = await configure(c);
    const { access_token: token } = await client.clientCredentialsGrant(config);
    assert.equal((await client.tokenIntrospection(config, token)).active, true);
    await client.tokenRevocation(config, token, { token_type_hint: 'access_token' });
    assert.deepEqual(await client.tokenIntrospection(config, token), { active: false });
  });
});
