//! Activation codes: the first login of an imported account.
//!
//! Imported people get no shared default password. A head teacher or an admin prints a class's
//! codes as slips (a page or an XLSX file); the person types their account and code on /activate,
//! sets a password and is signed in. Each person has at most one live code: issuing a new one
//! replaces (and so voids) the old one, and activation deletes it. Only a hash of a code is stored.

use super::http::session_cookie;
use super::{password, sessions, throttle};
use crate::classes::http::visible_class;
use crate::org::counts;
use crate::people::http::visible_person;
use crate::people::model::Person;
use crate::people::store as people;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::audit::{self, Entry, Outcome};
use kernel::auth::{Actor, Capability, Role};
use kernel::db::{Tx, sql};
use kernel::error::FieldError;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/activate", get(activate_page).post(activate_submit))
        .route("/activate/password", post(password_submit))
        .route("/classes/{id}/activation-slips", post(class_slips_submit))
        .route("/people/{id}/activation-code", post(person_code_submit))
        .route("/api/v1/classes/{id}/activation-codes", post(api_issue))
}

// ---- Codes ----

/// Crockford's base32 without 0 and 1 as well: nothing on a slip can be misread (0/O, 1/I/L, U/V).
const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 10;

/// A new code: 10 symbols of 30 from the operating system's random source, about 49 bits.
pub fn new_code() -> String {
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        for b in kernel::secret::random_bytes::<16>() {
            // 240 = 8 × 30: dropping the 16 highest byte values keeps every symbol equally likely.
            if b < 240 && code.len() < CODE_LEN {
                code.push(char::from(ALPHABET[usize::from(b % 30)]));
            }
        }
    }
    code
}

/// A code as printed: two groups of five, `ABCDE-FGHJK`.
pub fn grouped(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// Full-width forms (a Chinese input method's default) and the dashes people type for "-".
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' => '-',
        _ => c,
    }
}

/// What was typed, without spaces and in half-width forms: the account as login matches it.
fn typed(input: &str) -> String {
    input.chars().map(half_width).filter(|c| !c.is_whitespace()).collect()
}

/// The code as typed, in any case, with or without the dash; None if it cannot be a code.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = typed(input).chars().filter(|c| *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// SHA-256, not Argon2: a code is looked up by its hash, so the hash must be deterministic, and a
/// fast one suffices because codes are random (not chosen by people), expire, are used once, and
/// can only be tried online, where the login throttle allows a handful of guesses per account.
fn code_hash(code: &str) -> String {
    kernel::secret::token_hash(code)
}

/// Replaces the person's code; returns the new code, which exists nowhere else after this request.
async fn store_code(tx: &mut Tx, person_id: i64, issued_by: i64, expires_at: i64) -> Result<String, AppError> {
    let code = new_code();
    // A clash of two codes' hashes (about 1 in 10^14 per pair) fails the unique index and the
    // whole request; issuing again draws fresh codes.
    tx.execute(
        sql(
            "INSERT INTO activation_codes (person_id, code_hash, issued_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (person_id) DO UPDATE SET code_hash = excluded.code_hash, issued_by = excluded.issued_by, \
               created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(person_id)
        .bind(code_hash(&code))
        .bind(issued_by)
        .bind(kernel::now())
        .bind(expires_at),
    )
    .await?;
    Ok(code)
}

// ---- Issuing ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Students,
    Parents,
    All,
}

impl Audience {
    fn students(self) -> bool {
        matches!(self, Audience::Students | Audience::All)
    }

    fn parents(self) -> bool {
        matches!(self, Audience::Parents | Audience::All)
    }
}

/// One printed slip: who, where, how to log in, and the code.
pub struct Slip {
    pub person_id: i64,
    pub name: String,
    pub role: Role,
    /// For parents: the children (in this class) whose parent they are.
    pub children: Vec<String>,
    pub school: String,
    pub class_name: String,
    pub account: String,
    /// Grouped for reading, `ABCDE-FGHJK`.
    pub code: String,
    pub expires_at: i64,
}

/// The codes issued by one request.
pub struct Batch {
    /// The class (or person) they were issued for: the page's title and the file's name.
    pub label: String,
    pub back_href: String,
    pub slips: Vec<Slip>,
    /// Already activated: they need no code and got none.
    pub skipped: usize,
    /// No login, phone, student or staff number: they could not log in, so they got no code.
    pub no_account: usize,
}

/// A person of the class (a student, or a parent of one) as issuing sees them.
#[derive(sqlx::FromRow)]
struct Member {
    #[sqlx(flatten)]
    person: Person,
    activated_at: Option<i64>,
    /// The student themself, or the child through whom a parent belongs to the class.
    student_id: i64,
}

const MEMBER_COLUMNS: &str = "p.id, p.name, p.gender, p.login, p.phone, p.student_number, p.staff_number, p.locale, \
     p.status, p.created_at, p.activated_at";

/// The account printed on a slip: what the person is told to log in with. Phones are masked; the
/// parent knows their own number.
fn account_of(p: &Person, role: Role) -> Option<String> {
    let preferred = match role {
        Role::Student => p.student_number.clone(),
        Role::Parent => p.masked_phone(),
        _ => None,
    };
    preferred
        .or_else(|| p.login.clone())
        .or_else(|| p.staff_number.clone())
        .or_else(|| p.student_number.clone())
        .or_else(|| p.masked_phone())
}

/// Issues codes for the current, not yet activated students of a class and/or their parents, in
/// one transaction with one audit entry.
pub async fn issue_for_class(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    class_id: i64,
    audience: Audience,
    locale: kernel::i18n::Locale,
) -> Result<Batch, AppError> {
    // Manage on the class: admins whose scope holds its school, and its own head teacher.
    let (class, school_path) = visible_class(app, actor, class_id, Capability::Manage).await?;
    let school = crate::org::store::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = crate::calendar::store::school_year(&app.db, today).await?;
    let class_name = class.display_name(school_year, locale);
    let expires_at = kernel::now() + app.config.activation.code_days * 86_400;
    let students_of_class = "SELECT person_id FROM role_assignments WHERE class_id = $1 AND role = 'student' \
         AND starts_on <= $2 AND (ends_on IS NULL OR ends_on > $2)";
    let mut tx = app.db.begin().await?;
    let students: Vec<Member> = tx
        .fetch_all(
            sql(format!(
                "SELECT {MEMBER_COLUMNS}, p.id AS student_id FROM people p \
                 WHERE p.status = 'active' AND p.id IN ({students_of_class}) ORDER BY p.id"
            ))
            .bind(class_id)
            .bind(today),
        )
        .await?;
    let parents: Vec<Member> = if audience.parents() {
        tx.fetch_all(
            sql(format!(
                "SELECT {MEMBER_COLUMNS}, g.student_id FROM guardianships g JOIN people p ON p.id = g.parent_id \
                 WHERE p.status = 'active' AND g.student_id IN ({students_of_class}) ORDER BY g.student_id, g.id"
            ))
            .bind(class_id)
            .bind(today),
        )
        .await?
    } else {
        Vec::new()
    };
    // Each student followed by their parents, so slips can be handed out in one pass; a parent of
    // two children in the class gets one slip, naming both.
    let mut chosen: Vec<(&Member, Role, Vec<String>)> = Vec::new();
    for s in &students {
        if audience.students() {
            chosen.push((s, Role::Student, Vec::new()));
        }
        for p in parents.iter().filter(|p| p.student_id == s.person.id) {
            match chosen.iter_mut().find(|(c, role, _)| *role == Role::Parent && c.person.id == p.person.id) {
                Some((_, _, children)) => children.push(s.person.name.clone()),
                None => chosen.push((p, Role::Parent, vec![s.person.name.clone()])),
            }
        }
    }
    let mut batch = Batch {
        label: class_name.clone(),
        back_href: format!("/classes/{class_id}"),
        slips: Vec::new(),
        skipped: 0,
        no_account: 0,
    };
    for (m, role, children) in chosen {
        if m.activated_at.is_some() {
            batch.skipped += 1;
            continue;
        }
        let Some(account) = account_of(&m.person, role) else {
            batch.no_account += 1;
            continue;
        };
        let code = store_code(&mut tx, m.person.id, actor.person_id, expires_at).await?;
        batch.slips.push(Slip {
            person_id: m.person.id,
            name: m.person.name.clone(),
            role,
            children,
            school: school.name.clone(),
            class_name: class_name.clone(),
            account,
            code: grouped(&code),
            expires_at,
        });
    }
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "activation_codes_issue", "class", class.id, class_name, school_path).after(json!({
            "audience": audience,
            "issued": batch.slips.iter().map(|s| s.person_id).collect::<Vec<_>>(),
            "skipped": batch.skipped,
            "no_account": batch.no_account,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(batch)
}

/// Issues a new code for one person (voiding their old one), for an admin who manages them.
pub async fn issue_for_person(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    person_id: i64,
    locale: kernel::i18n::Locale,
) -> Result<Batch, AppError> {
    let (person, all) = visible_person(app, actor, person_id, Capability::Manage).await?;
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let current: Vec<_> = all.iter().filter(|a| a.is_current(today)).collect();
    // Slips name the person's place by their student role, else their parent role, else any.
    let place = current
        .iter()
        .find(|a| a.role() == Role::Student)
        .or_else(|| current.iter().find(|a| a.role() == Role::Parent))
        .or_else(|| current.first())
        .ok_or(AppError::Forbidden)?;
    let role = place.role();
    let class_name = match place.class_id {
        Some(c) => {
            let school_year = crate::calendar::store::school_year(&app.db, today).await?;
            crate::classes::store::get(&app.db, c).await?.map(|c| c.display_name(school_year, locale)).unwrap_or_default()
        }
        None => String::new(),
    };
    let children = if role == Role::Parent {
        people::children_of(&app.db, person_id).await?.into_iter().map(|c| c.name).collect()
    } else {
        Vec::new()
    };
    let mut batch = Batch {
        label: person.name.clone(),
        back_href: format!("/people/{person_id}"),
        slips: Vec::new(),
        skipped: 0,
        no_account: 0,
    };
    let mut tx = app.db.begin().await?;
    let (activated_at, status): (Option<i64>, String) =
        tx.fetch_one(sql("SELECT activated_at, status FROM people WHERE id = $1").bind(person_id)).await?;
    if activated_at.is_some() || status != "active" {
        batch.skipped = 1;
    } else if let Some(account) = account_of(&person, role) {
        let expires_at = kernel::now() + app.config.activation.code_days * 86_400;
        let code = store_code(&mut tx, person_id, actor.person_id, expires_at).await?;
        batch.slips.push(Slip {
            person_id,
            name: person.name.clone(),
            role,
            children,
            school: place.unit_name.clone(),
            class_name,
            account,
            code: grouped(&code),
            expires_at,
        });
    } else {
        batch.no_account = 1;
    }
    if !batch.slips.is_empty() {
        audit::record(
            &mut tx,
            &Entry::by(actor, meta, "activation_code_issue", "person", person_id, person.name.clone(), place.unit_path.clone()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(batch)
}

#[derive(Template)]
#[template(path = "activation_slips.html")]
pub(crate) struct SlipsPage<'a> {
    ctx: &'a PageContext,
    batch: &'a Batch,
    address: String,
}

impl SlipsPage<'_> {
    fn role_text(&self, s: &Slip) -> String {
        role_text(self.ctx, s)
    }
}

/// 学生, or 张小明的家长: a parent's slip names the children it is for.
fn role_text(ctx: &PageContext, s: &Slip) -> String {
    match s.role {
        Role::Parent => ctx.t_args("activation-slip-role-parent", &[("children", s.children.join("、"))]),
        role => ctx.role_label(&role),
    }
}

/// Where people activate, as printed: this server's address as the issuer reached it.
fn activation_address(app: &App, headers: &HeaderMap) -> String {
    let scheme = if app.config.session.secure_cookies { "https" } else { "http" };
    match headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("{scheme}://{host}/activate"),
        None => "/activate".to_string(),
    }
}

/// Codes must not linger in caches: the page and the file are the only copies.
fn no_store() -> (axum::http::HeaderName, HeaderValue) {
    (CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

fn slips_page(ctx: &PageContext, batch: &Batch, address: String) -> Result<Response, AppError> {
    let page = SlipsPage { ctx, batch, address };
    let title = ctx.t_args("activation-slips-title", &[("name", batch.label.clone())]);
    Ok(([no_store()], ctx.render(&title, &page)?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SlipFormat {
    Page,
    Xlsx,
}

#[derive(Deserialize)]
pub(crate) struct SlipsForm {
    audience: Audience,
    format: SlipFormat,
}

async fn class_slips_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<SlipsForm>,
) -> Result<Response, AppError> {
    let batch = issue_for_class(&app, &actor, &meta, id, form.audience, ctx.locale).await?;
    let address = activation_address(&app, &headers);
    match form.format {
        SlipFormat::Page => slips_page(&ctx, &batch, address),
        SlipFormat::Xlsx => slips_xlsx(&ctx, &batch, &address),
    }
}

async fn person_code_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    let batch = issue_for_person(&app, &actor, &meta, id, ctx.locale).await?;
    slips_page(&ctx, &batch, activation_address(&app, &headers))
}

/// RFC 5987 `filename*`: UTF-8, every byte outside `attr-char` percent-encoded.
fn rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn slips_xlsx(ctx: &PageContext, batch: &Batch, address: &str) -> Result<Response, AppError> {
    let headers = [
        "field-school_id",
        "field-class",
        "field-person_name",
        "field-role",
        "activation-slip-account",
        "activation-slip-code",
        "activation-slip-expires",
        "activation-slip-address",
    ]
    .map(|k| ctx.t(k));
    let widths = [20.0, 14.0, 12.0, 18.0, 24.0, 16.0, 18.0, 32.0];
    let columns: Vec<sheet::ColumnSpec> =
        headers.iter().zip(widths).map(|(h, width)| sheet::ColumnSpec { header: h, note: None, width }).collect();
    let mut wb = sheet::Workbook::new();
    let sh = wb.sheet(&ctx.t("activation-sheet-name"), &columns).map_err(AppError::internal)?;
    for s in &batch.slips {
        let (role, expires) = (role_text(ctx, s), ctx.time(&s.expires_at));
        let row: [&str; 8] = [&s.school, &s.class_name, &s.name, &role, &s.account, &s.code, &expires, address];
        wb.row(sh, &row, &[]).map_err(AppError::internal)?;
    }
    let bytes = wb.to_bytes().map_err(AppError::internal)?;
    let name = format!("{}.xlsx", ctx.t_args("activation-file-name", &[("name", batch.label.clone())]));
    let disposition = format!("attachment; filename=\"activation-codes.xlsx\"; filename*=UTF-8''{}", rfc5987(&name));
    let disposition = HeaderValue::from_str(&disposition).map_err(AppError::internal)?;
    let xlsx = HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    Ok(([(CONTENT_TYPE, xlsx), (CONTENT_DISPOSITION, disposition), no_store()], bytes).into_response())
}

#[derive(Deserialize)]
pub(crate) struct AudienceBody {
    audience: Audience,
}

impl Validate for AudienceBody {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/classes/{id}/activation-codes", tag = "classes", summary = "Issue new activation codes for the class's students and/or their parents who have not activated their accounts (earlier codes of theirs stop working); codes are shown only in this answer", params(("id" = i64, Path, description = "record id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "AudienceBody: audience = students | parents | all"), responses((status = 200, description = "the codes, with how many people were skipped as already activated or without an account"), (status = 401, description = "not signed in (or the token is not valid)"), (status = 403, description = "outside the caller's scope or role"), (status = 404, description = "no such record"), (status = 422, description = "invalid input: details name each field")))]
pub(crate) async fn api_issue(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AudienceBody>,
) -> Result<Response, AppError> {
    let batch = issue_for_class(&app, &actor, &meta, id, body.audience, actor.locale.unwrap_or_default()).await?;
    let codes: Vec<_> = batch
        .slips
        .iter()
        .map(|s| {
            json!({
                "person_id": s.person_id, "name": s.name, "role": s.role, "account": s.account,
                "code": s.code, "expires_at": s.expires_at,
            })
        })
        .collect();
    let body = json!({ "codes": codes, "skipped": batch.skipped, "no_account": batch.no_account });
    Ok(([no_store()], Json(body)).into_response())
}

// ---- Activating ----

/// The person a code belongs to, when it also matches the typed account and is still live.
#[derive(sqlx::FromRow)]
struct Holder {
    id: i64,
    name: String,
    login: Option<String>,
    totp_enabled: bool,
    scope_path: Option<String>,
}

fn wrong_code() -> AppError {
    AppError::invalid("activation_code", "activate-error")
}

/// Checks an account and code, throttled together with password logins. Every way of failing
/// (unknown account, wrong, expired, used or voided code) answers the same.
async fn verify(app: &App, meta: &RequestMeta, account: &str, code: &str) -> Result<Holder, AppError> {
    if account.chars().count() > 100 {
        return Err(wrong_code());
    }
    let keys = [throttle::login_key(account), throttle::ip_key(&meta.ip)];
    if let Some(retry_after) = throttle::locked_for(&app.db, &keys).await? {
        return Err(AppError::Locked { retry_after });
    }
    let found: Option<Holder> = match normalize(code) {
        // The account matches as at login: login names in lower case, student numbers in upper case.
        Some(code) => {
            app.db
                .fetch_optional(
                    sql("SELECT p.id, p.name, p.login, p.totp_enabled, \
                           (SELECT u.path FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                              WHERE r.person_id = p.id ORDER BY r.ends_on IS NULL DESC, r.id LIMIT 1) AS scope_path \
                         FROM activation_codes a JOIN people p ON p.id = a.person_id \
                         WHERE a.code_hash = $1 AND a.expires_at > $2 AND p.status = 'active' AND p.activated_at IS NULL \
                           AND (p.login = $4 OR p.phone = $3 OR p.student_number = $5 OR p.staff_number = $3)")
                    .bind(code_hash(&code))
                    .bind(kernel::now())
                    .bind(account)
                    .bind(account.to_lowercase())
                    .bind(account.to_uppercase()),
                )
                .await?
        }
        None => None,
    };
    if let Some(holder) = found {
        return Ok(holder);
    }
    let cfg = &app.config.login;
    throttle::record_failure(&app.db, &keys[0], cfg.max_failures, cfg.lockout_minutes * 60).await?;
    throttle::record_failure(&app.db, &keys[1], cfg.max_failures_per_ip, cfg.lockout_minutes * 60).await?;
    let attempt = entry(meta, None, account, "/", Outcome::Failure);
    // Failed attempts are audited on their own: there is no transaction to join.
    if let Err(e) = audit::record_alone(&app.db, &attempt).await {
        tracing::error!(error = %e, "cannot write audit entry");
    }
    Err(wrong_code())
}

fn entry(meta: &RequestMeta, holder: Option<&Holder>, account: &str, scope: &str, outcome: Outcome) -> Entry {
    let account: String = account.chars().take(100).collect();
    Entry {
        actor_id: holder.map(|h| h.id),
        actor_name: holder.map(|h| h.name.clone()).unwrap_or_else(|| account.clone()),
        ip: meta.ip.clone(),
        action: "account_activate",
        outcome,
        target_type: "account",
        target_id: holder.map(|h| h.id),
        target_name: account,
        scope_path: scope.to_string(),
        before: None,
        after: None,
    }
}

/// Sets the first password of a verified holder and signs them in, in one transaction: the code is
/// spent, the account counts as activated in its schools' figures, and a session opens as at
/// login. Returns the session token.
async fn activate(
    app: &App,
    meta: &RequestMeta,
    account: &str,
    holder: &Holder,
    form: &PasswordForm,
) -> Result<String, AppError> {
    let mut errors = password::check_policy(&app.config.password, &form.new_password, holder.login.as_deref());
    if form.new_password != form.confirm_password {
        errors.push(FieldError::new("confirm_password", "password-error-mismatch"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let hash = password::hash(app, form.new_password.clone()).await?;
    let school_year = crate::calendar::store::school_year(&app.db, kernel::today(app.config.display_utc_offset_minutes)).await?;
    let code = normalize(&form.activation_code).ok_or_else(wrong_code)?;
    let now = kernel::now();
    let mut tx = app.db.begin().await?;
    // Spending the code decides a race between two submissions: only one deletes it.
    let spent = tx
        .execute(
            sql("DELETE FROM activation_codes WHERE person_id = $1 AND code_hash = $2 AND expires_at > $3")
                .bind(holder.id)
                .bind(code_hash(&code))
                .bind(now),
        )
        .await?;
    if spent == 0 {
        return Err(wrong_code());
    }
    tx.execute(
        sql("UPDATE people SET password_hash = $1, password_changed_at = $2, activated_at = $2, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(holder.id),
    )
    .await?;
    // A new password ends every earlier session, as a password change does.
    tx.execute(sql("UPDATE sessions SET revoked_at = $1 WHERE person_id = $2 AND revoked_at IS NULL").bind(now).bind(holder.id))
        .await?;
    let scope = holder.scope_path.clone().unwrap_or_else(|| "/".into());
    audit::record(&mut tx, &entry(meta, Some(holder), account, &scope, Outcome::Success)).await?;
    let schools = counts::schools_of_person(&mut tx, holder.id).await?;
    counts::refresh(&mut tx, &schools, school_year).await?;
    let token = sessions::create(&mut tx, app, holder.id, meta, !holder.totp_enabled).await?;
    tx.commit().await?;
    throttle::clear(&app.db, &throttle::login_key(account)).await?;
    app.actors.forget_person(holder.id);
    Ok(token)
}

#[derive(Template)]
#[template(path = "activate.html")]
pub(crate) struct ActivatePage<'a> {
    ctx: &'a PageContext,
    account: &'a str,
    error: Option<String>,
    field_errors: Vec<FieldError>,
}

#[derive(Template)]
#[template(path = "activate_password.html")]
pub(crate) struct PasswordPage<'a> {
    ctx: &'a PageContext,
    name: &'a str,
    account: &'a str,
    code: &'a str,
    errors: Vec<FieldError>,
}

#[derive(Deserialize)]
pub(crate) struct ActivateForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    activation_code: String,
}

impl Validate for ActivateForm {
    fn validate(&self, v: &mut Checks) {
        v.required("account", &self.account).max_chars("account", &self.account, 100);
        v.required("activation_code", &self.activation_code).max_chars("activation_code", &self.activation_code, 30);
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    activation_code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// A failure to show on the code form: the generic message, or the lock's wait as at login.
fn failure_message(ctx: &PageContext, e: &AppError) -> String {
    match e {
        AppError::Invalid(errors) => ctx.field_error(errors, "activation_code").unwrap_or_else(|| ctx.t("activate-error")),
        e => {
            let mut args = vec![];
            if let Some(s) = e.retry_after() {
                args.push(("minutes", ((s + 59) / 60).max(1).to_string()));
                args.push(("seconds", s.to_string()));
            }
            ctx.t_args(e.key(), &args)
        }
    }
}

async fn activate_page(ctx: PageContext) -> Result<Response, AppError> {
    let page = ActivatePage { ctx: &ctx, account: "", error: None, field_errors: vec![] };
    Ok(ctx.render(&ctx.t("activate-title"), &page)?.into_response())
}

async fn activate_submit(
    State(app): State<App>,
    ctx: PageContext,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<ActivateForm>,
) -> Result<Response, AppError> {
    let mut checks = Checks::default();
    form.validate(&mut checks);
    if !checks.errors.is_empty() {
        let page = ActivatePage { ctx: &ctx, account: &form.account, error: None, field_errors: checks.errors };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, ctx.render(&ctx.t("activate-title"), &page)?).into_response());
    }
    let account = typed(&form.account);
    match verify(&app, &meta, &account, &form.activation_code).await {
        Ok(holder) => {
            let page =
                PasswordPage { ctx: &ctx, name: &holder.name, account: &account, code: &form.activation_code, errors: vec![] };
            Ok(([no_store()], ctx.render(&ctx.t("activate-password-title"), &page)?).into_response())
        }
        Err(e @ (AppError::Invalid(_) | AppError::Locked { .. })) => code_form_failure(&ctx, &form.account, &e),
        Err(e) => Err(e),
    }
}

fn code_form_failure(ctx: &PageContext, account: &str, e: &AppError) -> Result<Response, AppError> {
    let page = ActivatePage { ctx, account, error: Some(failure_message(ctx, e)), field_errors: vec![] };
    Ok((e.status(), ctx.render(&ctx.t("activate-title"), &page)?).into_response())
}

async fn password_submit(
    State(app): State<App>,
    ctx: PageContext,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    // The code came back in a hidden field: it is checked again, so no state is kept between steps.
    let account = typed(&form.account);
    let holder = match verify(&app, &meta, &account, &form.activation_code).await {
        Ok(holder) => holder,
        Err(e @ (AppError::Invalid(_) | AppError::Locked { .. })) => return code_form_failure(&ctx, &form.account, &e),
        Err(e) => return Err(e),
    };
    match activate(&app, &meta, &account, &holder, &form).await {
        Ok(token) => {
            let to = if holder.totp_enabled { "/login/totp" } else { "/" };
            Ok(([session_cookie(&app, &token)], Redirect::to(to)).into_response())
        }
        Err(AppError::Invalid(errors)) if ctx.field_error(&errors, "activation_code").is_none() => {
            let page = PasswordPage { ctx: &ctx, name: &holder.name, account: &account, code: &form.activation_code, errors };
            let html = ctx.render(&ctx.t("activate-password-title"), &page)?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, [no_store()], html).into_response())
        }
        Err(e @ AppError::Invalid(_)) => code_form_failure(&ctx, &form.account, &e),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_read_back_however_typed() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        assert_ne!(code, new_code());
        let shown = grouped(&code);
        assert_eq!(shown.len(), 11);
        assert_eq!(normalize(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(normalize(&shown.to_lowercase()).as_deref(), Some(code.as_str()));
        assert_eq!(normalize(" abcde fghjk ").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(normalize("ＡＢＣＤＥ－ＦＧＨＪＫ").as_deref(), Some("ABCDEFGHJK"), "full-width input");
        assert_eq!(normalize("ABCDE—FGHJK").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(normalize("ABCDE-FGHJ"), None, "too short");
        assert_eq!(normalize("ABCDE-FGHJ0"), None, "not in the alphabet");
        assert_eq!(typed(" １３８ ０００ ０００００ "), "13800000000");
    }

    #[test]
    fn file_names_are_rfc5987_encoded() {
        assert_eq!(rfc5987("激活码-1.xlsx"), "%E6%BF%80%E6%B4%BB%E7%A0%81-1.xlsx");
        assert_eq!(rfc5987("a b\"c"), "a%20b%22c");
    }
}
