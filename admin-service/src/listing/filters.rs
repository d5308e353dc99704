//! The listings' filters, beside their paging ([`super::Page`]): a client search (`q`),
//! and the audit trail's actor, target, action, outcome and time range. Each becomes a
//! typed value at the boundary (a [`SearchText`], an [`audit::Filter`]); a bad value is a
//! 400 naming the parameter and what it takes, and so is a filter given twice (which one
//! was meant?). Other parameters are left to [`super::Page`], or ignored.
//!
//! The OpenAPI description of each parameter ([`IntoParams`]) is built from the same
//! constants and types the parsers use.

use std::borrow::Cow;

use auth_core::ids::{CLIENT_ID_PATTERN, ClientId, MAX_CLIENT_ID_LEN};
use auth_core::store::audit;
use auth_core::store::clients::SearchText;
use auth_core::store::clients::listing::MAX_SEARCH_LEN;
use auth_core::time::Timestamp;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Object, Required};

use crate::audit::{Action, MAX_FIELD_CHARS, Outcome};
use crate::error::ApiError;

/// Text without control characters, as JSON Schema states it.
const NO_CONTROL_CHARACTERS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// The values of the parameters `names` in `query`, in that order; a name given twice is
/// a 400.
fn values<'q, const N: usize>(
    query: &'q str,
    names: [&str; N],
) -> Result<[Option<Cow<'q, str>>; N], ApiError> {
    let mut found = [const { None }; N];
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if let Some(index) = names.iter().position(|wanted| *wanted == name) {
            if found[index].is_some() {
                return Err(ApiError::invalid_request(format!(
                    "{name} is given twice: give each filter once"
                )));
            }
            found[index] = Some(value);
        }
    }
    Ok(found)
}

/// `?q=TEXT`: the client listing narrowed to the clients whose id, name or description
/// contains TEXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSearch(pub Option<SearchText>);

impl ClientSearch {
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let [q] = values(query, ["q"])?;
        q.map(|text| {
            SearchText::parse(&text).map_err(|_| {
                ApiError::invalid_request(format!(
                    "q must be 1 to {MAX_SEARCH_LEN} characters without control characters"
                ))
            })
        })
        .transpose()
        .map(Self)
    }
}

impl IntoParams for ClientSearch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![query_parameter(
            "q",
            "Only the clients whose id, name or description contains this text: matched \
             literally (`%`, `_` and `\\` are no wildcards), ignoring case (every letter on \
             PostgreSQL, ASCII letters on SQLite). A search reads clients in the listing's \
             order until its page is full, so a text few clients hold reads them all.",
            text(MAX_SEARCH_LEN),
        )]
    }
}

/// The audit listing's filters: `actor`, `target`, `action`, `outcome`, `since`, `until`.
pub struct AuditFilters;

impl AuditFilters {
    pub fn from_query(query: &str) -> Result<audit::Filter, ApiError> {
        let [actor, target, action, outcome, since, until] = values(
            query,
            ["actor", "target", "action", "outcome", "since", "until"],
        )?;
        let filter = audit::Filter {
            actor: actor
                .map(|actor| {
                    ClientId::parse(&actor).map_err(|_| {
                        ApiError::invalid_request(format!(
                            "actor must be a client id: 1 to {MAX_CLIENT_ID_LEN} letters, \
                             digits, '-', '_' and '.'"
                        ))
                    })
                })
                .transpose()?,
            target: target
                .map(|target| bounded_text("target", MAX_FIELD_CHARS, target.into_owned()))
                .transpose()?,
            action: action
                .map(|action| named("action", &Action::ALL, Action::as_str, &action))
                .transpose()?,
            outcome: outcome
                .map(|outcome| named("outcome", &Outcome::ALL, Outcome::as_str, &outcome))
                .transpose()?,
            since: since.map(|at| instant("since", &at)).transpose()?,
            until: until.map(|at| instant("until", &at)).transpose()?,
        };
        if let (Some(since), Some(until)) = (filter.since, filter.until)
            && since > until
        {
            return Err(ApiError::invalid_request(
                "since must not be later than until",
            ));
        }
        Ok(filter)
    }
}

/// `text` if it is 1 to `max` characters without control characters.
fn bounded_text(param: &str, max: usize, text: String) -> Result<String, ApiError> {
    let len = text.chars().count();
    if (1..=max).contains(&len) && !text.chars().any(char::is_control) {
        Ok(text)
    } else {
        Err(ApiError::invalid_request(format!(
            "{param} must be 1 to {max} characters without control characters"
        )))
    }
}

/// `text` if it names one of `all`; else a 400 listing them.
fn named<T: Copy>(
    param: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    text: &str,
) -> Result<String, ApiError> {
    let names = names(all, name);
    match names.iter().find(|known| **known == text) {
        Some(known) => Ok((*known).to_owned()),
        None => Err(ApiError::invalid_request(format!(
            "{param} must be one of {}",
            names.join(", ")
        ))),
    }
}

fn instant(name: &str, text: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse_rfc3339(text).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "{name} must be an RFC 3339 date-time, as the events show them \
             (2026-12-01T06:13:03.094494Z; an offset's + sent as %2B)"
        ))
    })
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|value| name(*value)).collect()
}

impl IntoParams for AuditFilters {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let date_time = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .build()
        };
        vec![
            query_parameter(
                "actor",
                "Only the events of this client (the caller that acted).",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_CLIENT_ID_LEN))
                    .pattern(Some(CLIENT_ID_PATTERN))
                    .build(),
            ),
            query_parameter(
                "target",
                "Only the events on this target (a client id, a scope name, an issuer id), \
                 exactly as the events show it.",
                text(MAX_FIELD_CHARS),
            ),
            query_parameter(
                "action",
                "Only the events of this action.",
                enumeration(&names(&Action::ALL, Action::as_str)),
            ),
            query_parameter(
                "outcome",
                "Only the events that ended so.",
                enumeration(&names(&Outcome::ALL, Outcome::as_str)),
            ),
            query_parameter(
                "since",
                "Only the events at or after this instant (RFC 3339, as `occurred_at`).",
                date_time(),
            ),
            query_parameter(
                "until",
                "Only the events at or before this instant (RFC 3339, as `occurred_at`); not \
                 before `since`.",
                date_time(),
            ),
        ]
    }
}

/// Text of 1 to `max` characters without control characters.
fn text(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(NO_CONTROL_CHARACTERS))
        .build()
}

fn enumeration(values: &[&'static str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

fn query_parameter(name: &str, description: &str, schema: Object) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_one_bounded_text() {
        assert_eq!(
            ClientSearch::from_query("size=5").ok(),
            Some(ClientSearch(None))
        );
        let search = ClientSearch::from_query("q=50%25_off&size=5").expect("q");
        assert_eq!(search.0, SearchText::parse("50%_off").ok());
        for bad in ["q=", "q=a&q=b", "q=%00", "q=a%0Ab"] {
            let error = ClientSearch::from_query(bad).expect_err(bad);
            assert_eq!(error.status().as_u16(), 400, "{bad}");
        }
        let long = "é".repeat(MAX_SEARCH_LEN);
        assert!(ClientSearch::from_query(&format!("q={long}")).is_ok());
        assert!(ClientSearch::from_query(&format!("q={long}e")).is_err());
    }

    #[test]
    fn audit_filters_are_typed() {
        assert_eq!(
            AuditFilters::from_query("page=2").ok(),
            Some(audit::Filter::default())
        );
        let filter = AuditFilters::from_query(
            "actor=cid_a&target=x%20y&action=client.create&outcome=refused\
             &since=2026-12-01T00:00:00Z&until=2026-12-01T01:00:00%2B01:00",
        )
        .expect("filters");
        assert_eq!(filter.actor, ClientId::parse("cid_a").ok());
        assert_eq!(filter.target.as_deref(), Some("x y"));
        assert_eq!(filter.action.as_deref(), Some("client.create"));
        assert_eq!(filter.outcome.as_deref(), Some("refused"));
        assert_eq!(filter.since, filter.until);
        for bad in [
            "actor=",
            "actor=a/b",
            "actor=..",
            "target=",
            "target=a%00",
            "action=client",
            "action=Client.Create",
            "outcome=ok",
            "since=yesterday",
            "since=2026-12-01T00:00:00+01:00",
            "until=2026-02-30T00:00:00Z",
            "since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            "action=client.create&action=client.delete",
        ] {
            let error = AuditFilters::from_query(bad).expect_err(bad);
            assert_eq!(error.status().as_u16(), 400, "{bad}");
        }
        let long = "t".repeat(MAX_FIELD_CHARS + 1);
        assert!(AuditFilters::from_query(&format!("target={long}")).is_err());
    }
}
