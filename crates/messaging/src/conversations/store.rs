//! Conversations, their members and their messages.

use kernel::db::{Db, DbError, Tx, sql, sql_in};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub kind: String,
    pub group_key: String,
    pub school_id: Option<i64>,
    pub school_path: String,
    pub class_id: Option<i64>,
    pub muted: bool,
    pub last_message_id: i64,
    pub synced_at: i64,
}

macro_rules! conversation_columns {
    () => {
        "c.id, c.kind, c.group_key, c.school_id, c.school_path, c.class_id, c.muted, c.last_message_id, c.synced_at"
    };
}
macro_rules! member_columns {
    () => {
        "m.person_id, p.name, m.is_owner, m.muted_until, m.last_read_id"
    };
}

const CONVERSATION: &str = concat!("SELECT ", conversation_columns!(), " FROM conversations c");

pub async fn get(db: &Db, id: i64) -> Result<Option<Conversation>, DbError> {
    db.fetch_optional(sql(format!("{CONVERSATION} WHERE c.id = $1")).bind(id)).await
}

pub async fn by_key(db: &Db, key: &str) -> Result<Option<Conversation>, DbError> {
    db.fetch_optional(sql(format!("{CONVERSATION} WHERE c.group_key = $1")).bind(key)).await
}

/// Groups whose members were last brought in step with the roster before `before`, oldest first.
pub async fn stale_groups(db: &Db, before: i64, limit: i64) -> Result<Vec<Conversation>, DbError> {
    db.fetch_all(
        sql(format!("{CONVERSATION} WHERE c.kind <> 'direct' AND c.synced_at < $1 ORDER BY c.synced_at LIMIT $2"))
            .bind(before)
            .bind(limit),
    )
    .await
}

pub struct NewConversation<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub school_id: Option<i64>,
    pub school_path: &'a str,
    pub class_id: Option<i64>,
}

/// The conversation named `key`, created if it does not exist yet (two requests may race to create it).
pub async fn ensure(tx: &mut Tx, c: &NewConversation<'_>) -> Result<(i64, bool), DbError> {
    let now = kernel::now();
    let created = tx
        .execute(
            sql("INSERT INTO conversations (kind, group_key, school_id, school_path, class_id, title, muted, last_message_id, synced_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, '', $6, 0, 0, $7) ON CONFLICT (group_key) DO NOTHING")
            .bind(c.kind)
            .bind(c.key)
            .bind(c.school_id)
            .bind(c.school_path)
            .bind(c.class_id)
            .bind(false)
            .bind(now),
        )
        .await?;
    let (id,): (i64,) = tx.fetch_one(sql("SELECT id FROM conversations WHERE group_key = $1").bind(c.key)).await?;
    Ok((id, created > 0))
}

pub async fn set_synced(tx: &mut Tx, id: i64, at: i64) -> Result<(), DbError> {
    tx.execute(sql("UPDATE conversations SET synced_at = $2 WHERE id = $1").bind(id).bind(at)).await?;
    Ok(())
}

pub async fn set_muted(tx: &mut Tx, id: i64, muted: bool) -> Result<(), DbError> {
    tx.execute(sql("UPDATE conversations SET muted = $2 WHERE id = $1").bind(id).bind(muted)).await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Member {
    pub person_id: i64,
    pub name: String,
    pub is_owner: bool,
    pub muted_until: Option<i64>,
    pub last_read_id: i64,
}

impl Member {
    pub fn muted_at(&self, now: &i64) -> bool {
        self.muted_until.is_some_and(|u| u > *now)
    }
}

const MEMBER: &str = concat!("SELECT ", member_columns!(), " FROM conversation_members m JOIN people p ON p.id = m.person_id");

pub async fn member(db: &Db, conversation: i64, person: i64) -> Result<Option<Member>, DbError> {
    db.fetch_optional(sql(format!("{MEMBER} WHERE m.conversation_id = $1 AND m.person_id = $2")).bind(conversation).bind(person))
        .await
}

/// A conversation and one of its members, in one query: every read and write of a conversation
/// starts with it.
pub async fn membership(db: &Db, conversation: i64, person: i64) -> Result<Option<(Conversation, Member)>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        conversation: Conversation,
        #[sqlx(flatten)]
        member: Member,
    }
    let row: Option<Row> = db
        .fetch_optional(
            sql(concat!(
                "SELECT ",
                conversation_columns!(),
                ", ",
                member_columns!(),
                " FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id \
                 JOIN people p ON p.id = m.person_id WHERE c.id = $1 AND m.person_id = $2"
            ))
            .bind(conversation)
            .bind(person),
        )
        .await?;
    Ok(row.map(|r| (r.conversation, r.member)))
}

/// Owners first, then by name.
pub async fn members(db: &Db, conversation: i64) -> Result<Vec<Member>, DbError> {
    db.fetch_all(
        sql(format!(
            "{MEMBER} WHERE m.conversation_id = $1 ORDER BY CASE WHEN m.is_owner THEN 0 ELSE 1 END, p.name, m.person_id"
        ))
        .bind(conversation),
    )
    .await
}

pub async fn member_ids(db: &Db, conversation: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> =
        db.fetch_all(sql("SELECT person_id FROM conversation_members WHERE conversation_id = $1").bind(conversation)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Makes the members exactly `wanted` (person, owner); true when anything changed. People who
/// leave keep what they wrote; they no longer read or write here.
pub async fn set_members(tx: &mut Tx, conversation: i64, wanted: &[(i64, bool)]) -> Result<bool, DbError> {
    let current: Vec<(i64, bool)> = tx
        .fetch_all(sql("SELECT person_id, is_owner FROM conversation_members WHERE conversation_id = $1").bind(conversation))
        .await?;
    let gone: Vec<i64> = current.iter().filter(|(p, _)| !wanted.iter().any(|(w, _)| w == p)).map(|(p, _)| *p).collect();
    let now = kernel::now();
    let mut changed = !gone.is_empty();
    for person in gone {
        tx.execute(
            sql("DELETE FROM conversation_members WHERE conversation_id = $1 AND person_id = $2").bind(conversation).bind(person),
        )
        .await?;
    }
    for (person, owner) in wanted {
        match current.iter().find(|(p, _)| p == person) {
            Some((_, was)) if was == owner => {}
            Some(_) => {
                changed = true;
                tx.execute(
                    sql("UPDATE conversation_members SET is_owner = $3 WHERE conversation_id = $1 AND person_id = $2")
                        .bind(conversation)
                        .bind(*person)
                        .bind(*owner),
                )
                .await?;
            }
            None => {
                changed = true;
                tx.execute(
                    sql("INSERT INTO conversation_members (conversation_id, person_id, is_owner, last_read_id, joined_at) \
                         VALUES ($1, $2, $3, 0, $4)")
                    .bind(conversation)
                    .bind(*person)
                    .bind(*owner)
                    .bind(now),
                )
                .await?;
            }
        }
    }
    Ok(changed)
}

pub async fn set_member_muted(tx: &mut Tx, conversation: i64, person: i64, until: Option<i64>) -> Result<u64, DbError> {
    tx.execute(
        sql("UPDATE conversation_members SET muted_until = $3 WHERE conversation_id = $1 AND person_id = $2")
            .bind(conversation)
            .bind(person)
            .bind(until),
    )
    .await
}

/// Marks messages up to `message` read (never moving backwards).
pub async fn mark_read(db: &Db, conversation: i64, person: i64, message: i64) -> Result<(), DbError> {
    db.execute(
        sql("UPDATE conversation_members SET last_read_id = $3 WHERE conversation_id = $1 AND person_id = $2 AND last_read_id < $3")
            .bind(conversation)
            .bind(person)
            .bind(message),
    )
    .await?;
    Ok(())
}

/// One line of a person's conversation list.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub class_id: Option<i64>,
    pub school_id: Option<i64>,
    pub muted: bool,
    pub last_message_id: i64,
    pub last_at: Option<i64>,
    pub last_sender: Option<String>,
    pub last_body: Option<String>,
    pub last_gone: Option<bool>,
    pub unread: i64,
    /// Unread messages that mention the person.
    pub mentioned: i64,
    /// Direct messages: the other person.
    pub other_id: Option<i64>,
    pub other_name: Option<String>,
}

/// A person's conversations, the latest activity first, with unread counts.
pub async fn of_person(db: &Db, person: i64) -> Result<Vec<Listed>, DbError> {
    db.fetch_all(
        sql("SELECT c.id, c.kind, c.class_id, c.school_id, c.muted, c.last_message_id, lm.created_at AS last_at, lp.name AS last_sender, \
             lm.body AS last_body, CASE WHEN lm.id IS NULL THEN NULL WHEN lm.recalled_at IS NOT NULL OR lm.removed_at IS NOT NULL THEN TRUE ELSE FALSE END AS last_gone, \
             (SELECT COUNT(*) FROM messages u WHERE u.conversation_id = c.id AND u.id > cm.last_read_id AND u.sender_id <> cm.person_id \
                AND u.recalled_at IS NULL AND u.removed_at IS NULL) AS unread, \
             (SELECT COUNT(*) FROM message_mentions mm JOIN messages u ON u.id = mm.message_id WHERE mm.person_id = cm.person_id \
                AND u.conversation_id = c.id AND u.id > cm.last_read_id AND u.recalled_at IS NULL AND u.removed_at IS NULL) AS mentioned, \
             o.person_id AS other_id, op.name AS other_name \
             FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id \
             LEFT JOIN messages lm ON lm.id = c.last_message_id LEFT JOIN people lp ON lp.id = lm.sender_id \
             LEFT JOIN conversation_members o ON c.kind = 'direct' AND o.conversation_id = c.id AND o.person_id <> cm.person_id \
             LEFT JOIN people op ON op.id = o.person_id \
             WHERE cm.person_id = $1 ORDER BY COALESCE(lm.created_at, 0) DESC, c.id")
        .bind(person),
    )
    .await
}

/// Unread messages over all of a person's conversations.
pub async fn unread_total(db: &Db, person: i64) -> Result<i64, DbError> {
    let (n,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM conversation_members cm JOIN messages u ON u.conversation_id = cm.conversation_id \
                 AND u.id > cm.last_read_id AND u.sender_id <> cm.person_id AND u.recalled_at IS NULL AND u.removed_at IS NULL \
                 WHERE cm.person_id = $1")
            .bind(person),
        )
        .await?;
    Ok(n)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub sender_id: i64,
    pub sender_name: String,
    pub body: String,
    pub reply_to: Option<i64>,
    pub reply_sender: Option<String>,
    pub reply_body: Option<String>,
    pub reply_gone: Option<bool>,
    pub created_at: i64,
    pub recalled_at: Option<i64>,
    pub removed_at: Option<i64>,
}

const MESSAGE: &str = "SELECT m.id, m.conversation_id, m.sender_id, s.name AS sender_name, m.body, m.reply_to, \
                       rs.name AS reply_sender, r.body AS reply_body, \
                       CASE WHEN r.id IS NULL THEN NULL WHEN r.recalled_at IS NOT NULL OR r.removed_at IS NOT NULL THEN TRUE ELSE FALSE END AS reply_gone, \
                       m.created_at, m.recalled_at, m.removed_at \
                       FROM messages m JOIN people s ON s.id = m.sender_id \
                       LEFT JOIN messages r ON r.id = m.reply_to LEFT JOIN people rs ON rs.id = r.sender_id";

pub async fn message(db: &Db, id: i64) -> Result<Option<MessageRow>, DbError> {
    db.fetch_optional(sql(format!("{MESSAGE} WHERE m.id = $1")).bind(id)).await
}

/// A page of a conversation's messages before `before` (the newest when None), oldest first.
pub async fn page(db: &Db, conversation: i64, before: Option<i64>, limit: i64) -> Result<Vec<MessageRow>, DbError> {
    let mut rows: Vec<MessageRow> = db
        .fetch_all(
            sql(format!("{MESSAGE} WHERE m.conversation_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"))
                .bind(conversation)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit),
        )
        .await?;
    rows.reverse();
    Ok(rows)
}

/// Messages after `after` in all of a person's conversations, oldest first: what a reconnecting client missed.
pub async fn since(db: &Db, person: i64, after: i64, limit: i64) -> Result<Vec<MessageRow>, DbError> {
    db.fetch_all(
        sql(format!(
            "{MESSAGE} JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.person_id = $1 \
             WHERE m.id > $2 ORDER BY m.id LIMIT $3"
        ))
        .bind(person)
        .bind(after)
        .bind(limit),
    )
    .await
}

/// The newest message id there is (where a client with nothing starts).
pub async fn latest_id(db: &Db) -> Result<i64, DbError> {
    let (n,): (Option<i64>,) = db.fetch_one(sql("SELECT MAX(id) FROM messages")).await?;
    Ok(n.unwrap_or(0))
}

pub struct NewMessage<'a> {
    pub conversation_id: i64,
    pub sender_id: i64,
    pub body: &'a str,
    pub reply_to: Option<i64>,
    pub mentions: &'a [i64],
    pub created_at: i64,
}

/// Adds a message; the conversation's latest message and the sender's read mark move to it.
pub async fn insert(tx: &mut Tx, m: &NewMessage<'_>) -> Result<i64, DbError> {
    let now = m.created_at;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO messages (conversation_id, sender_id, body, reply_to, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(m.conversation_id)
                .bind(m.sender_id)
                .bind(m.body)
                .bind(m.reply_to)
                .bind(now),
        )
        .await?;
    for p in m.mentions {
        tx.execute(sql("INSERT INTO message_mentions (message_id, person_id) VALUES ($1, $2)").bind(id).bind(*p)).await?;
    }
    tx.execute(
        sql("UPDATE conversations SET last_message_id = $2 WHERE id = $1 AND last_message_id < $2")
            .bind(m.conversation_id)
            .bind(id),
    )
    .await?;
    tx.execute(
        sql("UPDATE conversation_members SET last_read_id = $3 WHERE conversation_id = $1 AND person_id = $2")
            .bind(m.conversation_id)
            .bind(m.sender_id)
            .bind(id),
    )
    .await?;
    Ok(id)
}

pub async fn add_attachment(tx: &mut Tx, message: i64, attachment: i64, position: i64) -> Result<(), DbError> {
    tx.execute(
        sql("INSERT INTO message_attachments (message_id, attachment_id, position) VALUES ($1, $2, $3)")
            .bind(message)
            .bind(attachment)
            .bind(position),
    )
    .await?;
    Ok(())
}

/// (message, attachment) pairs of these messages, in order.
pub async fn attachment_links(db: &Db, messages: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let q = sql_in(
        db.dialect(),
        "SELECT message_id, attachment_id FROM message_attachments WHERE message_id",
        messages.iter().copied(),
    );
    db.fetch_all(q.append(" ORDER BY message_id, position")).await
}

/// (message, person) mentions of these messages.
pub async fn mentions(db: &Db, messages: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    db.fetch_all(sql_in(
        db.dialect(),
        "SELECT message_id, person_id FROM message_mentions WHERE message_id",
        messages.iter().copied(),
    ))
    .await
}

pub async fn recall(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    tx.execute(sql("UPDATE messages SET recalled_at = $2 WHERE id = $1 AND recalled_at IS NULL").bind(id).bind(kernel::now()))
        .await?;
    Ok(())
}

pub async fn remove(tx: &mut Tx, id: i64, by: i64) -> Result<(), DbError> {
    tx.execute(
        sql("UPDATE messages SET removed_at = $2, removed_by = $3 WHERE id = $1 AND removed_at IS NULL")
            .bind(id)
            .bind(kernel::now())
            .bind(by),
    )
    .await?;
    Ok(())
}

/// Deletes messages older than `before` with their mentions, file links and reports; a newer reply
/// that quoted one keeps its text and loses the quote. Returns how many messages went.
pub async fn purge_before(db: &Db, before: i64) -> Result<u64, DbError> {
    let mut tx = db.begin().await?;
    let old = "SELECT id FROM messages WHERE created_at < $1";
    tx.execute(sql(format!("UPDATE messages SET reply_to = NULL WHERE reply_to IN ({old})")).bind(before)).await?;
    for table in ["message_mentions", "message_attachments", "message_reports"] {
        tx.execute(sql(format!("DELETE FROM {table} WHERE message_id IN ({old})")).bind(before)).await?;
    }
    let n = tx.execute(sql("DELETE FROM messages WHERE created_at < $1").bind(before)).await?;
    tx.commit().await?;
    Ok(n)
}
