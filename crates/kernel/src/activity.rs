//! Activity events: one small row per meaningful action (a resource viewed or downloaded, homework
//! assigned …), which the statistics roll up per day. Written in the action's own transaction when
//! it has one, so an action and its count commit together.

use crate::auth::Actor;
use crate::db::{DbError, Tx, sql};

/// Records that `actor` did `kind` (a stable snake_case name such as `resource_view`) to `target_id`.
pub async fn record(tx: &mut Tx, actor: &Actor, kind: &'static str, target_id: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO activity_events (at, person_id, unit_path, kind, target_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(crate::now())
            .bind(actor.person_id)
            .bind(actor.unit_path.as_str())
            .bind(kind)
            .bind(target_id),
    )
    .await?;
    Ok(())
}
