//! The errors of a command, each with its exit code: what a script decides on.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | done |
//! | 1 | the service refused (a 4xx answer), with its error code and description |
//! | 2 | usage or configuration: a missing setting, an unreadable or invalid file |
//! | 3 | the service is unreachable, timed out, or failed (a 5xx answer) |

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A missing or invalid setting, argument or input file.
    #[error("{0}")]
    Usage(String),
    /// The service answered 4xx.
    #[error("{method} {path}: refused ({status}): {code}: {description}")]
    Refused {
        method: String,
        path: String,
        status: u16,
        code: String,
        description: String,
    },
    /// The service could not be reached, or failed.
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { .. } => 1,
            Self::Usage(_) => 2,
            Self::Unavailable(_) => 3,
        }
    }

    /// The error code of a refusal (`not_found`, `invalid_scope`, ...), if it is one.
    pub fn refusal_code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
