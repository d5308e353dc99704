-- Listing live clients in a stable order (oldest first) without sorting the whole table.
CREATE INDEX clients_live_order ON clients (created_at, id) WHERE deleted_at IS NULL;
-- The revocation syncer reads recent cut-offs and revocations every second.
CREATE INDEX clients_tokens_valid_after ON clients (tokens_valid_after);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);
