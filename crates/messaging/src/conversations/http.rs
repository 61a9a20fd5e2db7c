//! Conversation pages (the list with unread counts and a new direct message; one conversation with
//! its history and the message form; its members) and the JSON API.

use super::store::{self, Listed, Member};
use super::{MessageInput, MessageView};
use crate::moderation;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::upload::FilesForm;
use kernel::web::{ApiJson, Checks, CsrfForm, EmptyForm, PageContext, Validate};
use kernel::{App, AppError};
use library::attachments;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/messages", get(list_page))
        .route("/messages/direct", post(direct_submit))
        .route("/messages/{id}", get(conversation_page).post(send_submit).layer(DefaultBodyLimit::disable()))
        .route("/messages/{id}/members", get(members_page))
        .route("/messages/{id}/recall/{message}", post(recall_submit))
        .route("/messages/{id}/files/{attachment}", get(file))
        .route("/api/v1/conversations", get(api_list))
        .route("/api/v1/conversations/contacts", get(api_contacts))
        .route("/api/v1/conversations/direct", post(api_direct))
        .route("/api/v1/conversations/{id}/messages", get(api_history).post(api_send).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/conversations/{id}/members", get(api_members))
        .route("/api/v1/conversations/{id}/read", post(api_read))
        .route("/api/v1/conversations/{id}/messages/{message}/recall", post(api_recall))
        .route("/api/v1/unread", get(api_unread))
}

/// The actor's conversations (their groups brought in step with the roster first), with titles.
async fn listed(app: &App, actor: &Actor, locale: kernel::i18n::Locale) -> Result<(Vec<Listed>, HashMap<i64, String>), AppError> {
    super::sync_for(app, actor).await?;
    let list = store::of_person(&app.db, actor.person_id).await?;
    let titles = super::titles(app, locale, &list).await?;
    Ok((list, titles))
}

#[derive(Template)]
#[template(path = "conversations.html")]
struct ListPage<'a> {
    ctx: &'a PageContext,
    list: Vec<Listed>,
    titles: HashMap<i64, String>,
    contacts: Vec<(i64, String)>,
    errors: Vec<FieldError>,
}

impl ListPage<'_> {
    fn title(&self, c: &Listed) -> String {
        self.titles.get(&c.id).cloned().unwrap_or_default()
    }

    fn last(&self, c: &Listed) -> String {
        match (&c.last_body, c.last_gone) {
            (_, Some(true)) => self.ctx.t("messaging-gone"),
            (Some(body), _) if body.is_empty() => self.ctx.t("messaging-file"),
            (Some(body), _) => super::excerpt(body, 40),
            _ => self.ctx.t("messaging-empty"),
        }
    }

    fn kind(&self, c: &Listed) -> String {
        self.ctx.t(&format!("messaging-kind-{}", c.kind))
    }
}

async fn render_list(app: &App, ctx: &PageContext, actor: &Actor, errors: Vec<FieldError>) -> Result<Response, AppError> {
    let (list, titles) = listed(app, actor, ctx.locale).await?;
    let contacts = super::contacts(app, actor).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListPage { ctx, list, titles, contacts, errors };
    Ok((status, ctx.render(&ctx.t("messaging-title"), &page)?).into_response())
}

async fn list_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    render_list(&app, &ctx, &actor, Vec::new()).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DirectInput {
    pub person_id: i64,
}

impl Validate for DirectInput {
    fn validate(&self, _: &mut Checks) {}
}

async fn direct_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let chosen = form.get("person_id").and_then(|p| p.trim().parse::<i64>().ok());
    let opened = match chosen {
        Some(other) => super::open_direct(&app, &actor, other).await,
        None => Err(AppError::invalid("person_id", "messaging-error-no-recipient")),
    };
    match opened {
        Ok(id) => Ok(Redirect::to(&format!("/messages/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => render_list(&app, &ctx, &actor, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub before: Option<i64>,
    pub reply: Option<i64>,
    /// A message the reader has just reported, to confirm it.
    pub reported: Option<i64>,
}

struct Chat {
    id: i64,
    title: String,
    muted: bool,
    me: Member,
    members: usize,
    moderates: bool,
    messages: Vec<MessageView>,
    has_more: bool,
    reply: Option<MessageView>,
}

/// What every page of one conversation shows at its top; NotFound for non-members.
struct Header {
    title: String,
    kind: String,
    muted: bool,
    me: Member,
    moderates: bool,
}

async fn header(app: &App, actor: &Actor, locale: kernel::i18n::Locale, id: i64) -> Result<Header, AppError> {
    let (c, me) = super::member_of(app, actor, id).await?;
    let listed = store::of_person(&app.db, actor.person_id).await?.into_iter().filter(|l| l.id == id).collect::<Vec<_>>();
    let title = super::titles(app, locale, &listed).await?.remove(&id).unwrap_or_default();
    let moderates = moderation::moderates(app, actor, &c).await?;
    Ok(Header { title, kind: c.kind, muted: c.muted, me, moderates })
}

async fn chat(app: &App, actor: &Actor, locale: kernel::i18n::Locale, id: i64, q: &PageQuery) -> Result<Chat, AppError> {
    let h = header(app, actor, locale, id).await?;
    let messages = super::history(app, actor, id, q.before).await?;
    let has_more = messages.len() as i64 == super::PAGE;
    let reply = match q.reply {
        Some(r) => super::message_view(app, r).await?.filter(|m| m.conversation_id == id && m.state == "sent"),
        None => None,
    };
    Ok(Chat {
        id,
        title: h.title,
        muted: h.muted,
        members: store::member_ids(&app.db, id).await?.len(),
        moderates: h.moderates,
        me: h.me,
        messages,
        has_more,
        reply,
    })
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ChatPage<'a> {
    ctx: &'a PageContext,
    c: Chat,
    reported: bool,
    errors: Vec<FieldError>,
    text: String,
    now: i64,
    recall_seconds: i64,
    max_chars: usize,
}

impl ChatPage<'_> {
    fn mine(&self, m: &MessageView) -> bool {
        m.sender_id == self.c.me.person_id
    }

    fn may_recall(&self, m: &MessageView) -> bool {
        self.mine(m) && m.state == "sent" && self.now - m.created_at <= self.recall_seconds
    }

    fn may_write(&self) -> bool {
        (!self.c.muted || self.c.me.is_owner) && !self.c.me.muted_at(&self.now)
    }

    fn first_id(&self) -> i64 {
        self.c.messages.first().map(|m| m.id).unwrap_or(0)
    }

    fn last_id(&self) -> i64 {
        self.c.messages.last().map(|m| m.id).unwrap_or(0)
    }

    fn size(&self, bytes: &i64) -> String {
        match *bytes {
            b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1048576.0),
            b => format!("{} KB", (b + 1023) / 1024),
        }
    }
}

async fn render_chat(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    id: i64,
    q: &PageQuery,
    errors: Vec<FieldError>,
    text: String,
) -> Result<Response, AppError> {
    let c = chat(app, actor, ctx.locale, id, q).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = c.title.clone();
    let page = ChatPage {
        ctx,
        c,
        reported: q.reported.is_some(),
        errors,
        text,
        now: kernel::now(),
        recall_seconds: app.config.messaging.recall_seconds,
        max_chars: app.config.messaging.max_message_chars,
    };
    Ok((status, ctx.render(&title, &page)?).into_response())
}

async fn conversation_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    render_chat(&app, &ctx, &actor, id, &q, Vec::new(), String::new()).await
}

fn input_of(form: &FilesForm) -> MessageInput {
    MessageInput {
        text: form.get("text").to_string(),
        reply_to: form.get("reply_to").trim().parse().ok(),
        mentions: form.all("mentions").filter_map(|m| m.trim().parse().ok()).collect(),
    }
}

async fn send_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
    form: FilesForm,
) -> Result<Response, AppError> {
    let input = input_of(&form);
    match super::send(&app, &actor, id, &input, attachments::files_of(form, "files")).await {
        Ok(m) => Ok(Redirect::to(&format!("/messages/{id}#m{}", m.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let q = PageQuery { before: None, reply: input.reply_to, reported: None };
            render_chat(&app, &ctx, &actor, id, &q, errors, input.text).await
        }
        Err(e) => Err(e),
    }
}

async fn recall_submit(
    State(app): State<App>,
    actor: Actor,
    Path((id, message)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, AppError> {
    super::recall(&app, &actor, id, message).await?;
    Ok(Redirect::to(&format!("/messages/{id}")).into_response())
}

async fn file(
    State(app): State<App>,
    actor: Actor,
    headers: HeaderMap,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let a = super::file(&app, &actor, id, attachment).await?;
    attachments::send(&app, &a, &headers, false).await
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage<'a> {
    ctx: &'a PageContext,
    id: i64,
    title: String,
    muted: bool,
    direct: bool,
    members: Vec<Member>,
    moderates: bool,
    now: i64,
}

async fn members_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let h = header(&app, &actor, ctx.locale, id).await?;
    let page = MembersPage {
        ctx: &ctx,
        id,
        title: h.title.clone(),
        muted: h.muted,
        direct: h.kind == "direct",
        members: store::members(&app.db, id).await?,
        moderates: h.moderates,
        now: kernel::now(),
    };
    Ok(ctx.render(&ctx.t_args("messaging-members-of", &[("name", h.title)]), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "messaging", summary = "Your conversations (groups kept in step with the roster first), the latest activity first, with unread counts", responses((status = 200, description = "conversations")))]
pub(crate) async fn api_list(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
) -> Result<Json<serde_json::Value>, AppError> {
    let (list, titles) = listed(&app, &actor, ctx.locale).await?;
    let items: Vec<_> = list.into_iter().map(|c| json!({ "title": titles.get(&c.id), "conversation": c })).collect();
    Ok(Json(json!({ "conversations": items })))
}

#[utoipa::path(get, path = "/api/v1/conversations/contacts", tag = "messaging", summary = "People you may start a direct message with, by the region's policy (names only)", responses((status = 200, description = "contacts")))]
pub(crate) async fn api_contacts(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    let contacts: Vec<_> =
        super::contacts(&app, &actor).await?.into_iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    Ok(Json(json!({ "contacts": contacts })))
}

#[utoipa::path(post, path = "/api/v1/conversations/direct", tag = "messaging", summary = "Open (or find) the direct conversation with one of your contacts", request_body = DirectInput, responses((status = 200, description = "its id"), (status = 422, description = "not someone you may write to")))]
pub(crate) async fn api_direct(
    State(app): State<App>,
    actor: Actor,
    ApiJson(input): ApiJson<DirectInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "id": super::open_direct(&app, &actor, input.person_id).await? })))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messaging", summary = "A page of history, oldest first: the newest 50, or those before `before`. Reading the newest page marks it read", params(("id" = i64, Path, description = "conversation id"), ("before" = Option<i64>, Query, description = "message id")), responses((status = 200, description = "messages"), (status = 404, description = "not a conversation of yours")))]
pub(crate) async fn api_history(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let messages = super::history(&app, &actor, id, q.before).await?;
    Ok(Json(json!({ "messages": messages, "has_more": messages.len() as i64 == super::PAGE })))
}

impl Validate for MessageInput {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messaging", summary = "Send a message: JSON {text, reply_to, mentions}, or multipart with text, reply_to and files (with a session, the CSRF token as _csrf or X-CSRF-Token). @name in the text mentions a member", request_body = MessageInput, params(("id" = i64, Path, description = "conversation id")), responses((status = 201, description = "the message"), (status = 404, description = "not a conversation of yours"), (status = 422, description = "empty, too long, a refused file, muted, or a bad quote"), (status = 429, description = "sending too fast")))]
pub(crate) async fn api_send(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (input, files) = if multipart {
        let form = FilesForm::from_request(req, &app).await?;
        (input_of(&form), attachments::files_of(form, "files"))
    } else {
        let ApiJson(input) = ApiJson::<MessageInput>::from_request(req, &app).await?;
        (input, Vec::new())
    };
    let m = super::send(&app, &actor, id, &input, files).await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": m }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/members", tag = "messaging", summary = "Members by name (owners first); no phone numbers", params(("id" = i64, Path, description = "conversation id")), responses((status = 200, description = "members"), (status = 404, description = "not a conversation of yours")))]
pub(crate) async fn api_members(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::member_of(&app, &actor, id).await?;
    let members: Vec<_> = store::members(&app.db, id)
        .await?
        .into_iter()
        .map(|m| json!({ "person_id": m.person_id, "name": m.name, "is_owner": m.is_owner, "muted_until": m.muted_until }))
        .collect();
    Ok(Json(json!({ "members": members })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReadInput {
    pub message_id: i64,
}

impl Validate for ReadInput {
    fn validate(&self, _: &mut Checks) {}
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "messaging", summary = "Mark read up to a message", request_body = ReadInput, params(("id" = i64, Path, description = "conversation id")), responses((status = 200, description = "marked")))]
pub(crate) async fn api_read(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReadInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::read(&app, &actor, id, input.message_id).await?;
    Ok(Json(json!({ "unread_messages": store::unread_total(&app.db, actor.person_id).await? })))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/recall", tag = "messaging", summary = "Recall your message within the configured time (2 minutes by default)", params(("id" = i64, Path, description = "conversation id"), ("message" = i64, Path, description = "message id")), responses((status = 200, description = "recalled"), (status = 403, description = "not your message"), (status = 422, description = "too late")))]
pub(crate) async fn api_recall(
    State(app): State<App>,
    actor: Actor,
    Path((id, message)): Path<(i64, i64)>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::recall(&app, &actor, id, message).await?;
    Ok(Json(json!({ "id": message, "state": "recalled" })))
}

#[utoipa::path(get, path = "/api/v1/unread", tag = "messaging", summary = "Your unread messages and notices", responses((status = 200, description = "counts")))]
pub(crate) async fn api_unread(State(app): State<App>, actor: Actor) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({
        "messages": store::unread_total(&app.db, actor.person_id).await?,
        "notices": crate::notices::store::unread_count(&app.db, actor.person_id).await?,
    })))
}
