-- Per-client limits (DESIGN, "Per-client limits"): tokens issued and tokens revoked per
-- minute. NULL: the service's default (CLIENT_TOKENS_PER_MINUTE,
-- CLIENT_REVOCATIONS_PER_MINUTE); 0: no limit for this client.
ALTER TABLE clients ADD COLUMN tokens_per_minute BIGINT;
ALTER TABLE clients ADD COLUMN revocations_per_minute BIGINT;
