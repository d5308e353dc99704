//! No privilege escalation: what a caller may hand over.
//!
//! A caller may grant only scopes its own token carries (scopes its client holds but its
//! token does not carry count as not held), and a change that hands over a client's whole
//! power (a new secret, keys, workload identities) needs every scope that client holds. The root client holds every
//! scope. fidesops let any `client:create` holder mint clients with any scope
//! (CVE-2025-57817); this is the rule that prevents it.

use crate::scopes::Scope;

/// Who asks for a change, as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The root client (configured in the environment): holds every scope.
    Root,
    /// Any other client, with the scopes its token carries.
    Client(&'a [Scope]),
}

/// What a change hands over.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    /// A new client with these scopes.
    NewClient(&'a [Scope]),
    /// A client's scopes replaced: only the scopes added are granted (keeping or removing
    /// one the caller lacks is not).
    Replace {
        current: &'a [Scope],
        wanted: &'a [Scope],
    },
    /// A credential of a client holding these scopes (a new secret, keys, identities):
    /// whoever gets it has them all.
    TakeOver(&'a [Scope]),
}

/// The scopes `grant` would hand over that `actor` does not hold, in the grant's order:
/// empty when the change is allowed.
pub fn unheld(actor: Actor<'_>, grant: Grant<'_>) -> Vec<Scope> {
    let Actor::Client(held) = actor else {
        return Vec::new();
    };
    let handed_over: Vec<&Scope> = match grant {
        Grant::NewClient(scopes) | Grant::TakeOver(scopes) => scopes.iter().collect(),
        Grant::Replace { current, wanted } => {
            wanted.iter().filter(|s| !current.contains(s)).collect()
        }
    };
    handed_over
        .into_iter()
        .filter(|s| !held.contains(s))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(names: &[&str]) -> Vec<Scope> {
        names.iter().map(|n| Scope::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_client_hands_over_only_what_it_holds() {
        let held = scopes(&["client:create", "client:read"]);
        let actor = Actor::Client(&held);
        let wanted = scopes(&["client:read", "client:delete", "audit:read"]);
        assert_eq!(
            unheld(actor, Grant::NewClient(&wanted)),
            scopes(&["client:delete", "audit:read"])
        );
        assert!(unheld(actor, Grant::NewClient(&held)).is_empty());
        assert_eq!(
            unheld(actor, Grant::TakeOver(&wanted)),
            scopes(&["client:delete", "audit:read"])
        );
    }

    #[test]
    fn a_replacement_grants_only_what_it_adds() {
        let held = scopes(&["client:update", "config:read"]);
        let current = scopes(&["client:read", "policy:read"]);
        let keep_and_add = scopes(&["client:read", "config:read", "policy:read"]);
        let grant = Grant::Replace {
            current: &current,
            wanted: &keep_and_add,
        };
        assert!(unheld(Actor::Client(&held), grant).is_empty());
        let escalate = scopes(&["policy:read", "client:delete"]);
        let grant = Grant::Replace {
            current: &current,
            wanted: &escalate,
        };
        assert_eq!(
            unheld(Actor::Client(&held), grant),
            scopes(&["client:delete"])
        );
    }

    #[test]
    fn root_holds_everything() {
        let wanted = scopes(&["client:delete", "scope:delete"]);
        assert!(unheld(Actor::Root, Grant::NewClient(&wanted)).is_empty());
        assert!(unheld(Actor::Root, Grant::TakeOver(&wanted)).is_empty());
    }
}
