//! Personal API tokens for scripts: shown once, stored hashed, bound to one of the person's roles,
//! read-only or read-write, expiring and revocable.

use super::actor;
use kernel::App;
use kernel::auth::{Actor, Credential};
use kernel::db::{Db, DbError, sql};
use kernel::web::{Checks, Validate};

/// Tokens start with this, so they are recognisable in logs and secret scanners.
pub const PREFIX: &str = "hlt_";
pub const MAX_DAYS: i64 = 365;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub role_id: i64,
    pub name: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewToken {
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    pub days: i64,
}

impl Validate for NewToken {
    fn validate(&self, v: &mut Checks) {
        v.required("name", &self.name).max_chars("name", &self.name, 60);
        if !["read", "write"].contains(&self.scope.as_str()) {
            v.add("scope", "error-field-malformed");
        }
        if !(1..=MAX_DAYS).contains(&self.days) {
            v.push(kernel::error::FieldError::new("days", "token-error-days").arg("max", MAX_DAYS));
        }
    }
}

/// Creates a token for the actor's current role; returns the token text, shown only now.
pub async fn create(db: &Db, actor: &Actor, input: &NewToken) -> Result<(i64, String), DbError> {
    let token = format!("{PREFIX}{}", kernel::secret::random_token(32));
    let now = kernel::now();
    // Writes go through a transaction: on SQLite, plain reads use the read-only pool.
    let mut tx = db.begin().await?;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO api_tokens (person_id, role_id, name, token_hash, scope, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(actor.person_id)
            .bind(actor.role_id)
            .bind(input.name.trim())
            .bind(kernel::secret::token_hash(&token))
            .bind(input.scope.as_str())
            .bind(now)
            .bind(now + input.days * 86_400),
        )
        .await?;
    tx.commit().await?;
    Ok((id, token))
}

pub async fn list(db: &Db, person_id: i64) -> Result<Vec<ApiToken>, DbError> {
    db.fetch_all(
        sql("SELECT id, role_id, name, scope, created_at, expires_at, last_used_at FROM api_tokens \
             WHERE person_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC")
        .bind(person_id)
        .bind(kernel::now()),
    )
    .await
}

pub async fn revoke(db: &Db, person_id: i64, id: i64) -> Result<bool, DbError> {
    let n = db
        .execute(
            sql("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND person_id = $3 AND revoked_at IS NULL")
                .bind(kernel::now())
                .bind(id)
                .bind(person_id),
        )
        .await?;
    Ok(n > 0)
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    person_id: i64,
    role_id: i64,
    scope: String,
    last_used_at: Option<i64>,
}

/// The actor a bearer token stands for, if it is live.
pub async fn actor_for(app: &App, token: &str) -> Result<Option<Actor>, DbError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let now = kernel::now();
    let row: Option<TokenRow> = app
        .db
        .fetch_optional(
            sql("SELECT id, person_id, role_id, scope, last_used_at FROM api_tokens \
                 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2")
            .bind(kernel::secret::token_hash(token))
            .bind(now),
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    if row.last_used_at.is_none_or(|t| now - t > 60) {
        // In the background, like session activity: never wait for a write lock held by an import.
        let (db, id) = (app.db.clone(), row.id);
        tokio::spawn(async move {
            if let Err(e) = db.execute(sql("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(id)).await {
                tracing::warn!(error = %e, "cannot record token use");
            }
        });
    }
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let credential = Credential::Token { write: row.scope == "write" };
    let actor = actor::load(&app.db, row.person_id, Some(row.role_id), credential, today).await?;
    // A token is bound to its role: if that role has ended, the token no longer works.
    Ok(actor.filter(|a| a.role_id == row.role_id || a.roles.iter().any(|r| r.role_id == row.role_id)))
}
