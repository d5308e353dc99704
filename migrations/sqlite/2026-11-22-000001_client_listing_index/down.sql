DROP INDEX revoked_tokens_revoked_at;
DROP INDEX clients_tokens_valid_after;
DROP INDEX clients_live_order;
