//! The revoked token ids a verifier holds in memory, in 16 bytes each.
//!
//! Every verifier keeps every unexpired revocation, so this set is what grows with the
//! revocation history (a million revoked tokens must fit a verifier in 64 MB). The ids this
//! service issues are 16 random bytes in base64url (22 characters): those are kept as the
//! bytes, in a sorted vector filled by each snapshot (16 bytes an id, looked up by binary
//! search) and a small hash set of what was revoked since. Any other id (one an operator
//! typed into the admin API) is kept as text; a 22-character id whose encoding is not
//! canonical is such an id too, so no two different strings ever share bytes.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

type Bytes = [u8; 16];

/// The bytes of a token id of this service's own form, or `None`.
fn own_form(jti: &str) -> Option<Bytes> {
    if jti.len() != 22 {
        return None;
    }
    let mut bytes = [0u8; 16];
    // Exactly 16 bytes, canonically encoded (the engine refuses stray trailing bits).
    match URL_SAFE_NO_PAD.decode_slice(jti, &mut bytes) {
        Ok(16) => Some(bytes),
        _ => None,
    }
}

#[derive(Debug, Default)]
pub(crate) struct JtiSet {
    /// Sorted and without duplicates once sealed; filled by `push`.
    sorted: Vec<Bytes>,
    /// Added by `insert` since the set was sealed.
    recent: HashSet<Bytes>,
    /// Ids of any other form.
    other: HashSet<Box<str>>,
}

impl JtiSet {
    /// Adds an id to a set being filled in bulk (a snapshot); call [`JtiSet::seal`] before
    /// looking anything up.
    pub(crate) fn push(&mut self, jti: &str) {
        match own_form(jti) {
            Some(bytes) => self.sorted.push(bytes),
            None => {
                self.other.insert(jti.into());
            }
        }
    }

    /// Makes room for `more` ids of a bulk fill.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.sorted.reserve(more);
    }

    /// Ends a bulk fill: sorts, and gives back memory the fill reserved in excess.
    pub(crate) fn seal(&mut self) {
        self.sorted.extend(self.recent.drain());
        self.sorted.sort_unstable();
        self.sorted.dedup();
        // Shrinking copies the whole vector: only worth it for a large excess.
        if self.sorted.capacity() > self.sorted.len() + self.sorted.len() / 8 {
            self.sorted.shrink_to_fit();
        }
        self.recent.shrink_to_fit();
    }

    /// Adds an id to a sealed set.
    pub(crate) fn insert(&mut self, jti: &str) {
        match own_form(jti) {
            Some(bytes) => {
                if self.sorted.binary_search(&bytes).is_err() {
                    self.recent.insert(bytes);
                }
            }
            None => {
                self.other.insert(jti.into());
            }
        }
    }

    pub(crate) fn contains(&self, jti: &str) -> bool {
        match own_form(jti) {
            Some(bytes) => {
                self.recent.contains(&bytes) || self.sorted.binary_search(&bytes).is_ok()
            }
            None => self.other.contains(jti),
        }
    }

    /// Adds every id of `more` (a sealed set, or a set filled by `insert` only).
    pub(crate) fn extend(&mut self, more: JtiSet) {
        for bytes in more.sorted.into_iter().chain(more.recent) {
            if self.sorted.binary_search(&bytes).is_err() {
                self.recent.insert(bytes);
            }
        }
        self.other.extend(more.other);
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.recent.len() + self.other.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::random_id;

    #[test]
    fn own_and_other_ids_are_found_after_bulk_fill_and_insert() {
        let own: Vec<String> = (0..1000).map(|_| random_id()).collect();
        let mut set = JtiSet::default();
        for jti in &own[..500] {
            set.push(jti);
            set.push(jti);
        }
        set.push("typed-by-an-operator");
        set.seal();
        for jti in &own[500..] {
            set.insert(jti);
        }
        set.insert(&own[0]);
        set.insert("another_id");
        assert_eq!(set.len(), 1002, "duplicates are kept once");
        assert!(own.iter().all(|jti| set.contains(jti)));
        assert!(set.contains("typed-by-an-operator") && set.contains("another_id"));
        assert!(!set.contains(&random_id()));
        assert!(!set.contains("never"));

        let mut merged = JtiSet::default();
        merged.seal();
        merged.extend(set);
        assert!(own.iter().all(|jti| merged.contains(jti)));
        assert!(merged.contains("another_id"));
    }

    #[test]
    fn a_non_canonical_encoding_is_another_id() {
        let mut set = JtiSet::default();
        set.insert("AAAAAAAAAAAAAAAAAAAAAA");
        // The same 16 bytes with stray low bits in the last character: a different string,
        // so a different token id.
        assert!(own_form("AAAAAAAAAAAAAAAAAAAAAB").is_none());
        assert!(!set.contains("AAAAAAAAAAAAAAAAAAAAAB"));
        set.insert("AAAAAAAAAAAAAAAAAAAAAB");
        assert!(set.contains("AAAAAAAAAAAAAAAAAAAAAB"));
        assert!(own_form("AAAAAAAAAAAAAAAAAAAAA").is_none(), "21 characters");
        assert!(
            own_form("AAAAAAAAAAAAAAAAAAAAA+").is_none(),
            "not base64url"
        );
    }
}
