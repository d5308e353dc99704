DELETE FROM client_scopes WHERE scope IN ('federation:read', 'federation:create_or_update', 'federation:delete');
DELETE FROM scopes WHERE name IN ('federation:read', 'federation:create_or_update', 'federation:delete');
DROP TABLE used_assertions;
DROP TABLE client_identities;
DROP TABLE trusted_issuers;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
ALTER TABLE clients DROP COLUMN audiences;
