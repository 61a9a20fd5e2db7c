//! Conversations: class groups (a class's teachers and students), parents' groups (its teachers
//! and its students' parents) and staff groups (a school's teachers and administrators), kept in
//! step with the roster; and direct messages between two people, within the configured policy.
//! Nobody's phone number is part of any of it: people are shown by name.

pub mod http;
pub mod store;

use crate::hub::{self, Signal};
use directory::people::audience::{self, Members, Place};
use kernel::auth::{Actor, Role};
use kernel::{App, AppError};
use library::attachments::{self, Attachment, File};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use store::{Conversation, Member, MessageRow};

/// Messages shown per page of history.
pub const PAGE: i64 = 50;
/// A group is brought in step with the roster when someone opens it and it is older than this.
const SYNC_EVERY_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Class,
    Parents,
    Staff,
    Direct,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Class => "class",
            Kind::Parents => "parents",
            Kind::Staff => "staff",
            Kind::Direct => "direct",
        }
    }
}

/// A group a person belongs in by their place in the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: Kind,
    /// The class (class and parents' groups) or the school (staff groups).
    pub of: i64,
}

impl Group {
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.of)
    }

    fn parse(key: &str) -> Option<Group> {
        let (kind, id) = key.split_once(':')?;
        let kind = match kind {
            "class" => Kind::Class,
            "parents" => Kind::Parents,
            "staff" => Kind::Staff,
            _ => return None,
        };
        Some(Group { kind, of: id.parse().ok()? })
    }
}

/// The groups an actor's role puts them in.
pub fn groups_of(actor: &Actor) -> Vec<Group> {
    let classes = |kind| actor.class_ids.iter().map(move |c| Group { kind, of: *c });
    match actor.role {
        Role::Teacher | Role::HeadTeacher => {
            classes(Kind::Class).chain(classes(Kind::Parents)).chain([Group { kind: Kind::Staff, of: actor.unit_id }]).collect()
        }
        Role::Student => classes(Kind::Class).collect(),
        Role::Parent => classes(Kind::Parents).collect(),
        Role::SchoolAdmin => vec![Group { kind: Kind::Staff, of: actor.unit_id }],
        _ => Vec::new(),
    }
}

fn today(app: &App) -> time::Date {
    kernel::today(app.config.display_utc_offset_minutes)
}

/// Brings one group in step with the roster (creating it if need be) and returns its id.
pub async fn sync_group(app: &App, group: &Group) -> Result<i64, AppError> {
    let today = today(app);
    let (school_id, school_path, class_id) = match group.kind {
        Kind::Class | Kind::Parents => {
            let class = directory::classes::store::get(&app.db, group.of).await?.ok_or(AppError::NotFound)?;
            let school = directory::org::store::get(&app.db, class.school_id).await?.ok_or(AppError::NotFound)?;
            (school.id, school.path, Some(class.id))
        }
        Kind::Staff => {
            let school = directory::org::store::get(&app.db, group.of).await?.ok_or(AppError::NotFound)?;
            (school.id, school.path, None)
        }
        Kind::Direct => return Err(AppError::NotFound),
    };
    let owner_of =
        |ids: Vec<i64>, owners: &[i64]| ids.into_iter().map(|p| (p, owners.binary_search(&p).is_ok())).collect::<Vec<_>>();
    let mut wanted: Vec<(i64, bool)> = match group.kind {
        Kind::Class | Kind::Parents => {
            let place = Place::Class(group.of);
            let teachers = audience::of(&app.db, place, Members::Teachers, today).await?;
            let others =
                audience::of(&app.db, place, if group.kind == Kind::Class { Members::Students } else { Members::Parents }, today)
                    .await?;
            let mut all = owner_of(teachers.clone(), &teachers);
            all.extend(others.into_iter().filter(|p| teachers.binary_search(p).is_err()).map(|p| (p, false)));
            all
        }
        _ => {
            let place = Place::Under(&school_path);
            let staff = audience::of(&app.db, place, Members::Staff, today).await?;
            let teachers = audience::of(&app.db, place, Members::Teachers, today).await?;
            // The school's administrators own its staff group.
            let admins: Vec<i64> = staff.iter().copied().filter(|p| teachers.binary_search(p).is_err()).collect();
            owner_of(staff, &admins)
        }
    };
    wanted.sort_unstable();
    wanted.dedup_by_key(|w| w.0);
    let key = group.key();
    let mut tx = app.db.begin().await?;
    let (id, _) = store::ensure(
        &mut tx,
        &store::NewConversation {
            kind: group.kind.as_str(),
            key: &key,
            school_id: Some(school_id),
            school_path: &school_path,
            class_id,
        },
    )
    .await?;
    let changed = store::set_members(&mut tx, id, &wanted).await?;
    store::set_synced(&mut tx, id, kernel::now()).await?;
    let staged = if changed { Some(hub::stage(&mut tx, Signal::Members { c: id }).await?) } else { None };
    tx.commit().await?;
    if let Some(s) = staged {
        s.deliver(app);
    }
    Ok(id)
}

/// Brings the actor's groups in step with the roster where they have not been for a minute.
pub async fn sync_for(app: &App, actor: &Actor) -> Result<(), AppError> {
    let now = kernel::now();
    for group in groups_of(actor) {
        let fresh = store::by_key(&app.db, &group.key()).await?.is_some_and(|c| c.synced_at > now - SYNC_EVERY_SECONDS);
        if !fresh {
            sync_group(app, &group).await?;
        }
    }
    Ok(())
}

/// Background upkeep: the groups nobody has opened lately are brought in step too, a batch at a time.
pub async fn sync_stale(app: &App, older_than_seconds: i64, batch: i64) -> Result<usize, AppError> {
    let stale = store::stale_groups(&app.db, kernel::now() - older_than_seconds, batch).await?;
    for c in &stale {
        if let Some(group) = Group::parse(&c.group_key) {
            sync_group(app, &group).await?;
        }
    }
    Ok(stale.len())
}

/// The conversation, if the actor is a member of it. Non-members get NotFound: they do not learn
/// that it exists.
pub async fn member_of(app: &App, actor: &Actor, id: i64) -> Result<(Conversation, Member), AppError> {
    store::membership(&app.db, id, actor.person_id).await?.ok_or(AppError::NotFound)
}

/// People the actor may start a direct message with, by the configured policy: (id, name), by name.
pub async fn contacts(app: &App, actor: &Actor) -> Result<Vec<(i64, String)>, AppError> {
    let policy = &app.config.messaging.direct;
    let today = today(app);
    let mut ids: Vec<i64> = Vec::new();
    let mut add = async |place: Place<'_>, members: Members| -> Result<(), AppError> {
        ids.extend(audience::of(&app.db, place, members, today).await?);
        Ok(())
    };
    for class in actor.class_ids.clone() {
        let place = Place::Class(class);
        match actor.role {
            Role::Student => {
                if policy.student_to_teachers {
                    add(place, Members::Teachers).await?;
                }
                if policy.student_to_classmates {
                    add(place, Members::Students).await?;
                }
            }
            Role::Parent => {
                if policy.parent_to_teachers {
                    add(place, Members::Teachers).await?;
                }
                if policy.parent_to_parents {
                    add(place, Members::Parents).await?;
                }
            }
            Role::Teacher | Role::HeadTeacher => {
                add(place, Members::Students).await?;
                add(place, Members::Parents).await?;
            }
            _ => {}
        }
    }
    if matches!(actor.role, Role::Teacher | Role::HeadTeacher | Role::SchoolAdmin) {
        add(Place::Under(&actor.unit_path), Members::Staff).await?;
    }
    ids.sort_unstable();
    ids.dedup();
    ids.retain(|p| *p != actor.person_id);
    let mut named = audience::names(&app.db, &ids).await?;
    named.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(named)
}

/// Opens (or finds) the direct conversation of the actor and `other`, if the policy allows it.
pub async fn open_direct(app: &App, actor: &Actor, other: i64) -> Result<i64, AppError> {
    let (a, b) = (actor.person_id.min(other), actor.person_id.max(other));
    let key = format!("direct:{a}:{b}");
    if let Some(c) = store::by_key(&app.db, &key).await?
        && store::member(&app.db, c.id, actor.person_id).await?.is_some()
    {
        return Ok(c.id);
    }
    if !contacts(app, actor).await?.iter().any(|(p, _)| *p == other) {
        return Err(AppError::invalid("person_id", "messaging-error-not-a-contact"));
    }
    let mut tx = app.db.begin().await?;
    let (id, _) = store::ensure(
        &mut tx,
        &store::NewConversation {
            kind: Kind::Direct.as_str(),
            key: &key,
            school_id: Some(actor.unit_id),
            school_path: &actor.unit_path,
            class_id: None,
        },
    )
    .await?;
    store::set_members(&mut tx, id, &[(a, false), (b, false)]).await?;
    store::set_synced(&mut tx, id, kernel::now()).await?;
    let staged = hub::stage(&mut tx, Signal::Members { c: id }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(id)
}

/// A message as clients see it. A recalled or removed message keeps its place but not its text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageView {
    pub id: i64,
    pub conversation_id: i64,
    pub sender_id: i64,
    pub sender_name: String,
    /// `sent`, `recalled` or `removed`.
    pub state: &'static str,
    pub body: String,
    pub reply: Option<Quote>,
    pub mentions: Vec<i64>,
    pub files: Vec<FileView>,
    pub created_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Quote {
    pub id: i64,
    pub sender_name: String,
    /// The quoted text, shortened; empty when it was recalled or removed.
    pub excerpt: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub url: String,
    pub image: bool,
}

impl FileView {
    fn of(conversation: i64, f: &Attachment) -> FileView {
        FileView {
            id: f.id,
            name: f.file_name.clone(),
            mime: f.mime.clone(),
            size: f.size,
            url: format!("/messages/{conversation}/files/{}", f.id),
            image: f.is_image(),
        }
    }
}

impl Quote {
    fn of(row: &MessageRow) -> Quote {
        let shown = row.recalled_at.is_none() && row.removed_at.is_none();
        Quote {
            id: row.id,
            sender_name: row.sender_name.clone(),
            excerpt: if shown { excerpt(&row.body, QUOTE_CHARS) } else { String::new() },
        }
    }
}

const QUOTE_CHARS: usize = 60;

pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Views of these message rows, with their files and mentions (two queries for the lot).
pub async fn views(app: &App, rows: Vec<MessageRow>) -> Result<Vec<MessageView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = store::attachment_links(&app.db, &ids).await?;
    let files: Vec<Attachment> = attachments::many(&app.db, &links.iter().map(|l| l.1).collect::<Vec<_>>()).await?;
    let mentions = store::mentions(&app.db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let state = if r.removed_at.is_some() {
                "removed"
            } else if r.recalled_at.is_some() {
                "recalled"
            } else {
                "sent"
            };
            let shown = state == "sent";
            let files = if shown {
                links
                    .iter()
                    .filter(|l| l.0 == r.id)
                    .filter_map(|l| files.iter().find(|f| f.id == l.1))
                    .map(|f| FileView::of(r.conversation_id, f))
                    .collect()
            } else {
                Vec::new()
            };
            MessageView {
                id: r.id,
                conversation_id: r.conversation_id,
                sender_id: r.sender_id,
                sender_name: r.sender_name,
                state,
                body: if shown { r.body } else { String::new() },
                reply: r.reply_to.map(|id| Quote {
                    id,
                    sender_name: r.reply_sender.unwrap_or_default(),
                    excerpt: if r.reply_gone == Some(false) {
                        excerpt(r.reply_body.as_deref().unwrap_or_default(), QUOTE_CHARS)
                    } else {
                        String::new()
                    },
                }),
                mentions: mentions.iter().filter(|m| m.0 == r.id).map(|m| m.1).collect(),
                files,
                created_at: r.created_at,
            }
        })
        .collect())
}

/// One message as clients see it.
pub async fn message_view(app: &App, id: i64) -> Result<Option<MessageView>, AppError> {
    let Some(row) = store::message(&app.db, id).await? else { return Ok(None) };
    Ok(views(app, vec![row]).await?.pop())
}

/// A page of history for a member, oldest first; reading the newest page marks it read.
pub async fn history(app: &App, actor: &Actor, id: i64, before: Option<i64>) -> Result<Vec<MessageView>, AppError> {
    member_of(app, actor, id).await?;
    let rows = store::page(&app.db, id, before, PAGE).await?;
    if before.is_none()
        && let Some(last) = rows.last()
    {
        store::mark_read(&app.db, id, actor.person_id, last.id).await?;
    }
    views(app, rows).await
}

/// Per-person flood control: a bucket of `messages_per_minute` sends, refilled evenly. Kept per
/// node, so behind N nodes a person could reach N times the rate; the limit is against floods, not a quota.
#[derive(Default)]
pub struct Flood {
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl Flood {
    /// Takes one send for `person`, or says how many seconds until one is free.
    fn take(&self, person: i64, per_minute: u32) -> Result<(), i64> {
        let capacity = f64::from(per_minute);
        let rate = capacity / 60.0;
        let mut buckets = self.buckets.lock().expect("flood lock");
        if buckets.len() > 100_000 {
            // Forget people whose buckets have long been full again.
            buckets.retain(|_, (_, at)| at.elapsed().as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(person).or_insert((capacity, Instant::now()));
        *tokens = (*tokens + at.elapsed().as_secs_f64() * rate).min(capacity);
        *at = Instant::now();
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as i64)
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MessageInput {
    #[serde(default)]
    pub text: String,
    /// The message this one answers, quoted above it.
    #[serde(default)]
    pub reply_to: Option<i64>,
    /// Members mentioned with @.
    #[serde(default)]
    pub mentions: Vec<i64>,
}

/// Sends a message to a conversation the actor belongs to.
pub async fn send(app: &App, actor: &Actor, id: i64, input: &MessageInput, files: Vec<File>) -> Result<MessageView, AppError> {
    let (conversation, me) = member_of(app, actor, id).await?;
    let now = kernel::now();
    if conversation.muted && !me.is_owner {
        return Err(AppError::invalid("text", "messaging-error-group-muted"));
    }
    if me.muted_at(&now) {
        return Err(AppError::Invalid(vec![
            kernel::error::FieldError::new("text", "messaging-error-member-muted")
                .arg("minutes", (me.muted_until.unwrap_or(now) - now + 59) / 60),
        ]));
    }
    let text = input.text.trim();
    let max = app.config.messaging.max_message_chars;
    if text.chars().count() > max {
        return Err(AppError::too_long("text", max));
    }
    if text.is_empty() && files.is_empty() {
        return Err(AppError::invalid("text", "error-field-required"));
    }
    let quote = match input.reply_to {
        Some(reply) => match store::message(&app.db, reply).await? {
            Some(q) if q.conversation_id == id => Some(Quote::of(&q)),
            _ => return Err(AppError::invalid("reply_to", "messaging-error-reply")),
        },
        None => None,
    };
    let flood = app.part::<Flood>().expect("flood control is part of the app");
    flood.take(actor.person_id, app.config.messaging.messages_per_minute).map_err(|s| AppError::TooFast { retry_after: s })?;
    // Mentions: members named by id, or written as @name in the text.
    let mut mentions: Vec<i64> = Vec::new();
    if !input.mentions.is_empty() || text.contains('@') {
        for m in store::members(&app.db, id).await? {
            if m.person_id != actor.person_id && (input.mentions.contains(&m.person_id) || text.contains(&format!("@{}", m.name)))
            {
                mentions.push(m.person_id);
            }
        }
    }
    let stored = attachments::store_all(app, actor, "files", files).await?;
    let mut tx = app.db.begin().await?;
    let new = store::NewMessage {
        conversation_id: id,
        sender_id: actor.person_id,
        body: text,
        reply_to: input.reply_to,
        mentions: &mentions,
        created_at: now,
    };
    let message = store::insert(&mut tx, &new).await?;
    let mut files = Vec::with_capacity(stored.len());
    for (i, s) in stored.iter().enumerate() {
        let a = attachments::record(&mut tx, actor, s).await?;
        store::add_attachment(&mut tx, message, a, i as i64).await?;
        files.push(FileView::of(id, &s.as_attachment(a, actor.person_id)));
    }
    kernel::activity::record(&mut tx, actor, "message_send", message).await?;
    // The view is built from what was written, not read back; it travels with the signal.
    let view = MessageView {
        id: message,
        conversation_id: id,
        sender_id: actor.person_id,
        sender_name: actor.name.clone(),
        state: "sent",
        body: text.to_string(),
        reply: quote,
        mentions,
        files,
        created_at: now,
    };
    let carried = serde_json::to_value(&view).map_err(AppError::internal)?;
    let staged = hub::stage(&mut tx, Signal::Message { c: id, m: message, v: Some(carried) }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(view)
}

/// The sender takes a message back, within the configured time.
pub async fn recall(app: &App, actor: &Actor, id: i64, message: i64) -> Result<(), AppError> {
    member_of(app, actor, id).await?;
    let m = store::message(&app.db, message).await?.filter(|m| m.conversation_id == id).ok_or(AppError::NotFound)?;
    if m.sender_id != actor.person_id {
        return Err(AppError::Forbidden);
    }
    if kernel::now() - m.created_at > app.config.messaging.recall_seconds {
        return Err(AppError::Invalid(vec![
            kernel::error::FieldError::new("message", "messaging-error-recall-late")
                .arg("minutes", app.config.messaging.recall_seconds / 60),
        ]));
    }
    let mut tx = app.db.begin().await?;
    store::recall(&mut tx, message).await?;
    let staged = hub::stage(&mut tx, Signal::Changed { c: id, m: message }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(())
}

/// Marks the conversation read up to `message`.
pub async fn read(app: &App, actor: &Actor, id: i64, message: i64) -> Result<(), AppError> {
    member_of(app, actor, id).await?;
    store::mark_read(&app.db, id, actor.person_id, message).await?;
    Ok(())
}

/// A file of a message, for members of its conversation.
pub async fn file(app: &App, actor: &Actor, id: i64, attachment: i64) -> Result<Attachment, AppError> {
    member_of(app, actor, id).await?;
    let linked: Option<(i64,)> = app
        .db
        .fetch_optional(
            kernel::db::sql(
                "SELECT a.message_id FROM message_attachments a JOIN messages m ON m.id = a.message_id \
                 WHERE m.conversation_id = $1 AND a.attachment_id = $2 AND m.recalled_at IS NULL AND m.removed_at IS NULL",
            )
            .bind(id)
            .bind(attachment),
        )
        .await?;
    linked.ok_or(AppError::NotFound)?;
    attachments::many(&app.db, &[attachment]).await?.pop().ok_or(AppError::NotFound)
}

/// What a conversation is called, in the reader's language: the class and the group's kind, the
/// school for staff groups, the other person for direct messages.
pub async fn titles(app: &App, locale: kernel::i18n::Locale, list: &[store::Listed]) -> Result<HashMap<i64, String>, AppError> {
    let year = directory::codes::school_year_of(today(app));
    let i18n = &app.i18n;
    let mut out = HashMap::new();
    for c in list {
        let title = match (c.kind.as_str(), c.class_id, c.school_id) {
            ("direct", _, _) => c.other_name.clone().unwrap_or_default(),
            (kind, Some(class), _) => {
                let name = match directory::classes::store::get(&app.db, class).await? {
                    Some(cl) => cl.display_name(year, locale),
                    None => String::new(),
                };
                i18n.t_args(locale, &format!("messaging-group-{kind}"), &[("name", name)])
            }
            (_, None, Some(school)) => {
                let name = directory::org::store::get(&app.db, school).await?.map(|u| u.name).unwrap_or_default();
                i18n.t_args(locale, "messaging-group-staff", &[("name", name)])
            }
            _ => String::new(),
        };
        out.insert(c.id, title);
    }
    Ok(out)
}
