//! fidesops `client` rows made the way fidesops makes them, each with the secret it was
//! made from: the formats to import and the rows to refuse or skip.

/// A fidesops client: the row as fidesops stored it, and the secret it was made from.
pub(super) struct Fixture {
    pub(super) id: &'static str,
    pub(super) secret: &'static str,
    pub(super) hashed_secret: &'static str,
    pub(super) salt: &'static str,
    pub(super) scopes: Option<&'static [&'static str]>,
}

// Ids and secrets are `secrets.token_hex(16)`, as fidesops generates them. The hashes were
// made with Python's `bcrypt` 5.0.0 and `hashlib` the way fidesops makes them:
//   current:  salt = bcrypt.gensalt(rounds=4)   (fidesops uses 12; 4 keeps the tests fast)
//             hashed_secret = bcrypt.hashpw(secret.encode(), salt).hex()
//   pre-2022: salt = bcrypt.gensalt().decode()
//             hashed_secret = hashlib.sha512((secret + salt).encode()).hexdigest()

/// Current format, two built-in scopes.
pub(super) const BCRYPT: Fixture = Fixture {
    id: "e58373d1b100740c92b55a854299200f",
    secret: "78388b66ba7eea82c30a7e35fe18d54f",
    hashed_secret: "24326224303424564e68384b6a684c6759446931396d734e6b34387475584a446e515049344a346e46707144524c6f702f6e4e464a31536d6c335969",
    salt: "$2b$04$VNh8KjhLgYDi19msNk48tu",
    scopes: Some(&["client:read", "policy:read"]),
};
/// Pre-2022 format.
pub(super) const SHA512: Fixture = Fixture {
    id: "1018a656fd9b18a36c0096b7dde3f2be",
    secret: "5ee7dd7a1b88e4c485a43f0242357eef",
    hashed_secret: "6d533b2ce627c71db2c48090ea1d05ba1aa79f5da3198df1ddd9612c52be0d628d19ca9d3bc08ef4d4acd2484f9fbc18b0cac999e105e801c4dfac35acbcefac",
    salt: "$2b$12$f9kSqJ4/Pq3NilWDFB9Y5u",
    scopes: Some(&["dataset:read"]),
};
/// A scope this service's registry does not have (a fides one).
pub(super) const CUSTOM: Fixture = Fixture {
    id: "22a2584782cb565f8632093aa7b59e78",
    secret: "59b2bff3ac36d96ae467c7cef79a2d8b",
    hashed_secret: "2432622430342475336a5443325a4f2e4f73566c66574a554f466b434f497347337645795755562f4254705164383834777535436447627845344b47",
    salt: "$2b$04$u3jTC2ZO.OsVlfWJUOFkCO",
    scopes: Some(&["client:read", "privacy-notice:read"]),
};
/// `scopes` NULL.
pub(super) const NO_SCOPES: Fixture = Fixture {
    id: "e04eb633a5ff2e8f630e8c0af6fb6bde",
    secret: "fa79ae421652dcb169f73e0a08724c26",
    hashed_secret: "243262243034244d75396a676f5352784c793730457164646142626c75345a4c42637a555a5930616543516655314b574d5474383157445a53377a69",
    salt: "$2b$04$Mu9jgoSRxLy70EqddaBblu",
    scopes: None,
};
/// fidesops' root client, under its default id.
pub(super) const FIDESOPS_ROOT: Fixture = Fixture {
    id: "fidesopsadmin",
    secret: "3dad76814e726e5074652c1c28a8fbd0",
    hashed_secret: "243262243034247834564470577136636c31672f4d426567362e7042756a7156706f43714e4e577073495330506352332f346c63374b482e43427075",
    salt: "$2b$04$x4VDpWq6cl1g/MBeg6.pBu",
    scopes: Some(&["client:create", "client:read"]),
};
/// A bcrypt hash made with another salt than the one in its row.
pub(super) const OTHER_SALT: Fixture = Fixture {
    id: "26e5769cb8fb51b54a30e3f1df6d3284",
    secret: "77ede91090f92feb131eeb928d540e64",
    hashed_secret: "2432622430342431522e4a3432476f344c53644a61436c57416e4c522e56424c68556f2e6f4e6b755069565a5952477853694f733553627a5450736d",
    salt: "$2b$04$xe1Nj8zJGYDm7KKej6PTg.",
    scopes: Some(&["client:read"]),
};
/// Neither format.
pub(super) const CORRUPT: Fixture = Fixture {
    id: "c0ffeec0ffeec0ffeec0ffeec0ffee00",
    secret: "",
    hashed_secret: "deadbeef",
    salt: "$2b$04$VNh8KjhLgYDi19msNk48tu",
    scopes: Some(&["client:read"]),
};
/// An id this service refuses, with a good hash.
pub(super) const BAD_ID: Fixture = Fixture {
    id: "has space",
    scopes: Some(&["client:read"]),
    ..BCRYPT
};
/// A malformed scope name, with a good hash.
pub(super) const BAD_SCOPE: Fixture = Fixture {
    id: "badscope01",
    scopes: Some(&["client:read", "has space"]),
    ..BCRYPT
};
/// This service's own root id (`OAUTH_ROOT_CLIENT_ID` in [`run_import`]).
pub(super) const OUR_ROOT: Fixture = Fixture {
    id: "root-client",
    ..BCRYPT
};

pub(super) const IMPORTED: [&Fixture; 4] = [&BCRYPT, &SHA512, &CUSTOM, &NO_SCOPES];
pub(super) const ROWS: [&Fixture; 10] = [
    &BCRYPT,
    &SHA512,
    &CUSTOM,
    &NO_SCOPES,
    &FIDESOPS_ROOT,
    &OTHER_SALT,
    &CORRUPT,
    &BAD_ID,
    &BAD_SCOPE,
    &OUR_ROOT,
];
pub(super) const OUR_ROOT_ID: &str = "root-client";
pub(super) const OUR_ROOT_SECRET: &str = "root-secret-for-tests-only";
