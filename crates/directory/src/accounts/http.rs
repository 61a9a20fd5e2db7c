//! Pages and API of signing in and of one's own account: login, TOTP, logout, language and role
//! switching, password change, sessions and API tokens.

use super::{SESSION_COOKIE, login, password, sessions, tokens, totp};
use crate::people::store as people;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Credential};
use kernel::db::sql;
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::web::{ApiJson, Checks, CsrfForm, LANG_COOKIE, MaybeActor, PageContext, RequestMeta, Validate, check, set_cookie};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/totp", get(totp_page).post(totp_submit))
        .route("/logout", post(logout_submit))
        .route("/language", post(language_submit))
        .route("/account", get(account_page))
        .route("/account/role", post(role_submit))
        .route("/account/password", post(password_submit))
        .route("/account/sessions/{id}/revoke", post(session_revoke_submit))
        .route("/account/tokens", post(token_create_submit))
        .route("/account/tokens/{id}/revoke", post(token_revoke_submit))
        .route("/account/totp/start", post(totp_start_submit))
        .route("/account/totp/confirm", post(totp_confirm_submit))
        .route("/account/totp/disable", post(totp_disable_submit))
        .route("/api/v1/auth/login", post(api_login))
        .route("/api/v1/auth/totp", post(api_totp))
        .route("/api/v1/auth/logout", post(api_logout))
        .route("/api/v1/me", get(api_me))
        .route("/api/v1/me/role", put(api_set_role))
        .route("/api/v1/me/locale", put(api_set_locale))
        .route("/api/v1/me/password", post(api_password))
        .route("/api/v1/sessions", get(api_sessions))
        .route("/api/v1/sessions/{id}", delete(api_session_revoke))
        .route("/api/v1/tokens", get(api_tokens).post(api_token_create))
        .route("/api/v1/tokens/{id}", delete(api_token_revoke))
        .merge(super::activation::routes())
}

pub(super) fn session_cookie(app: &App, token: &str) -> (axum::http::HeaderName, axum::http::HeaderValue) {
    (SET_COOKIE, set_cookie(app, SESSION_COOKIE, token, Some(app.config.session.absolute_hours * 3600)))
}

fn clear_session_cookie(app: &App) -> (axum::http::HeaderName, axum::http::HeaderValue) {
    (SET_COOKIE, set_cookie(app, SESSION_COOKIE, "", Some(0)))
}

/// Only same-site paths are followed after login, never another host.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next } else { "/" }
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

impl Validate for LoginForm {
    fn validate(&self, v: &mut Checks) {
        v.required("login", &self.login).max_chars("login", &self.login, 100);
        v.required("password", &self.password).max_chars("password", &self.password, 128);
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    ctx: &'a PageContext,
    login: &'a str,
    next: &'a str,
    error: Option<String>,
    field_errors: Vec<FieldError>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn login_page(ctx: PageContext, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    if ctx.actor.is_some() {
        return Ok(Redirect::to(safe_next(&q.next)).into_response());
    }
    let page = LoginPage { ctx: &ctx, login: "", next: &q.next, error: None, field_errors: vec![] };
    Ok(ctx.render(&ctx.t("login-title"), &page)?.into_response())
}

async fn login_submit(
    State(app): State<App>,
    ctx: PageContext,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let render_error = |error: Option<String>, field_errors: Vec<FieldError>, status| -> Result<Response, AppError> {
        let page = LoginPage { ctx: &ctx, login: &form.login, next: &form.next, error, field_errors };
        Ok((status, ctx.render(&ctx.t("login-title"), &page)?).into_response())
    };
    let mut checks = Checks::default();
    form.validate(&mut checks);
    if !checks.errors.is_empty() {
        return render_error(None, checks.errors, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    match login::login(&app, &meta, &form.login, &form.password).await {
        Ok(done) => {
            let to = if done.second_factor_required {
                format!("/login/totp?next={}", kernel::web::urlencode(safe_next(&form.next)))
            } else if done.password_expired {
                "/account?expired=1#password".to_string()
            } else {
                safe_next(&form.next).to_string()
            };
            Ok(([session_cookie(&app, &done.token)], Redirect::to(&to)).into_response())
        }
        Err(e @ (AppError::InvalidCredentials | AppError::Locked { .. } | AppError::Busy { .. })) => {
            let mut args = vec![];
            if let Some(s) = e.retry_after() {
                args.push(("minutes", ((s + 59) / 60).max(1).to_string()));
                args.push(("seconds", s.to_string()));
            }
            let message = ctx.t_args(e.key(), &args);
            render_error(Some(message), vec![], e.status())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "totp_login.html")]
pub(crate) struct TotpLoginPage<'a> {
    ctx: &'a PageContext,
    next: &'a str,
    error: Option<String>,
}

fn pending(req_ext: &axum::http::Extensions) -> Result<sessions::PendingSecondFactor, AppError> {
    req_ext.get::<sessions::PendingSecondFactor>().cloned().ok_or(AppError::Unauthenticated)
}

async fn totp_page(ctx: PageContext, ext: axum::http::Extensions, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    pending(&ext)?;
    let page = TotpLoginPage { ctx: &ctx, next: &q.next, error: None };
    Ok(ctx.render(&ctx.t("totp-title"), &page)?.into_response())
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

impl Validate for CodeForm {
    fn validate(&self, v: &mut Checks) {
        v.required("code", &self.code).max_chars("code", &self.code, 10);
    }
}

/// Checks a TOTP code for a pending session; wrong codes count as failed logins.
async fn complete_totp(app: &App, meta: &RequestMeta, p: &sessions::PendingSecondFactor, code: &str) -> Result<(), AppError> {
    let key = format!("totp:{}", p.person_id);
    if let Some(retry_after) = super::throttle::locked_for(&app.db, std::slice::from_ref(&key)).await? {
        return Err(AppError::Locked { retry_after });
    }
    let (secret,): (Option<String>,) =
        app.db.fetch_one(sql("SELECT totp_secret FROM people WHERE id = $1").bind(p.person_id)).await?;
    if secret.is_some_and(|s| totp::verify(&s, code, kernel::now())) {
        super::throttle::clear(&app.db, &key).await?;
        sessions::complete_second_factor(&app.db, p.session_id).await?;
        Ok(())
    } else {
        let cfg = &app.config.login;
        super::throttle::record_failure(&app.db, &key, cfg.max_failures, cfg.lockout_minutes * 60).await?;
        let _ = meta;
        Err(AppError::invalid("code", "totp-error-code"))
    }
}

async fn totp_submit(
    State(app): State<App>,
    ctx: PageContext,
    meta: RequestMeta,
    ext: axum::http::Extensions,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    let p = pending(&ext)?;
    match complete_totp(&app, &meta, &p, &form.code).await {
        Ok(()) => Ok(Redirect::to(safe_next(&form.next)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let error = ctx.field_error(&errors, "code");
            let page = TotpLoginPage { ctx: &ctx, next: &form.next, error };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, ctx.render(&ctx.t("totp-title"), &page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn end_session(app: &App, actor: &Actor) -> Result<(), AppError> {
    if let Some(id) = actor.session_id {
        sessions::revoke(&app.db, actor.person_id, id).await?;
    }
    app.actors.forget_person(actor.person_id);
    Ok(())
}

async fn logout_submit(
    State(app): State<App>,
    actor: Actor,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    end_session(&app, &actor).await?;
    Ok(([clear_session_cookie(&app)], Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LanguageForm {
    locale: String,
    #[serde(default)]
    back: String,
}

async fn save_locale(app: &App, actor: Option<&Actor>, locale: Locale) -> Result<(), AppError> {
    if let Some(a) = actor {
        app.db.execute(sql("UPDATE people SET locale = $1 WHERE id = $2").bind(locale.tag()).bind(a.person_id)).await?;
        app.actors.forget_person(a.person_id);
    }
    Ok(())
}

async fn language_submit(
    State(app): State<App>,
    MaybeActor(actor): MaybeActor,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<Response, AppError> {
    let locale = Locale::parse(&form.locale).ok_or_else(|| AppError::invalid("locale", "error-field-malformed"))?;
    save_locale(&app, actor.as_ref(), locale).await?;
    let cookie = (SET_COOKIE, set_cookie(&app, LANG_COOKIE, locale.tag(), Some(365 * 86_400)));
    Ok(([cookie], Redirect::to(safe_next(&form.back))).into_response())
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    role_id: i64,
}

async fn switch_role(app: &App, actor: &Actor, role_id: i64) -> Result<(), AppError> {
    let Some(session_id) = actor.session_id else { return Err(AppError::Forbidden) };
    if !actor.roles.iter().any(|r| r.role_id == role_id) {
        return Err(AppError::invalid("role_id", "account-error-role"));
    }
    sessions::set_role(&app.db, session_id, role_id).await?;
    app.actors.forget_person(actor.person_id);
    Ok(())
}

async fn role_submit(State(app): State<App>, actor: Actor, CsrfForm(form): CsrfForm<RoleForm>) -> Result<Response, AppError> {
    switch_role(&app, &actor, form.role_id).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "account.html")]
pub(crate) struct AccountPage<'a> {
    ctx: &'a PageContext,
    actor: &'a Actor,
    login: Option<String>,
    notice: Option<String>,
    errors: Vec<FieldError>,
    sessions: Vec<sessions::Session>,
    tokens: Vec<tokens::ApiToken>,
    new_token: Option<String>,
    totp_enabled: bool,
    totp_setup: Option<(String, String)>,
    may_use_totp: bool,
    password_expired: bool,
}

impl AccountPage<'_> {
    fn is_current(&self, id: &i64) -> bool {
        self.actor.session_id == Some(*id)
    }

    fn device(&self, user_agent: &str) -> String {
        super::sessions::device_of(user_agent)
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct AccountQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    expired: String,
}

pub(crate) struct AccountExtras {
    notice: Option<String>,
    errors: Vec<FieldError>,
    new_token: Option<String>,
    totp_setup: Option<(String, String)>,
    password_expired: bool,
}

async fn render_account(app: &App, ctx: &PageContext, actor: &Actor, extras: AccountExtras) -> Result<Response, AppError> {
    let (login_name, totp_enabled): (Option<String>, bool) =
        app.db.fetch_one(sql("SELECT login, totp_enabled FROM people WHERE id = $1").bind(actor.person_id)).await?;
    let page = AccountPage {
        ctx,
        actor,
        login: login_name,
        notice: extras.notice,
        errors: extras.errors,
        sessions: sessions::list(&app.db, actor.person_id).await?,
        tokens: tokens::list(&app.db, actor.person_id).await?,
        new_token: extras.new_token,
        totp_enabled,
        totp_setup: extras.totp_setup,
        may_use_totp: actor.roles.iter().any(|r| r.role.is_admin() || r.role == kernel::auth::Role::Auditor),
        password_expired: extras.password_expired,
    };
    Ok(ctx.render(&ctx.t("account-title"), &page)?.into_response())
}

async fn account_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "password" => Some(ctx.t("account-done-password")),
        "session" => Some(ctx.t("account-done-session")),
        "token" => Some(ctx.t("account-done-token-revoked")),
        "totp-on" => Some(ctx.t("account-done-totp-on")),
        "totp-off" => Some(ctx.t("account-done-totp-off")),
        _ => None,
    };
    let extras = AccountExtras { notice, errors: vec![], new_token: None, totp_setup: None, password_expired: q.expired == "1" };
    render_account(&app, &ctx, &actor, extras).await
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

impl Validate for PasswordForm {
    fn validate(&self, v: &mut Checks) {
        v.required("current_password", &self.current_password).max_chars("current_password", &self.current_password, 128);
        v.required("new_password", &self.new_password);
        if self.new_password != self.confirm_password {
            v.add("confirm_password", "password-error-mismatch");
        }
    }
}

/// Changes the actor's own password after checking the current one; other sessions are signed out.
async fn change_password(app: &App, actor: &Actor, meta: &RequestMeta, form: &PasswordForm) -> Result<(), AppError> {
    check(form)?;
    let (login_name, stored): (Option<String>, Option<String>) =
        app.db.fetch_one(sql("SELECT login, password_hash FROM people WHERE id = $1").bind(actor.person_id)).await?;
    let policy = password::check_policy(&app.config.password, &form.new_password, login_name.as_deref());
    if !policy.is_empty() {
        return Err(AppError::Invalid(policy));
    }
    if !password::verify(password::slot(app).await?, form.current_password.clone(), stored).await? {
        return Err(AppError::invalid("current_password", "password-error-current"));
    }
    let hash = password::hash(app, form.new_password.clone()).await?;
    let mut tx = app.db.begin().await?;
    tx.execute(
        sql("UPDATE people SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(kernel::now())
            .bind(actor.person_id),
    )
    .await?;
    tx.execute(
        sql("UPDATE sessions SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)")
            .bind(kernel::now())
            .bind(actor.person_id)
            .bind(actor.session_id),
    )
    .await?;
    audit::record(&mut tx, &self_entry(actor, meta, "password_change")).await?;
    tx.commit().await?;
    app.actors.forget_person(actor.person_id);
    Ok(())
}

fn self_entry(actor: &Actor, meta: &RequestMeta, action: &'static str) -> Entry {
    Entry::by(actor, meta, action, "account", actor.person_id, actor.name.clone(), actor.unit_path.clone())
}

async fn password_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    match change_password(&app, &actor, &meta, &form).await {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(AppError::Invalid(errors)) => {
            let extras = AccountExtras { notice: None, errors, new_token: None, totp_setup: None, password_expired: false };
            render_account(&app, &ctx, &actor, extras).await
        }
        Err(e) => Err(e),
    }
}

async fn session_revoke_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    if !sessions::revoke(&app.db, actor.person_id, id).await? {
        return Err(AppError::NotFound);
    }
    app.actors.forget_person(actor.person_id);
    if actor.session_id == Some(id) {
        return Ok(([clear_session_cookie(&app)], Redirect::to("/login")).into_response());
    }
    Ok(Redirect::to("/account?done=session#sessions").into_response())
}

/// Tokens are made with a signed-in session, never with another token.
fn session_only(actor: &Actor) -> Result<(), AppError> {
    if actor.credential == Credential::Session { Ok(()) } else { Err(AppError::Forbidden) }
}

async fn token_create_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(form): CsrfForm<tokens::NewToken>,
) -> Result<Response, AppError> {
    let extras = match check(&form) {
        Ok(()) => {
            let (_, token) = tokens::create(&app.db, &actor, &form).await?;
            AccountExtras { notice: None, errors: vec![], new_token: Some(token), totp_setup: None, password_expired: false }
        }
        Err(AppError::Invalid(errors)) => {
            AccountExtras { notice: None, errors, new_token: None, totp_setup: None, password_expired: false }
        }
        Err(e) => return Err(e),
    };
    render_account(&app, &ctx, &actor, extras).await
}

async fn token_revoke_submit(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    if !tokens::revoke(&app.db, actor.person_id, id).await? {
        return Err(AppError::NotFound);
    }
    app.actors.forget_person(actor.person_id);
    Ok(Redirect::to("/account?done=token#tokens").into_response())
}

fn may_use_totp(actor: &Actor) -> Result<(), AppError> {
    if actor.roles.iter().any(|r| r.role.is_admin() || r.role == kernel::auth::Role::Auditor) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn totp_start_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    may_use_totp(&actor)?;
    let secret = totp::new_secret();
    // The secret is stored now but only takes effect once a code from it is confirmed.
    app.db
        .execute(
            sql("UPDATE people SET totp_secret = $1 WHERE id = $2 AND totp_enabled = FALSE")
                .bind(secret.as_str())
                .bind(actor.person_id),
        )
        .await?;
    let uri = totp::uri(&secret, &actor.name);
    let extras =
        AccountExtras { notice: None, errors: vec![], new_token: None, totp_setup: Some((secret, uri)), password_expired: false };
    render_account(&app, &ctx, &actor, extras).await
}

async fn totp_confirm_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    may_use_totp(&actor)?;
    let (secret,): (Option<String>,) =
        app.db.fetch_one(sql("SELECT totp_secret FROM people WHERE id = $1").bind(actor.person_id)).await?;
    let Some(secret) = secret.filter(|s| totp::verify(s, &form.code, kernel::now())) else {
        let errors = vec![FieldError::new("code", "totp-error-code")];
        let extras = AccountExtras { notice: None, errors, new_token: None, totp_setup: None, password_expired: false };
        return render_account(&app, &ctx, &actor, extras).await;
    };
    let _ = secret;
    let mut tx = app.db.begin().await?;
    tx.execute(sql("UPDATE people SET totp_enabled = TRUE WHERE id = $1").bind(actor.person_id)).await?;
    // This session proved the factor just now; it stays signed in.
    if let Some(id) = actor.session_id {
        tx.execute(sql("UPDATE sessions SET second_factor = TRUE WHERE id = $1").bind(id)).await?;
    }
    audit::record(&mut tx, &self_entry(&actor, &meta, "totp_enable")).await?;
    tx.commit().await?;
    app.actors.forget_person(actor.person_id);
    Ok(Redirect::to("/account?done=totp-on#totp").into_response())
}

async fn totp_disable_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    let mut tx = app.db.begin().await?;
    tx.execute(sql("UPDATE people SET totp_enabled = FALSE, totp_secret = NULL WHERE id = $1").bind(actor.person_id)).await?;
    audit::record(&mut tx, &self_entry(&actor, &meta, "totp_disable")).await?;
    tx.commit().await?;
    app.actors.forget_person(actor.person_id);
    Ok(Redirect::to("/account?done=totp-off#totp").into_response())
}

// ---- JSON API ----

#[derive(Deserialize)]
pub(crate) struct LoginBody {
    login: String,
    password: String,
}

impl Validate for LoginBody {
    fn validate(&self, v: &mut Checks) {
        v.required("login", &self.login).max_chars("login", &self.login, 100);
        v.required("password", &self.password).max_chars("password", &self.password, 128);
    }
}

fn me_json(actor: &Actor) -> serde_json::Value {
    json!({
        "id": actor.person_id,
        "name": actor.name,
        "locale": actor.locale.map(|l| l.tag()),
        "role": {
            "id": actor.role_id,
            "role": actor.role,
            "unit_id": actor.unit_id,
            "unit_name": actor.unit_name,
            "scope": actor.unit_name,
            "class_ids": actor.class_ids,
            "head_class_ids": actor.head_class_ids,
            "child_ids": actor.child_ids,
        },
        "roles": actor.roles.iter().map(|r| json!({
            "id": r.role_id,
            "role": r.role,
            "scope": r.class_name.clone().map(|c| format!("{} {c}", r.unit_name)).unwrap_or_else(|| r.unit_name.clone()),
            "unit_name": r.unit_name,
            "class_name": r.class_name,
        })).collect::<Vec<_>>(),
    })
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", summary = "Sign in with login (account name, phone, student or staff number) and password; sets the session cookie", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "LoginBody"), responses((status = 200, description = "signed in: the person, and whether a TOTP code is still required"), (status = 401, description = "invalid_credentials"), (status = 422, description = "invalid input"), (status = 429, description = "locked (too many failures) or busy (hashing pool full); see Retry-After")))]
pub(crate) async fn api_login(
    State(app): State<App>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, AppError> {
    let done = login::login(&app, &meta, &body.login, &body.password).await?;
    let person = people::get(&app.db, done.person_id).await?.ok_or(AppError::NotFound)?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let actor = super::actor::load(&app.db, done.person_id, None, Credential::Session, today).await?;
    let body = json!({
        "person": { "id": person.id, "name": person.name },
        "second_factor_required": done.second_factor_required,
        "password_expired": done.password_expired,
        "me": if done.second_factor_required { serde_json::Value::Null } else { actor.as_ref().map(me_json).unwrap_or_default() },
    });
    Ok(([session_cookie(&app, &done.token)], Json(body)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct TotpBody {
    code: String,
}

impl Validate for TotpBody {
    fn validate(&self, v: &mut Checks) {
        v.required("code", &self.code).max_chars("code", &self.code, 10);
    }
}

#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", summary = "Complete a sign-in that needs a TOTP code", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "TotpBody"), responses((status = 200, description = "second factor accepted"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_totp(
    State(app): State<App>,
    meta: RequestMeta,
    req_parts: axum::http::Extensions,
    ApiJson(body): ApiJson<TotpBody>,
) -> Result<Response, AppError> {
    let p = pending(&req_parts)?;
    complete_totp(&app, &meta, &p, &body.code).await?;
    Ok(Json(json!({ "ok": true })).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", summary = "End the current session", responses((status = 200, description = "signed out"), (status = 401, description = "not signed in (or the token is not valid)")))]
pub(crate) async fn api_logout(State(app): State<App>, actor: Actor) -> Result<Response, AppError> {
    end_session(&app, &actor).await?;
    Ok(([clear_session_cookie(&app)], Json(json!({ "ok": true }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me", summary = "The signed-in person with their active role and every role they can switch to", responses((status = 200, description = "the person"), (status = 401, description = "not signed in (or the token is not valid)")))]
pub(crate) async fn api_me(actor: Actor) -> Json<serde_json::Value> {
    Json(me_json(&actor))
}

#[derive(Deserialize)]
pub(crate) struct RoleBody {
    role_id: i64,
}

impl Validate for RoleBody {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(put, path = "/api/v1/me/role", tag = "me", summary = "Switch the session to another of the person's roles", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "RoleBody"), responses((status = 200, description = "switched"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_set_role(
    State(app): State<App>,
    actor: Actor,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Response, AppError> {
    switch_role(&app, &actor, body.role_id).await?;
    Ok(Json(json!({ "ok": true })).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LocaleBody {
    locale: String,
}

impl Validate for LocaleBody {
    fn validate(&self, v: &mut Checks) {
        if Locale::parse(&self.locale).is_none() {
            v.add("locale", "error-field-malformed");
        }
    }
}

#[utoipa::path(put, path = "/api/v1/me/locale", tag = "me", summary = "Save the person's language (zh-CN or en)", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "LocaleBody"), responses((status = 200, description = "saved"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_set_locale(
    State(app): State<App>,
    actor: Actor,
    ApiJson(body): ApiJson<LocaleBody>,
) -> Result<Response, AppError> {
    let locale = Locale::parse(&body.locale).ok_or_else(|| AppError::invalid("locale", "error-field-malformed"))?;
    save_locale(&app, Some(&actor), locale).await?;
    Ok(Json(json!({ "locale": locale.tag() })).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PasswordBody {
    current_password: String,
    new_password: String,
}

impl Validate for PasswordBody {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", summary = "Change one's password (ends every other session)", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "PasswordBody"), responses((status = 200, description = "changed"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_password(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, AppError> {
    session_only(&actor)?;
    let form = PasswordForm {
        current_password: body.current_password,
        confirm_password: body.new_password.clone(),
        new_password: body.new_password,
    };
    change_password(&app, &actor, &meta, &form).await?;
    Ok(Json(json!({ "ok": true })).into_response())
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "me", summary = "The person's live sessions", responses((status = 200, description = "sessions"), (status = 401, description = "not signed in (or the token is not valid)")))]
pub(crate) async fn api_sessions(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let list = sessions::list(&app.db, actor.person_id).await?;
    Ok(Json(json!({
        "sessions": list.iter().map(|s| json!({
            "id": s.id, "ip": s.ip, "user_agent": s.user_agent, "created_at": s.created_at,
            "last_seen_at": s.last_seen_at, "expires_at": s.expires_at, "current": actor.session_id == Some(s.id),
        })).collect::<Vec<_>>()
    })))
}

#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "me", summary = "Revoke one of the person's sessions", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "revoked"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 404, description = "no such record")))]
pub(crate) async fn api_session_revoke(State(app): State<App>, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !sessions::revoke(&app.db, actor.person_id, id).await? {
        return Err(AppError::NotFound);
    }
    app.actors.forget_person(actor.person_id);
    Ok(Json(json!({ "ok": true })).into_response())
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "me", summary = "The person's personal API tokens (without their secrets)", responses((status = 200, description = "tokens"), (status = 401, description = "not signed in (or the token is not valid)")))]
pub(crate) async fn api_tokens(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "tokens": tokens::list(&app.db, actor.person_id).await? })))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "me", summary = "Create a personal API token for the active role; the token is shown only in this answer", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "NewToken"), responses((status = 201, description = "created"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_token_create(
    State(app): State<App>,
    actor: Actor,
    ApiJson(body): ApiJson<tokens::NewToken>,
) -> Result<Response, AppError> {
    session_only(&actor)?;
    let (id, token) = tokens::create(&app.db, &actor, &body).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "id": id, "token": token, "scope": body.scope }))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "me", summary = "Revoke a personal API token", params(("id" = i64, Path, description = "record id")), responses((status = 200, description = "revoked"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 404, description = "no such record")))]
pub(crate) async fn api_token_revoke(State(app): State<App>, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !tokens::revoke(&app.db, actor.person_id, id).await? {
        return Err(AppError::NotFound);
    }
    app.actors.forget_person(actor.person_id);
    Ok(Json(json!({ "ok": true })).into_response())
}
