//! Moderation and safety: a group's owners (its teachers; a staff group's administrators) mute a
//! member or the whole group and remove messages; anyone in a conversation can report a message,
//! and reports reach the administrators of the conversation's school. Every act is audited.

pub mod http;
pub mod store;

use crate::conversations::{self, store as conv_store};
use crate::hub::{self, Signal};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Capability, Target};
use kernel::web::RequestMeta;
use kernel::{App, AppError};

pub const MAX_REASON_CHARS: usize = 500;
/// The longest a member can be muted for: 30 days.
pub const MAX_MUTE_MINUTES: i64 = 30 * 24 * 60;

/// Whether the actor moderates a conversation: one of its owners, or an administrator over its school.
pub async fn moderates(app: &App, actor: &Actor, conversation: &conv_store::Conversation) -> Result<bool, AppError> {
    if actor.role.is_admin() && actor.may(Capability::Manage, Target::Unit { path: &conversation.school_path }) {
        return Ok(true);
    }
    Ok(conv_store::member(&app.db, conversation.id, actor.person_id).await?.is_some_and(|m| m.is_owner))
}

async fn moderated(app: &App, actor: &Actor, id: i64) -> Result<conv_store::Conversation, AppError> {
    let c = conv_store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if conv_store::member(&app.db, id, actor.person_id).await?.is_none() && !moderates(app, actor, &c).await? {
        return Err(AppError::NotFound);
    }
    if !moderates(app, actor, &c).await? {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

/// Mutes a member for `minutes` (0 lifts it).
pub async fn mute_member(
    app: &App,
    actor: &Actor,
    meta: &RequestMeta,
    id: i64,
    person: i64,
    minutes: i64,
) -> Result<(), AppError> {
    let c = moderated(app, actor, id).await?;
    if !(0..=MAX_MUTE_MINUTES).contains(&minutes) {
        return Err(AppError::invalid("minutes", "messaging-error-mute-minutes"));
    }
    let target = conv_store::member(&app.db, id, person).await?.ok_or(AppError::NotFound)?;
    if target.is_owner {
        return Err(AppError::invalid("person_id", "messaging-error-mute-owner"));
    }
    let until = (minutes > 0).then(|| kernel::now() + minutes * 60);
    let mut tx = app.db.begin().await?;
    conv_store::set_member_muted(&mut tx, id, person, until).await?;
    let action = if minutes > 0 { "member_mute" } else { "member_unmute" };
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, action, "person", person, target.name, c.school_path.as_str())
            .after(serde_json::json!({ "conversation_id": id, "minutes": minutes })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mutes or unmutes the whole group: only its owners may write while it is muted.
pub async fn mute_group(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, on: bool) -> Result<(), AppError> {
    let c = moderated(app, actor, id).await?;
    if c.kind == "direct" {
        return Err(AppError::invalid("on", "messaging-error-mute-direct"));
    }
    let mut tx = app.db.begin().await?;
    conv_store::set_muted(&mut tx, id, on).await?;
    audit::record(
        &mut tx,
        &Entry::by(
            actor,
            meta,
            if on { "group_mute" } else { "group_unmute" },
            "conversation",
            id,
            c.group_key.as_str(),
            c.school_path.as_str(),
        ),
    )
    .await?;
    let staged = hub::stage(&mut tx, Signal::Members { c: id }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(())
}

/// Removes a message (its place stays, marked removed); open reports of it are closed as acted on.
pub async fn remove(app: &App, actor: &Actor, meta: &RequestMeta, id: i64, message: i64) -> Result<(), AppError> {
    let c = moderated(app, actor, id).await?;
    let m = conv_store::message(&app.db, message).await?.filter(|m| m.conversation_id == id).ok_or(AppError::NotFound)?;
    let mut tx = app.db.begin().await?;
    conv_store::remove(&mut tx, message, actor.person_id).await?;
    store::close_for_message(&mut tx, message, "removed", actor.person_id).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "message_remove", "message", message, m.sender_name.as_str(), c.school_path.as_str())
            .before(serde_json::json!({ "conversation_id": id, "body": m.body })),
    )
    .await?;
    let staged = hub::stage(&mut tx, Signal::Changed { c: id, m: message }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(())
}

/// A member reports a message to the school's administrators.
pub async fn report(app: &App, actor: &Actor, id: i64, message: i64, reason: &str) -> Result<i64, AppError> {
    let (c, _) = conversations::member_of(app, actor, id).await?;
    conv_store::message(&app.db, message).await?.filter(|m| m.conversation_id == id).ok_or(AppError::NotFound)?;
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::too_long("reason", MAX_REASON_CHARS));
    }
    let mut tx = app.db.begin().await?;
    let report = store::create(&mut tx, message, actor.person_id, &c.school_path, reason).await?;
    kernel::activity::record(&mut tx, actor, "message_report", message).await?;
    tx.commit().await?;
    Ok(report)
}

/// An administrator closes a report: the message is removed, or the report dismissed.
pub async fn handle(app: &App, actor: &Actor, meta: &RequestMeta, report: i64, remove_message: bool) -> Result<(), AppError> {
    let r = store::get(&app.db, report).await?.ok_or(AppError::NotFound)?;
    if !(actor.role.is_admin() && actor.may(Capability::Manage, Target::Unit { path: &r.school_path })) {
        return Err(AppError::NotFound);
    }
    if remove_message {
        return remove(app, actor, meta, r.conversation_id, r.message_id).await;
    }
    let mut tx = app.db.begin().await?;
    store::close_for_message(&mut tx, r.message_id, "dismissed", actor.person_id).await?;
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "report_dismiss", "message", r.message_id, r.sender_name.as_str(), r.school_path.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes messages past the configured retention; returns how many went.
pub async fn purge(app: &App) -> Result<u64, AppError> {
    let days = app.config.messaging.retention_days;
    if days == 0 {
        return Ok(0);
    }
    Ok(conv_store::purge_before(&app.db, kernel::now() - days * 86_400).await?)
}
