//! Typed configuration from the environment: the [`Env`] source, [`ConfigError`] naming the
//! variable at fault, and parsers shared by every binary. The services' own settings are in
//! `crate::settings`; each binary reads its configuration once and passes it explicitly.

use std::net::SocketAddr;

/// A variable that is missing or invalid. The message never repeats a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Where variables come from: the process environment, or a map in tests.
pub struct Env<'a> {
    lookup: Lookup<'a>,
}

impl<'a> Env<'a> {
    pub fn process() -> Self {
        Self::from_fn(|name| std::env::var(name).ok())
    }

    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self {
            lookup: Box::new(lookup),
        }
    }

    /// The value, with empty values treated as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    /// Parses the value with `parse`, or returns `default` when unset.
    pub fn parse_or<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => parse(value.trim()).map_err(|message| ConfigError::new(name, message)),
        }
    }

    /// A listen address.
    pub fn socket_addr(
        &self,
        name: &'static str,
        default: &str,
    ) -> Result<SocketAddr, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        value.trim().parse().map_err(|_| {
            ConfigError::new(
                name,
                format!("expected HOST:PORT such as {default}, got {value:?}"),
            )
        })
    }
}

/// A parser for `Env::parse_or` accepting whole numbers in `range`.
pub fn integer_in<T>(range: std::ops::RangeInclusive<T>) -> impl FnOnce(&str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    move |value| match value.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number from {} to {}, got {value:?}",
            range.start(),
            range.end()
        )),
    }
}

/// An audience (RFC 7519 StringOrURI): 1 to 1024 visible characters, no spaces.
pub fn parse_audience(value: &str) -> Result<String, String> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 1024 && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(value.to_owned())
    } else {
        Err("expected 1 to 1024 visible ASCII characters without spaces, such as a URL".to_owned())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        env.parse_or("LOG_FORMAT", Self::Text, |v| {
            match v.to_ascii_lowercase().as_str() {
                "text" => Ok(Self::Text),
                "json" => Ok(Self::Json),
                _ => Err(format!("expected text or json, got {v:?}")),
            }
        })
    }
}
