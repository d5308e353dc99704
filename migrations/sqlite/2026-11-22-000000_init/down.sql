DROP TABLE audit_events;
DROP TABLE revoked_tokens;
DROP TABLE client_scopes;
DROP TABLE clients;
DROP TABLE scopes;
