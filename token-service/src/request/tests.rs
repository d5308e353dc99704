//! Tests of the parent module.

use actix_web::http::header::HeaderValue;

use super::*;

fn headers(authorization: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(authorization).unwrap(),
    );
    map
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

#[test]
fn basic_credentials_are_form_decoded() {
    let parsed = parse_basic(&headers(&basic("svc%2Da", "p%40ss+word")))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.client_id, "svc-a");
    assert_eq!(parsed.secret, "p@ss word");
    assert_eq!(parsed.raw_secret.as_deref(), Some("p%40ss+word"));
    assert!(parse_basic(&HeaderMap::new()).unwrap().is_none());
}

#[test]
fn basic_secrets_sent_without_form_encoding_keep_their_raw_form() {
    // requests' HTTPBasicAuth, authlib and requests-oauthlib send the secret as is.
    let plain = parse_basic(&headers(&basic("svc", "plain-secret")))
        .unwrap()
        .unwrap();
    assert_eq!(plain.secret, "plain-secret");
    assert_eq!(plain.raw_secret, None, "nothing to try twice");
    let bare_percent = parse_basic(&headers(&basic("svc", "100%sure")))
        .unwrap()
        .unwrap();
    assert_eq!(bare_percent.secret, "100%sure");
    assert_eq!(bare_percent.raw_secret, None);
    let plus = parse_basic(&headers(&basic("svc", "a+b/c")))
        .unwrap()
        .unwrap();
    assert_eq!(plus.secret, "a b/c");
    assert_eq!(plus.raw_secret.as_deref(), Some("a+b/c"));
}

#[test]
fn malformed_basic_is_invalid_client() {
    for bad in [
        "Basic",
        "Basic !!!",
        "Bearer abc",
        &format!("Basic {}", STANDARD.encode("no-colon")),
        &basic("a%zz", "secret"),
    ] {
        let error = parse_basic(&headers(bad)).unwrap_err();
        assert_eq!(error.code(), "invalid_client", "{bad}");
    }
}

#[test]
fn repeated_parameters_are_refused() {
    let error = Form::parse(
        b"grant_type=client_credentials&scope=a&scope=b",
        TOKEN_PARAMS,
    )
    .unwrap_err();
    assert_eq!(error.code(), "invalid_request");
    assert!(
        Form::parse(
            b"grant_type=client_credentials&unknown=1&unknown=2",
            TOKEN_PARAMS
        )
        .is_ok()
    );
}

#[test]
fn grant_type_is_checked_before_credentials() {
    let missing =
        TokenRequest::from_parts(Form::parse(b"", TOKEN_PARAMS).unwrap(), None).unwrap_err();
    assert_eq!(missing.code(), "invalid_request");
    let other = Form::parse(b"grant_type=password", TOKEN_PARAMS).unwrap();
    assert_eq!(
        TokenRequest::from_parts(other, None).unwrap_err().code(),
        "unsupported_grant_type"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_form_body_parses_or_is_a_contract_4xx(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            match Form::parse(&body, TOKEN_PARAMS) {
                Ok(form) => {
                    let result = TokenRequest::from_parts(form, None);
                    if let Err(error) = result {
                        prop_assert!(["invalid_request", "unsupported_grant_type", "invalid_scope", "invalid_client"].contains(&error.code()));
                    }
                }
                Err(error) => prop_assert_eq!(error.code(), "invalid_request"),
            }
        }

        #[test]
        fn any_authorization_header_is_basic_or_invalid_client(value in "[ -~]{0,200}") {
            let Ok(header) = HeaderValue::from_str(&value) else { return Ok(()) };
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, header);
            if let Err(error) = parse_basic(&map) {
                prop_assert_eq!(error.code(), "invalid_client");
            }
        }

        #[test]
        fn basic_credentials_round_trip(id in "[A-Za-z0-9_.-]{1,40}", secret in "[ -~]{1,60}") {
            let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let value = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
            let parsed = parse_basic(&headers(&value)).unwrap().unwrap();
            prop_assert_eq!(&parsed.client_id, &id);
            prop_assert_eq!(&parsed.secret, &secret);
            let raw = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), secret)));
            let parsed_raw = parse_basic(&headers(&raw)).unwrap().unwrap();
            let forms = [Some(parsed_raw.secret), parsed_raw.raw_secret];
            prop_assert!(forms.contains(&Some(secret.clone())), "the raw form is always one of the candidates");
        }
    }
}
