//! Web helpers shared by every area: request context (address, language, CSRF), the error renderer,
//! the one page layout, form and JSON extractors with one validation path, and static assets.

use crate::auth::{Actor, Role};
use crate::error::{AppError, FieldError, PendingError};
use crate::i18n::{I18n, Locale};
use crate::state::App;
use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

pub const LANG_COOKIE: &str = "hanlin_lang";
pub const CSRF_COOKIE: &str = "hanlin_csrf";
const MAX_FORM_BYTES: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// A navigation entry an area contributes: label key, link, the roles that see it, and, where a
/// role is not enough (a page for the region's top unit only), the test its page applies.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub key: &'static str,
    pub href: &'static str,
    pub roles: &'static [Role],
    pub only: Option<fn(&Actor) -> bool>,
}

/// Facts about the request gathered before any handler runs.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: String,
    pub user_agent: String,
    /// From the language cookie, else Accept-Language, else the configured default.
    pub locale: Locale,
    /// The double-submit CSRF token for visitors without a session.
    pub anon_csrf: String,
    pub is_api: bool,
    pub path: String,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure when configured.
pub fn set_cookie(app: &App, name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if app.config.session.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are ASCII tokens")
}

/// Outermost middleware: gathers [`RequestMeta`], sets the security headers and the anonymous CSRF cookie.
pub async fn request_context(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let ip = client_ip(&req, app.config.behind_proxy);
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(300).collect();
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    // Pages speak the region's language until the visitor picks another; API clients may ask
    // for theirs with Accept-Language.
    let accepted = || headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Locale::from_accept_language);
    let locale = cookie(headers, LANG_COOKIE)
        .and_then(Locale::parse)
        .or_else(|| if is_api { accepted() } else { None })
        .or_else(|| Locale::parse(&app.config.default_locale))
        .unwrap_or_default();
    let existing = cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 43).map(str::to_string);
    let anon_csrf = existing.clone().unwrap_or_else(|| crate::secret::random_token(32));
    req.extensions_mut().insert(RequestMeta { ip, user_agent, locale, anon_csrf: anon_csrf.clone(), is_api, path });
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    // A handler may set its own framing policy (a file previewed in our own page); else none.
    h.entry("content-security-policy").or_insert(HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.entry("x-frame-options").or_insert(HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if existing.is_none() && !is_api {
        h.append(header::SET_COOKIE, set_cookie(&app, CSRF_COOKIE, &anon_csrf, None));
    }
    response
}

/// The peer address; behind a reverse proxy (`behind_proxy = true`), the first X-Forwarded-For
/// entry, which the proxy must overwrite rather than append to. Never trusted otherwise, or anyone
/// could dodge the per-address login throttle.
fn client_ip(req: &Request, behind_proxy: bool) -> String {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| behind_proxy && !v.is_empty());
    forwarded.unwrap_or_else(|| {
        req.extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    })
}

/// The request's language: the signed-in person's choice, else the visitor's.
pub fn locale_of(parts_ext: &axum::http::Extensions) -> Locale {
    parts_ext
        .get::<Actor>()
        .and_then(|a| a.locale)
        .or_else(|| parts_ext.get::<RequestMeta>().map(|m| m.locale))
        .unwrap_or_default()
}

/// Innermost middleware: turns an [`AppError`] into JSON for the API and a page for people, in the
/// request's language. Sends visitors who are not signed in to the login page.
pub async fn finish_errors(State(app): State<App>, req: Request, next: Next) -> Response {
    let locale = locale_of(req.extensions());
    let meta = req.extensions().get::<RequestMeta>().cloned();
    let actor = req.extensions().get::<Actor>().cloned();
    let uri = req.uri().clone();
    let response = next.run(req).await;
    let Some(pending) = response.extensions().get::<PendingError>().cloned() else {
        return response;
    };
    let retry = response.headers().get(header::RETRY_AFTER).cloned();
    let is_api = meta.as_ref().is_none_or(|m| m.is_api);
    let message = app.i18n.t_args(locale, pending.key, &pending.args);
    let details: Vec<serde_json::Value> = pending
        .details
        .iter()
        .map(|d| {
            serde_json::json!({
                "field": d.field,
                "message": app.i18n.t_args(locale, d.key, &with_field_label(&app.i18n, locale, d)),
            })
        })
        .collect();
    let mut out = if is_api {
        let body = serde_json::json!({ "code": pending.code, "message": message, "details": details });
        (pending.status, axum::Json(body)).into_response()
    } else if pending.status == StatusCode::UNAUTHORIZED && actor.is_none() && pending.code == "unauthenticated" {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
    } else {
        let ctx = PageContext::build(&app, locale, actor, meta);
        let page = ErrorPage { ctx: &ctx, status: pending.status.as_u16(), message: &message, details: &details };
        match ctx.render(&ctx.t("error-title"), &page) {
            Ok(html) => (pending.status, html).into_response(),
            Err(_) => (pending.status, message).into_response(),
        }
    };
    if let Some(r) = retry {
        out.headers_mut().insert(header::RETRY_AFTER, r);
    }
    out
}

fn with_field_label(i18n: &I18n, locale: Locale, d: &FieldError) -> Vec<(&'static str, String)> {
    let mut args = d.args.clone();
    let label_key = format!("field-{}", d.field);
    let label = i18n.t(locale, &label_key);
    args.push(("field", if label == label_key { d.field.clone() } else { label }));
    args
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_string()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a PageContext,
    status: u16,
    message: &'a str,
    details: &'a [serde_json::Value],
}

#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    ctx: &'a PageContext,
    title: &'a str,
    body: &'a str,
}

/// A navigation link as drawn.
pub struct NavItem {
    pub label: String,
    pub href: &'static str,
    pub current: bool,
}

/// Everything the one page layout needs: language, who is signed in, navigation, CSRF token.
pub struct PageContext {
    pub locale: Locale,
    pub i18n: I18n,
    pub actor: Option<Actor>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub path: String,
    utc_offset_minutes: i32,
}

impl PageContext {
    fn build(app: &App, locale: Locale, actor: Option<Actor>, meta: Option<RequestMeta>) -> PageContext {
        let path = meta.as_ref().map(|m| m.path.clone()).unwrap_or_default();
        let nav = match &actor {
            Some(a) => app
                .nav
                .iter()
                .filter(|l| l.roles.contains(&a.role) && l.only.is_none_or(|only| only(a)))
                .map(|l| NavItem {
                    label: app.i18n.t(locale, l.key),
                    href: l.href,
                    current: if l.href == "/" { path == "/" } else { path.starts_with(l.href) },
                })
                .collect(),
            None => Vec::new(),
        };
        let csrf = match &actor {
            Some(a) if !a.csrf.is_empty() => a.csrf.clone(),
            _ => meta.map(|m| m.anon_csrf).unwrap_or_default(),
        };
        PageContext {
            locale,
            i18n: app.i18n.clone(),
            actor,
            nav,
            csrf,
            path,
            utc_offset_minutes: app.config.display_utc_offset_minutes,
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.t(self.locale, key)
    }

    pub fn t_args(&self, key: &str, args: &[(&str, String)]) -> String {
        self.i18n.t_args(self.locale, key, args)
    }

    /// The translated message for `field` among `errors`, if any.
    pub fn field_error(&self, errors: &[FieldError], field: &str) -> Option<String> {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| self.i18n.t_args(self.locale, e.key, &with_field_label(&self.i18n, self.locale, e)))
    }

    /// One problem's message, naming its field.
    pub fn error_text(&self, e: &FieldError) -> String {
        self.i18n.t_args(self.locale, e.key, &with_field_label(&self.i18n, self.locale, e))
    }

    pub fn role_label(&self, role: &Role) -> String {
        self.t(role.label_key())
    }

    /// An instant shown in the region's time zone.
    pub fn time(&self, unix: &i64) -> String {
        let offset = time::UtcOffset::from_whole_seconds(self.utc_offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
        match time::OffsetDateTime::from_unix_timestamp(*unix) {
            Ok(t) => {
                let t = t.to_offset(offset);
                format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute())
            }
            Err(_) => String::new(),
        }
    }

    /// Wraps a page body in the one layout.
    pub fn render(&self, title: &str, body: &impl Template) -> Result<Html<String>, AppError> {
        let body = body.render().map_err(AppError::internal)?;
        let page = Layout { ctx: self, title, body: &body };
        page.render().map(Html).map_err(AppError::internal)
    }
}

impl FromRequestParts<App> for PageContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let locale = locale_of(&parts.extensions);
        let actor = parts.extensions.get::<Actor>().cloned();
        let meta = parts.extensions.get::<RequestMeta>().cloned();
        Ok(PageContext::build(app, locale, actor, meta))
    }
}

/// The signed-in actor; `Unauthenticated` (a redirect to login for pages) otherwise.
impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Actor>().cloned().ok_or(AppError::Unauthenticated)
    }
}

/// The signed-in actor, if any.
pub struct MaybeActor(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeActor(parts.extensions.get::<Actor>().cloned()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<RequestMeta>().cloned().ok_or_else(|| AppError::internal("request context missing"))
    }
}

/// Input checks, shared by forms and JSON so a rule is written once.
/// A form of buttons only (its CSRF token aside): take down, recommend, delete.
#[derive(Debug, serde::Deserialize)]
pub struct EmptyForm {}

/// A form that turns something on or off (a favourite, late work, sharing): `on=true`, or nothing.
#[derive(Debug, serde::Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    pub on: bool,
}

pub trait Validate {
    fn validate(&self, v: &mut Checks);
}

/// Collects field problems.
#[derive(Default)]
pub struct Checks {
    pub errors: Vec<FieldError>,
}

impl Checks {
    pub fn required(&mut self, field: &str, value: &str) -> &mut Self {
        if value.trim().is_empty() {
            self.errors.push(FieldError::new(field, "error-field-required"));
        }
        self
    }

    pub fn max_chars(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        if value.chars().count() > max {
            self.errors.push(FieldError::new(field, "error-field-too-long").arg("max", max));
        }
        self
    }

    pub fn add(&mut self, field: &str, key: &'static str) -> &mut Self {
        self.errors.push(FieldError::new(field, key));
        self
    }

    pub fn push(&mut self, e: FieldError) -> &mut Self {
        self.errors.push(e);
        self
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(self.errors)) }
    }
}

/// Runs a value's checks.
pub fn check(value: &impl Validate) -> Result<(), AppError> {
    let mut c = Checks::default();
    value.validate(&mut c);
    c.finish()
}

/// A serde error turned into a field problem: which field, missing or malformed.
fn deserialize_error(path: String, message: &str) -> AppError {
    if let Some(rest) = message.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or("").to_string();
        return AppError::Invalid(vec![FieldError::new(field, "error-field-required")]);
    }
    let field = if path.is_empty() || path == "." { "body".to_string() } else { path };
    AppError::Invalid(vec![FieldError::new(field, "error-field-malformed")])
}

async fn read_body(req: Request, limit: usize) -> Result<Bytes, AppError> {
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| AppError::TooLarge)
}

/// A urlencoded form, CSRF-checked and deserialised. Validation is the handler's call, so a page
/// can show the form again with its errors beside the fields.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<App> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _app: &App) -> Result<Self, Self::Rejection> {
        let expected = match req.extensions().get::<Actor>() {
            Some(a) if !a.csrf.is_empty() => a.csrf.clone(),
            _ => req.extensions().get::<RequestMeta>().map(|m| m.anon_csrf.clone()).unwrap_or_default(),
        };
        let bytes = read_body(req, MAX_FORM_BYTES).await?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::invalid("body", "error-field-malformed"))?;
        let sent = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if expected.is_empty() || !crate::secret::same(sent, &expected) {
            return Err(AppError::Csrf);
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize(de)
            .map(CsrfForm)
            .map_err(|e| deserialize_error(e.path().to_string(), &e.inner().to_string()))
    }
}

/// A JSON body, deserialised and validated; problems answer 400/422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Validate + Send, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        // Requiring the JSON type also stops cross-site form posts, which cannot send it.
        if !json_type {
            return Err(AppError::invalid("content-type", "error-json-required"));
        }
        let bytes = read_body(req, MAX_FORM_BYTES).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value: T =
            serde_path_to_error::deserialize(de).map_err(|e| deserialize_error(e.path().to_string(), &e.inner().to_string()))?;
        check(&value)?;
        Ok(ApiJson(value))
    }
}

/// Static assets, compiled into the binary.
pub async fn static_asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, mime): (&'static str, &str) = match name.as_str() {
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        "app.js" => (include_str!("../static/app.js"), "text/javascript; charset=utf-8"),
        "favicon.svg" => (include_str!("../static/favicon.svg"), "image/svg+xml"),
        _ => return AppError::NotFound.into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], Body::from(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; hanlin_lang=en; b=2"));
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn serde_errors_name_the_field() {
        match deserialize_error(String::new(), "missing field `login` at line 1") {
            AppError::Invalid(e) => assert_eq!(e[0].field, "login"),
            e => panic!("{e:?}"),
        }
        match deserialize_error("password".into(), "invalid type: integer") {
            AppError::Invalid(e) => assert_eq!((e[0].field.as_str(), e[0].key), ("password", "error-field-malformed")),
            e => panic!("{e:?}"),
        }
    }
}
