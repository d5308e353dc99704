//! The listings (clients, the audit trail): one query string, one envelope, one way of
//! paging each, so the two behave alike.
//!
//! - `?page=P&size=S`, fidesops' way: the page is found by skipping rows (`OFFSET`), which
//!   is fine for the first pages and slows down with depth.
//! - `?after=CURSOR&size=S`: the page starts just past the item a cursor names (keyset
//!   pagination on the listing's order, an index seek), so every page costs the same.
//!   Cursors come from `next`, which every page carries (page numbers too, so a client can
//!   switch), `null` on the last page; see [`cursor`]. `page` with `after` is a 400.
//!
//! Both can be narrowed ([`filters`]: a client search, the audit trail's fields and time
//! range). A cursor is a position in the listing's order, so one from a filtered page
//! goes on with the same filter.
//!
//! `total` (and `pages`) are not counted for every page ([`count`]): an exact count while
//! the listing is small, PostgreSQL's estimate once it is large, cached for a few seconds;
//! a filtered listing's matches are counted up to a cap instead, never cached.
//! `total_is_estimate` is false only when the answer's total was counted exactly for it.

pub mod count;
pub mod cursor;
pub mod filters;

use std::time::Instant;

use auth_core::store::{DbConnection, Start, Store, StoreError};

use crate::error::ApiError;
use crate::views::Paged;
pub use count::{CachedCount, CountMatching, Counter, Totals};
use cursor::Key;

pub const MAX_PAGE: i64 = 1_000_000;
pub const MAX_PAGE_SIZE: i64 = 100;
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// How a listing's `total` is taken.
pub enum Totaling {
    /// The whole listing: counted by [`Counter`], through the listing's [`CachedCount`].
    Whole(CachedCount, Counter),
    /// A filtered listing: its matches, counted for each page up to a cap
    /// ([`count::matching_total`]).
    Matching(CountMatching),
}

/// `?page=P&size=S` or `?after=CURSOR&size=S`: the query parameters of the listings.
/// Keep the bounds below, the constants above and [`Page::from_query`] the same.
#[derive(Debug, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1-based page number (found by skipping the items before it: for the first pages).
    /// Not with `after`.
    #[param(minimum = 1, maximum = 1000000, default = 1, required = false)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 50, required = false)]
    pub size: i64,
    /// Start just after the last item of an earlier page: that page's `next`. Opaque; a
    /// cursor that is not one of this listing's is a 400. Not with `page`.
    #[param(
        min_length = 1,
        max_length = 256,
        pattern = "^[A-Za-z0-9_-]{1,256}$",
        required = false
    )]
    pub after: Option<String>,
}

impl Page {
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut page = Self {
            page: None,
            size: DEFAULT_PAGE_SIZE,
            after: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let number = |max: i64| {
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "{name} must be a whole number from 1 to {max}"
                        ))
                    })
            };
            match name.as_ref() {
                "page" => page.page = Some(number(MAX_PAGE)?),
                "size" => page.size = number(MAX_PAGE_SIZE)?,
                "after" => page.after = Some(value.into_owned()),
                _ => {}
            }
        }
        if page.page.is_some() && page.after.is_some() {
            return Err(ApiError::invalid_request(
                "page and after cannot be combined: after (a cursor) says where the page starts",
            ));
        }
        Ok(page)
    }

    /// Where the page starts in listing `K`.
    fn start<K: Key>(&self) -> Result<Start<K>, ApiError> {
        match &self.after {
            Some(raw) => cursor::decode(raw).map(Start::After).ok_or_else(|| {
                ApiError::invalid_request(
                    "after must be a cursor of this listing, as its pages' `next` gives them",
                )
            }),
            None => Ok(Start::Offset((self.page.unwrap_or(1) - 1) * self.size)),
        }
    }

    /// Loads this page of listing `K`: `rows` reads at most `limit` items from a start (one
    /// more than the page is asked, to know whether another page follows), each with its
    /// key; the total is taken as `totaling` says. `now` is the request's time.
    pub async fn load<K, T, R>(
        &self,
        store: &Store,
        totaling: Totaling,
        now: Instant,
        rows: R,
    ) -> Result<Paged<T>, ApiError>
    where
        K: Key + Send + 'static,
        T: Send + 'static,
        R: FnOnce(&mut DbConnection, Start<&K>, i64) -> Result<Vec<(K, T)>, StoreError>
            + Send
            + 'static,
    {
        let start = self.start::<K>()?;
        let size = self.size;
        let (items, next, total) = store
            .run(move |conn| {
                let mut rows = rows(conn, start.as_ref(), size + 1)?;
                let next = if rows.len() > usize::try_from(size).unwrap_or(usize::MAX) {
                    rows.pop();
                    rows.last().map(|(key, _)| cursor::encode(key))
                } else {
                    None
                };
                let total = match totaling {
                    Totaling::Whole(cached, counter) => cached.get(now, || counter.count(conn))?,
                    Totaling::Matching(count) => {
                        // The last page, read by number, saw every match after those skipped.
                        let seen = match start {
                            Start::Offset(skipped)
                                if next.is_none() && (skipped == 0 || !rows.is_empty()) =>
                            {
                                Some(skipped + i64::try_from(rows.len()).unwrap_or(i64::MAX))
                            }
                            _ => None,
                        };
                        count::matching_total(conn, count, seen)?
                    }
                };
                let items = rows.into_iter().map(|(_, item)| item).collect();
                Ok((items, next, total))
            })
            .await?;
        Ok(Paged {
            items,
            total: total.count,
            page: match self.after {
                Some(_) => None,
                None => Some(self.page.unwrap_or(1)),
            },
            size,
            pages: (total.count + size - 1) / size,
            next,
            total_is_estimate: total.estimate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cursor::{AuditKey, ClientKey};

    #[test]
    fn the_query_string() {
        let page = Page::from_query("").expect("empty");
        assert_eq!(
            (page.page, page.size, page.after.as_deref()),
            (None, 50, None)
        );
        assert_eq!(page.start::<AuditKey>().ok(), Some(Start::Offset(0)));
        let page = Page::from_query("page=3&size=10&other=x").expect("page");
        assert_eq!(page.start::<AuditKey>().ok(), Some(Start::Offset(20)));
        let cursor = cursor::encode(&AuditKey(7));
        let page = Page::from_query(&format!("size=5&after={cursor}")).expect("after");
        assert_eq!(
            page.start::<AuditKey>().ok(),
            Some(Start::After(AuditKey(7)))
        );
        // Another listing's cursor is no cursor here.
        assert!(page.start::<ClientKey>().is_err());
    }

    #[test]
    fn bad_queries_are_400s() {
        for query in [
            "page=0",
            "page=1000001",
            "size=0",
            "size=101",
            "page=x",
            "size=-1",
            "page=1&after=YXVkaXQuNw",
            "after=YXVkaXQuNw&page=2",
        ] {
            let error = Page::from_query(query).expect_err(query);
            assert_eq!(error.status().as_u16(), 400, "{query}");
        }
        for after in ["", "%00", "YXVkaXQuNw%3D%3D", "!!", "YXVkaXQueA"] {
            let page = Page::from_query(&format!("after={after}")).expect(after);
            assert!(page.start::<AuditKey>().is_err(), "{after}");
        }
    }
}
