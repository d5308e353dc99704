//! `(a, b) > (x, y)`: the keyset condition of a listing ordered by two columns, as a diesel
//! expression.
//!
//! Both backends answer a row-value comparison from an index on `(a, b)` (an index seek
//! past the key, ties of `a` included), where the equivalent `a > x OR (a = x AND b > y)`
//! may make PostgreSQL walk the index from its start. diesel has no row values, and a `sql`
//! literal would do but is never cached as a prepared statement: every page would be parsed
//! and planned again (measured: three times the database's work per page). This node is
//! plain SQL and binds, so its statement is prepared once per connection.

use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, AsExpression, Expression, SelectableExpression, TypedExpressionType,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, SqlType};

/// `(a, b) > (x, y)`; see [`greater`].
#[derive(Debug, Clone, Copy, QueryId, diesel::expression::ValidGrouping)]
pub struct RowGreater<A, B, X, Y> {
    a: A,
    b: B,
    x: X,
    y: Y,
}

/// `(a, b) > (x, y)`: true for the rows after the key `(x, y)` in the order `a, b`.
pub fn greater<A, B, X, Y>(
    (a, b): (A, B),
    (x, y): (X, Y),
) -> RowGreater<A, B, X::Expression, Y::Expression>
where
    A: Expression<SqlType: SqlType + TypedExpressionType>,
    B: Expression<SqlType: SqlType + TypedExpressionType>,
    X: AsExpression<A::SqlType>,
    Y: AsExpression<B::SqlType>,
{
    RowGreater {
        a,
        b,
        x: x.as_expression(),
        y: y.as_expression(),
    }
}

impl<A, B, X, Y> Expression for RowGreater<A, B, X, Y> {
    type SqlType = Bool;
}

impl<A, B, X, Y, DB> QueryFragment<DB> for RowGreater<A, B, X, Y>
where
    DB: Backend,
    A: QueryFragment<DB>,
    B: QueryFragment<DB>,
    X: QueryFragment<DB>,
    Y: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("((");
        self.a.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.b.walk_ast(out.reborrow())?;
        out.push_sql(") > (");
        self.x.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.y.walk_ast(out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

impl<A, B, X, Y, QS> AppearsOnTable<QS> for RowGreater<A, B, X, Y>
where
    A: AppearsOnTable<QS>,
    B: AppearsOnTable<QS>,
    X: AppearsOnTable<QS>,
    Y: AppearsOnTable<QS>,
{
}

impl<A, B, X, Y, QS> SelectableExpression<QS> for RowGreater<A, B, X, Y>
where
    A: SelectableExpression<QS>,
    B: SelectableExpression<QS>,
    X: SelectableExpression<QS>,
    Y: SelectableExpression<QS>,
{
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::store::schema::clients;

    #[test]
    fn renders_a_row_value_comparison_of_binds() {
        let query = clients::table
            .filter(greater(
                (clients::created_at, clients::id),
                (5_i64, "cid_x".to_owned()),
            ))
            .select(clients::id);
        let sql = diesel::debug_query::<Sqlite, _>(&query).to_string();
        assert!(
            sql.contains(r#"WHERE ((`clients`.`created_at`, `clients`.`id`) > (?, ?))"#),
            "{sql}"
        );
    }
}
