//! Password login: throttled per typed login and per address, one answer whether or not the account
//! exists, and every attempt audited.

use super::{password, sessions, throttle};
use kernel::audit::{self, Entry, Outcome};
use kernel::db::sql;
use kernel::web::RequestMeta;
use kernel::{App, AppError};

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    name: String,
    password_hash: Option<String>,
    status: String,
    password_changed_at: Option<i64>,
    scope_path: Option<String>,
}

pub struct LoggedIn {
    pub person_id: i64,
    pub token: String,
    /// The person must still enter a TOTP code before the session is usable.
    pub second_factor_required: bool,
    /// The 等保 rotation period has passed: the person should change their password now.
    pub password_expired: bool,
}

/// Signs in by account name, phone, student number or staff number.
pub async fn login(app: &App, meta: &RequestMeta, login: &str, password_text: &str) -> Result<LoggedIn, AppError> {
    let login = login.trim();
    let keys = [throttle::login_key(login), throttle::ip_key(&meta.ip)];
    let slot = password::slot(app).await?;
    if let Some(retry_after) = throttle::locked_for(&app.db, &keys).await? {
        audit_attempt(app, meta, None, login, "/", Outcome::Failure, "login_locked").await;
        return Err(AppError::Locked { retry_after });
    }
    let candidate: Option<Candidate> = app
        .db
        .fetch_optional(
            sql("SELECT p.id, p.name, p.password_hash, p.status, p.password_changed_at, \
                   (SELECT u.path FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                      WHERE r.person_id = p.id ORDER BY r.ends_on IS NULL DESC, r.id LIMIT 1) AS scope_path \
                 FROM people p WHERE p.login = $2 OR p.phone = $1 OR p.student_number = $3 OR p.staff_number = $1 \
                 ORDER BY CASE WHEN p.login = $2 THEN 0 WHEN p.staff_number = $1 THEN 1 WHEN p.student_number = $3 THEN 2 ELSE 3 END \
                 LIMIT 1")
            .bind(login)
            .bind(login.to_lowercase())
            .bind(login.to_uppercase()),
        )
        .await?;
    let stored = candidate.as_ref().filter(|c| c.status == "active").and_then(|c| c.password_hash.clone());
    let ok = password::verify(slot, password_text.to_string(), stored).await?;
    let scope = candidate.as_ref().and_then(|c| c.scope_path.clone()).unwrap_or_else(|| "/".into());
    let Some(person) = candidate.filter(|_| ok) else {
        let cfg = &app.config.login;
        throttle::record_failure(&app.db, &keys[0], cfg.max_failures, cfg.lockout_minutes * 60).await?;
        throttle::record_failure(&app.db, &keys[1], cfg.max_failures_per_ip, cfg.lockout_minutes * 60).await?;
        audit_attempt(app, meta, None, login, &scope, Outcome::Failure, "login").await;
        return Err(AppError::InvalidCredentials);
    };
    throttle::clear(&app.db, &keys[0]).await?;
    let (totp_on,): (bool,) = app.db.fetch_one(sql("SELECT totp_enabled FROM people WHERE id = $1").bind(person.id)).await?;
    let mut tx = app.db.begin().await?;
    let token = sessions::create(&mut tx, app, person.id, meta, !totp_on).await?;
    // The first sign-in of an account given a password (not an activation code) activates it.
    let first = tx
        .execute(
            sql("UPDATE people SET activated_at = $1 WHERE id = $2 AND activated_at IS NULL").bind(kernel::now()).bind(person.id),
        )
        .await?;
    if first > 0 {
        let schools = crate::org::counts::schools_of_person(&mut tx, person.id).await?;
        let year = crate::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
        crate::org::counts::refresh(&mut tx, &schools, year).await?;
    }
    audit::record(&mut tx, &entry(meta, Some((person.id, &person.name)), login, &scope, Outcome::Success, "login")).await?;
    tx.commit().await?;
    let rotation = app.config.password.rotation_days;
    let password_expired = rotation > 0 && person.password_changed_at.is_none_or(|t| kernel::now() - t > rotation * 86_400);
    Ok(LoggedIn { person_id: person.id, token, second_factor_required: totp_on, password_expired })
}

fn entry(
    meta: &RequestMeta,
    who: Option<(i64, &str)>,
    login: &str,
    scope: &str,
    outcome: Outcome,
    action: &'static str,
) -> Entry {
    Entry {
        actor_id: who.map(|w| w.0),
        actor_name: who.map(|w| w.1.to_string()).unwrap_or_else(|| login.chars().take(100).collect()),
        ip: meta.ip.clone(),
        action,
        outcome,
        target_type: "account",
        target_id: who.map(|w| w.0),
        target_name: login.chars().take(100).collect(),
        scope_path: scope.to_string(),
        before: None,
        after: None,
    }
}

/// Failed attempts are audited on their own: there is no transaction to join.
async fn audit_attempt(
    app: &App,
    meta: &RequestMeta,
    who: Option<(i64, &str)>,
    login: &str,
    scope: &str,
    outcome: Outcome,
    action: &'static str,
) {
    if let Err(e) = audit::record_alone(&app.db, &entry(meta, who, login, scope, outcome, action)).await {
        tracing::error!(error = %e, "cannot write audit entry");
    }
}
