ALTER TABLE clients DROP COLUMN revocations_per_minute;
ALTER TABLE clients DROP COLUMN tokens_per_minute;
