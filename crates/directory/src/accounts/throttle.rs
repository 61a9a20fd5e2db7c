//! Failed-login throttling, kept in the database so every node of a cluster counts together.
//! Keys are `login:<what was typed>` (whether or not such an account exists, so a lockout tells
//! nothing about existence) and `ip:<address>`.

use kernel::db::{Db, DbError, sql};

/// Seconds until the first of `keys` unlocks, if any is locked.
pub async fn locked_for(db: &Db, keys: &[String]) -> Result<Option<i64>, DbError> {
    let now = kernel::now();
    let mut worst = None;
    for key in keys {
        let row: Option<(i64,)> =
            db.fetch_optional(sql("SELECT locked_until FROM login_throttle WHERE throttle_key = $1").bind(key.as_str())).await?;
        if let Some((until,)) = row
            && until > now
        {
            worst = Some(worst.unwrap_or(0).max(until - now));
        }
    }
    Ok(worst)
}

/// Counts a failure under `key`; at `max` failures within `window` seconds the key locks for `lockout` seconds.
pub async fn record_failure(db: &Db, key: &str, max: i64, lockout: i64) -> Result<(), DbError> {
    let now = kernel::now();
    let mut tx = db.begin().await?;
    let (failures,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO login_throttle (throttle_key, failures, first_failure_at, locked_until) VALUES ($1, 1, $2, 0) \
                 ON CONFLICT (throttle_key) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.first_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                   first_failure_at = CASE WHEN login_throttle.first_failure_at < $3 THEN $2 ELSE login_throttle.first_failure_at END \
                 RETURNING failures")
            .bind(key)
            .bind(now)
            .bind(now - lockout),
        )
        .await?;
    if failures >= max {
        tx.execute(
            sql("UPDATE login_throttle SET locked_until = $1, failures = 0, first_failure_at = $2 WHERE throttle_key = $3")
                .bind(now + lockout)
                .bind(now)
                .bind(key),
        )
        .await?;
    }
    tx.commit().await
}

pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    db.execute(sql("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key)).await.map(|_| ())
}

pub fn login_key(login: &str) -> String {
    format!("login:{}", login.trim().to_lowercase())
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}
