-- Workload identity (DESIGN: "Client authentication at the token endpoint", "Audiences",
-- "Trusted issuers, client keys and identities").

-- A client's further audiences (a JSON array of absolute URIs; NULL: none), and its public
-- keys for private_key_jwt: a JWKS given inline (JSON {"keys": [...]}) or a jwks_uri.
-- A client without a secret (secret-less) has secret_hash 'none', which nothing verifies.
ALTER TABLE clients ADD COLUMN audiences TEXT;
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;

-- Platforms whose tokens identify workloads: a Kubernetes API server, a SPIFFE trust
-- domain, a CI system. Keys inline (jwks) or fetched (jwks_uri); audiences a JSON array
-- (NULL: this service's issuer URL).
CREATE TABLE trusted_issuers (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL UNIQUE,
    jwks_uri TEXT,
    jwks TEXT,
    audiences TEXT,
    created_at BIGINT NOT NULL
);

-- (issuer, subject or subject pattern ending in '*') bound to one client. The key makes
-- a second client binding the same subject a conflict.
CREATE TABLE client_identities (
    issuer_id TEXT NOT NULL REFERENCES trusted_issuers (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id),
    PRIMARY KEY (issuer_id, subject)
);
CREATE INDEX client_identities_client ON client_identities (client_id);

-- private_key_jwt assertions already used ("<client id> <jti>"), until they expire: the
-- single-use record when no Redis is configured.
CREATE TABLE used_assertions (
    id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);

-- The registry gains federation:* right after audit:read; operators' own scopes move up
-- (through negative positions: position is unique and checked row by row).
UPDATE scopes SET position = -(position + 3)
    WHERE position > (SELECT position FROM scopes WHERE name = 'audit:read');
UPDATE scopes SET position = -position WHERE position < 0;
INSERT INTO scopes (name, position, built_in)
    SELECT 'federation:read', position + 1, TRUE FROM scopes WHERE name = 'audit:read'
ON CONFLICT (name) DO UPDATE SET position = excluded.position, built_in = TRUE;
INSERT INTO scopes (name, position, built_in)
    SELECT 'federation:create_or_update', position + 2, TRUE FROM scopes WHERE name = 'audit:read'
ON CONFLICT (name) DO UPDATE SET position = excluded.position, built_in = TRUE;
INSERT INTO scopes (name, position, built_in)
    SELECT 'federation:delete', position + 3, TRUE FROM scopes WHERE name = 'audit:read'
ON CONFLICT (name) DO UPDATE SET position = excluded.position, built_in = TRUE;
