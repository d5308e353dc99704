// @generated automatically by Diesel CLI.

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> BigInt,
        actor_client_id -> Text,
        action -> Text,
        target -> Nullable<Text>,
        source_address -> Nullable<Text>,
        outcome -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    client_identities (issuer_id, subject) {
        issuer_id -> Text,
        subject -> Text,
        client_id -> Text,
    }
}

diesel::table! {
    client_scopes (client_id, scope) {
        client_id -> Text,
        scope -> Text,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        secret_hash -> Text,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<BigInt>,
        name -> Nullable<Text>,
        description -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        tokens_valid_after -> BigInt,
        deleted_at -> Nullable<BigInt>,
        tokens_per_minute -> Nullable<BigInt>,
        revocations_per_minute -> Nullable<BigInt>,
        audiences -> Nullable<Text>,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        client_id -> Text,
        revoked_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    root_cutoffs (client_id) {
        client_id -> Text,
        tokens_valid_after -> BigInt,
    }
}

diesel::table! {
    trusted_issuers (id) {
        id -> Text,
        issuer -> Text,
        jwks_uri -> Nullable<Text>,
        jwks -> Nullable<Text>,
        audiences -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    used_assertions (id) {
        id -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    scopes (name) {
        name -> Text,
        position -> BigInt,
        built_in -> Bool,
    }
}

diesel::joinable!(client_identities -> clients (client_id));
diesel::joinable!(client_identities -> trusted_issuers (issuer_id));
diesel::joinable!(client_scopes -> clients (client_id));
diesel::joinable!(client_scopes -> scopes (scope));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    client_identities,
    client_scopes,
    clients,
    revoked_tokens,
    root_cutoffs,
    scopes,
    trusted_issuers,
    used_assertions,
);
