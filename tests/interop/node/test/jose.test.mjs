// jose (https://github.com/panva/jose): a resource server's verification of an access
// token with createRemoteJWKSet (the published /.well-known/jwks.json) and jwtVerify,
// requiring issuer, audience (the issuer URL, DESIGN.md's default) and typ at+jwt.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as jose from 'jose';

import { createClient, service, sorted, tokenWithPost } from './helpers.mjs';

describe('jose', () => {
  let reader;
  let jwks;
  before(async () => {
    reader = await createClient(['client:read', 'scope:read']);
    jwks = jose.createRemoteJWKSet(new URL(service.jwksUri));
  });

  test('jwtVerify with the remote JWKS, issuer, audience and typ at+jwt', async () => {
    const { access_token: token, expires_in: expiresIn } = await tokenWithPost(reader.clientId, reader.clientSecret);
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: service.issuer,
      audience: service.issuer,
      typ: 'at+jwt',
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      clockTolerance: 5,
    });
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.equal(payload.sub, reader.clientId);
    assert.equal(payload.client_id, reader.clientId);
    assert.deepEqual(payload.scope.split(' ').sort(), sorted(reader.scopes));
    assert.ok(Math.abs(payload.exp - payload.iat - expiresIn) <= 5);
  });

  test('jwtVerify with the remote JWKS: a token of a scopeless client has no scope claim', async () => {
    const scopeless = await createClient([]);
    const { access_token: token } = await tokenWithPost(scopeless.clientId, scopeless.clientSecret);
    const { payload } = await jose.jwtVerify(token, jwks, { issuer: service.issuer, typ: 'at+jwt' });
    assert.ok(!('scope' in payload), `scope must be omitted when empty: ${JSON.stringify(payload)}`);
  });

  test('jwtVerify refuses a token verified for another audience', async () => {
    const { access_token: token } = await tokenWithPost(reader.clientId, reader.clientSecret);
    await assert.rejects(
      jose.jwtVerify(token, jwks, { issuer: service.issuer, audience: 'https://another-service.example' }),
      (error) => {
        // The aud claim must be there and not match (ERR_JWT_CLAIM_VALIDATION_FAILED on aud).
        assert.equal(error.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
        assert.equal(error.claim, 'aud');
        assert.equal(error.reason, 'check_failed');
        return true;
      },
    );
  });
});
