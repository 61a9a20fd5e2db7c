//! Failed-login throttling, kept in the database so every node of a cluster counts together.
//! Keys are `login:<what was typed>` (whether or not such an account exists, so a lockout tells
//! nothing about existence) and `ip:<address>`.

use kernel::db::{Db, DbError, sql};

/// Seconds until the last of `keys` (a login and an address) unlocks, if any is locked.
pub async fn locked_for(db: &Db, keys: &[String]) -> Result<Option<i64>, DbError> {
    let now = kernel::now();
    let first = keys.first().map(String::as_str).unwrap_or("");
    let second = keys.get(1).map(String::as_str).unwrap_or(first);
    let (until,): (Option<i64>,) = db
        .fetch_one(sql("SELECT MAX(locked_until) FROM login_throttle WHERE throttle_key IN ($1, $2)").bind(first).bind(second))
        .await?;
    Ok(until.filter(|u| *u > now).map(|u| u - now))
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
