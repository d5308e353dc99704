-- The root client has no row (its credentials live in the environment), so its cut-off
-- lives here: root tokens issued before tokens_valid_after are revoked (a leaked root
-- secret's procedure, SECURITY.md). Keyed by the root id, so a new OAUTH_ROOT_CLIENT_ID
-- starts clean.
CREATE TABLE root_cutoffs (
    client_id TEXT PRIMARY KEY,
    tokens_valid_after BIGINT NOT NULL
);
