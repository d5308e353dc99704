-- Times are microseconds since the Unix epoch (UTC) in BIGINT columns on both backends, so
-- revocation cut-offs compare exactly and the same queries serve PostgreSQL and SQLite.

-- The scope registry: seeded with the built-in scopes, extended by operators.
CREATE TABLE scopes (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL UNIQUE,
    built_in BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    -- The secret replaced by the last rotation, accepted until previous_secret_expires_at.
    previous_secret_hash TEXT,
    previous_secret_expires_at BIGINT,
    name TEXT,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Tokens of this client issued before this instant are revoked.
    tokens_valid_after BIGINT NOT NULL,
    -- Deleted clients keep their row (and cut-off) until every token they had has expired.
    deleted_at BIGINT
);

CREATE TABLE client_scopes (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL REFERENCES scopes (name) ON DELETE RESTRICT,
    PRIMARY KEY (client_id, scope)
);
CREATE INDEX client_scopes_scope ON client_scopes (scope);

-- Single revoked tokens, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- Every admin change: who, what, on which target, when, from where, and how it ended.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at BIGINT NOT NULL,
    actor_client_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    source_address TEXT,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);

INSERT INTO scopes (name, position, built_in) VALUES
    ('client:create', 0, TRUE),
    ('client:update', 1, TRUE),
    ('client:read', 2, TRUE),
    ('client:delete', 3, TRUE),
    ('config:read', 4, TRUE),
    ('connection:read', 5, TRUE),
    ('connection:create_or_update', 6, TRUE),
    ('connection:delete', 7, TRUE),
    ('connection:authorize', 8, TRUE),
    ('connection:instantiate', 9, TRUE),
    ('consent:read', 10, TRUE),
    ('connection_type:read', 11, TRUE),
    ('dataset:create_or_update', 12, TRUE),
    ('dataset:delete', 13, TRUE),
    ('dataset:read', 14, TRUE),
    ('encryption:exec', 15, TRUE),
    ('policy:create_or_update', 16, TRUE),
    ('policy:read', 17, TRUE),
    ('policy:delete', 18, TRUE),
    ('privacy-request:review', 19, TRUE),
    ('privacy-request:read', 20, TRUE),
    ('privacy-request:delete', 21, TRUE),
    ('privacy-request:resume', 22, TRUE),
    ('privacy-request:upload_data', 23, TRUE),
    ('privacy-request:view_data', 24, TRUE),
    ('rule:create_or_update', 25, TRUE),
    ('rule:read', 26, TRUE),
    ('rule:delete', 27, TRUE),
    ('scope:read', 28, TRUE),
    ('storage:create_or_update', 29, TRUE),
    ('storage:delete', 30, TRUE),
    ('storage:read', 31, TRUE),
    ('email:create_or_update', 32, TRUE),
    ('email:delete', 33, TRUE),
    ('email:read', 34, TRUE),
    ('webhook:create_or_update', 35, TRUE),
    ('webhook:read', 36, TRUE),
    ('webhook:delete', 37, TRUE),
    ('saas_config:create_or_update', 38, TRUE),
    ('saas_config:read', 39, TRUE),
    ('saas_config:delete', 40, TRUE),
    ('user:create', 41, TRUE),
    ('user:update', 42, TRUE),
    ('user:read', 43, TRUE),
    ('user:reset-password', 44, TRUE),
    ('user:delete', 45, TRUE),
    ('user-permission:create', 46, TRUE),
    ('user-permission:update', 47, TRUE),
    ('user-permission:read', 48, TRUE),
    ('scope:create_or_update', 49, TRUE),
    ('scope:delete', 50, TRUE),
    ('token:revoke', 51, TRUE),
    ('audit:read', 52, TRUE);
