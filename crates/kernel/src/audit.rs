//! The append-only audit log: every login and every admin write, with before and after.
//! Entries are written inside the action's own transaction, so an action and its record commit together.

use crate::auth::Actor;
use crate::db::{Db, DbError, Tx, sql};
use crate::web::RequestMeta;

/// Every action the log records, in the order the audit page's filter lists them. Each has its
/// label `audit-action-<action>` in every locale (tested); recording another is a bug, which
/// debug builds (and so the tests) stop at.
pub const ACTIONS: &[&str] = &[
    "login",
    "login_locked",
    "password_change",
    "totp_enable",
    "totp_disable",
    "activation_codes_issue",
    "activation_code_issue",
    "account_activate",
    "org_unit_create",
    "org_unit_update",
    "org_unit_move",
    "school_year_create",
    "term_create",
    "class_create",
    "class_teacher_assign",
    "class_head_teacher_assign",
    "student_move_class",
    "person_create",
    "guardian_link",
    "roster_import",
    "bell_schedule_save",
    "timetable_draft_save",
    "timetable_import",
    "timetable_publish",
    "catalogue_import",
    "catalogue_rename",
    "catalogue_delete",
    "harvest_source_add",
    "resource_create",
    "resource_update",
    "resource_version_propose",
    "resource_version_approve",
    "resource_version_reject",
    "resource_submit",
    "resource_approve",
    "resource_reject",
    "resource_recommend",
    "resource_take_down",
    "comment_hide",
    "member_mute",
    "member_unmute",
    "group_mute",
    "group_unmute",
    "message_remove",
    "report_dismiss",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// One audit record. `scope_path` is the org-tree path the action touched; auditors see entries
/// whose scope lies under theirs.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: String,
    pub action: &'static str,
    pub outcome: Outcome,
    pub target_type: &'static str,
    pub target_id: Option<i64>,
    pub target_name: String,
    pub scope_path: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Entry {
    /// A successful action of a signed-in actor on one target; add `before`/`after` as they apply.
    pub fn by(
        actor: &Actor,
        meta: &RequestMeta,
        action: &'static str,
        target_type: &'static str,
        target_id: i64,
        target_name: impl Into<String>,
        scope_path: impl Into<String>,
    ) -> Entry {
        Entry {
            actor_id: Some(actor.person_id),
            actor_name: actor.name.clone(),
            ip: meta.ip.clone(),
            action,
            outcome: Outcome::Success,
            target_type,
            target_id: Some(target_id),
            target_name: target_name.into(),
            scope_path: scope_path.into(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: serde_json::Value) -> Entry {
        self.before = Some(value);
        self
    }

    pub fn after(mut self, value: serde_json::Value) -> Entry {
        self.after = Some(value);
        self
    }
}

fn insert(e: &Entry) -> crate::db::Query {
    debug_assert!(ACTIONS.contains(&e.action), "audit action {} is not in audit::ACTIONS", e.action);
    sql("INSERT INTO audit_log (at, actor_id, actor_name, ip, action, outcome, target_type, target_id, target_name, \
         scope_path, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
    .bind(crate::now())
    .bind(e.actor_id)
    .bind(e.actor_name.as_str())
    .bind(e.ip.as_str())
    .bind(e.action)
    .bind(match e.outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    })
    .bind(e.target_type)
    .bind(e.target_id)
    .bind(e.target_name.as_str())
    .bind(e.scope_path.as_str())
    .bind(e.before.as_ref().map(|v| v.to_string()))
    .bind(e.after.as_ref().map(|v| v.to_string()))
}

/// Records inside the action's transaction.
pub async fn record(tx: &mut Tx, entry: &Entry) -> Result<(), DbError> {
    tx.execute(insert(entry)).await.map(|_| ())
}

/// Records on its own, for events that have no transaction of their own (a failed login).
pub async fn record_alone(db: &Db, entry: &Entry) -> Result<(), DbError> {
    db.execute(insert(entry)).await.map(|_| ())
}

/// Deletes entries older than the retention period; the only deletion the log ever sees.
pub async fn purge(db: &Db, retention_days: i64) -> Result<u64, DbError> {
    db.execute(sql("DELETE FROM audit_log WHERE at < $1").bind(crate::now() - retention_days * 86_400)).await
}
