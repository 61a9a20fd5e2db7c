//! Account administration from the command line: the first administrator, and password resets.

use super::password;
use crate::org::model::{UnitInput, UnitKind};
use crate::org::store as org;
use crate::people::model::NewPerson;
use crate::people::store as people;
use kernel::auth::Role;
use kernel::db::{Db, sql};
use kernel::web::check;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the org tree is empty: give --root-name and --root-code to create its top unit")]
    NoRoot,
    #[error("the top unit is not valid: {0}")]
    BadRoot(String),
    #[error("the login {0:?} is already taken")]
    LoginTaken(String),
    #[error("no account with login {0:?}")]
    NoSuchLogin(String),
    #[error(transparent)]
    Db(#[from] kernel::db::DbError),
}

/// Creates a region administrator at the top unit (creating it if the tree is empty); returns the unit's name.
pub async fn create_superuser(
    db: &Db,
    login: &str,
    name: &str,
    root_name: Option<&str>,
    root_kind: &str,
    root_code: Option<&str>,
    password_text: &str,
) -> Result<String, AdminError> {
    let hash = password::hash_blocking(password_text);
    let mut tx = db.begin().await?;
    let root = match org::roots(db).await?.into_iter().next() {
        Some(root) => root,
        None => {
            let input = UnitInput {
                kind: root_kind.to_string(),
                name: root_name.ok_or(AdminError::NoRoot)?.to_string(),
                code: root_code.ok_or(AdminError::NoRoot)?.to_string(),
                ..Default::default()
            }
            .normalised();
            if !matches!(UnitKind::parse(&input.kind), Some(UnitKind::Province | UnitKind::City)) {
                return Err(AdminError::BadRoot("--root-kind must be province or city".into()));
            }
            check(&input).map_err(|e| AdminError::BadRoot(format!("{e}")))?;
            let id = org::create(&mut tx, None, &input).await?;
            org::get_in(&mut tx, id).await?.ok_or(AdminError::NoRoot)?
        }
    };
    let person =
        NewPerson { name: name.to_string(), login: Some(login.to_lowercase()), password_hash: Some(hash), ..Default::default() };
    let id = people::create(&mut tx, &person).await.map_err(|e| match e.constraint() {
        Some("people_login_key") => AdminError::LoginTaken(login.to_string()),
        _ => AdminError::Db(e),
    })?;
    let today = kernel::today(480);
    people::assign(&mut tx, id, Role::RegionAdmin, root.id, None, None, today).await?;
    tx.commit().await?;
    Ok(root.name)
}

/// Sets a new password for `login`; every session of the account ends.
pub async fn reset_password(db: &Db, login: &str, password_text: &str) -> Result<(), AdminError> {
    let hash = password::hash_blocking(password_text);
    let now = kernel::now();
    let mut tx = db.begin().await?;
    let person: Option<(i64,)> =
        tx.fetch_optional(sql("SELECT id FROM people WHERE login = $1").bind(login.to_lowercase())).await?;
    let Some((id,)) = person else { return Err(AdminError::NoSuchLogin(login.to_string())) };
    tx.execute(
        sql("UPDATE people SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(id),
    )
    .await?;
    tx.execute(sql("UPDATE sessions SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL").bind(now).bind(id)).await?;
    tx.commit().await?;
    Ok(())
}
