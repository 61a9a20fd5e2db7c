//! Notices (通知): from a class, a school or a bureau to an audience (a class's parents, a school's
//! teachers …), optionally asking for confirmation. The sender, and the administrators over them,
//! see who has read or confirmed and who has not, and remind the rest at once. People who join the
//! audience later get the notice when they next look.

pub mod http;
pub mod store;

use crate::hub::{self, Signal};
use directory::people::audience::{self, Members, Place};
use kernel::auth::{Actor, Capability, Role, Target};
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::{App, AppError};
use store::Notice;

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 5000;
/// How far back a newcomer to an audience is given its notices.
const CATCH_UP_SECONDS: i64 = 180 * 86_400;

/// Where a notice goes: an audience of a class, or of the sender's whole unit (school or bureau).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub class_id: Option<i64>,
    pub audience: Members,
}

impl Scope {
    /// `class:<id>:<audience>` or `unit:<audience>`, as forms and the API send it.
    pub fn parse(s: &str) -> Option<Scope> {
        let mut parts = s.split(':');
        match (parts.next()?, parts.next(), parts.next()) {
            ("class", Some(id), Some(a)) => Some(Scope { class_id: Some(id.parse().ok()?), audience: Members::parse(a)? }),
            ("unit", Some(a), None) => Some(Scope { class_id: None, audience: Members::parse(a)? }),
            _ => None,
        }
        .filter(|s| s.audience != Members::Staff)
    }

    pub fn value(&self) -> String {
        match self.class_id {
            Some(c) => format!("class:{c}:{}", self.audience.as_str()),
            None => format!("unit:{}", self.audience.as_str()),
        }
    }
}

/// The scopes the actor may send to, with their labels: teachers to their classes' parents and
/// students; administrators to their school's or region's parents, students and teachers.
pub async fn scopes(app: &App, actor: &Actor, locale: Locale) -> Result<Vec<(Scope, String)>, AppError> {
    let year = directory::codes::school_year_of(kernel::today(app.config.display_utc_offset_minutes));
    let label = |place: &str, a: Members| {
        app.i18n.t_args(locale, &format!("notices-audience-{}", a.as_str()), &[("place", place.to_string())])
    };
    let mut out = Vec::new();
    match actor.role {
        Role::Teacher | Role::HeadTeacher => {
            for c in &actor.class_ids {
                let Some(class) = directory::classes::store::get(&app.db, *c).await? else { continue };
                let name = class.display_name(year, locale);
                for a in [Members::Parents, Members::Students] {
                    out.push((Scope { class_id: Some(*c), audience: a }, label(&name, a)));
                }
            }
        }
        Role::SchoolAdmin | Role::RegionAdmin => {
            for a in [Members::Parents, Members::Students, Members::Teachers] {
                out.push((Scope { class_id: None, audience: a }, label(&actor.unit_name, a)));
            }
        }
        _ => {}
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct NoticeInput {
    /// `class:<id>:parents|students` or `unit:parents|students|teachers`.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Ask recipients to confirm (回执), not only to read.
    #[serde(default)]
    pub needs_confirm: bool,
}

/// The people a scope of the actor reaches, where it is, and the issuer's name.
pub(crate) async fn resolve(app: &App, actor: &Actor, scope: &Scope) -> Result<(Vec<i64>, String, String), AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    match scope.class_id {
        Some(class) => {
            let class_scope = matches!(actor.role, Role::Teacher | Role::HeadTeacher) && actor.class_ids.contains(&class);
            let admin_scope = actor.role.is_admin()
                && directory::classes::http::visible_class(app, actor, class, Capability::Manage).await.is_ok();
            if !class_scope && !admin_scope {
                return Err(AppError::invalid("scope", "notices-error-scope"));
            }
            let (c, school_path) = directory::classes::http::visible_class(app, actor, class, Capability::View).await?;
            let year = directory::codes::school_year_of(today);
            let people = audience::of(&app.db, Place::Class(class), scope.audience, today).await?;
            Ok((people, school_path, c.display_name(year, Locale::ZhCn)))
        }
        None if actor.role.is_admin() => {
            let people = audience::of(&app.db, Place::Under(&actor.unit_path), scope.audience, today).await?;
            Ok((people, actor.unit_path.clone(), actor.unit_name.clone()))
        }
        None => Err(AppError::invalid("scope", "notices-error-scope")),
    }
}

pub(crate) fn check_text(title: &str, body: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if title.is_empty() {
        errors.push(FieldError::new("title", "error-field-required"));
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.push(FieldError::new("title", "error-field-too-long").arg("max", MAX_TITLE_CHARS));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        errors.push(FieldError::new("body", "error-field-too-long").arg("max", MAX_BODY_CHARS));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// What a notice to create carries besides its audience.
pub(crate) struct Draft<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub resource_id: Option<i64>,
    pub needs_confirm: bool,
}

/// Writes a notice and a receipt for each recipient, in one transaction, and signals them.
pub(crate) async fn create(
    tx: &mut kernel::db::Tx,
    sender: i64,
    scope: &Scope,
    (people, scope_path, issuer_name): (&[i64], &str, &str),
    draft: &Draft<'_>,
) -> Result<(i64, hub::Staged), AppError> {
    let id = store::create(
        tx,
        &store::NewNotice {
            kind: draft.kind,
            sender_id: sender,
            issuer_name,
            issuer_path: scope_path,
            audience: scope.audience.as_str(),
            scope_path,
            scope_class_id: scope.class_id,
            title: draft.title,
            body: draft.body,
            resource_id: draft.resource_id,
            needs_confirm: draft.needs_confirm,
        },
    )
    .await?;
    store::add_recipients(tx, id, people).await?;
    let staged = hub::stage(tx, Signal::Notice { n: id, reminder: false }).await?;
    Ok((id, staged))
}

/// Sends a notice; returns its id.
pub async fn send(app: &App, actor: &Actor, input: &NoticeInput) -> Result<i64, AppError> {
    let title = input.title.trim();
    let body = input.body.trim();
    let scope = Scope::parse(input.scope.trim()).ok_or_else(|| AppError::invalid("scope", "notices-error-scope"))?;
    check_text(title, body)?;
    let (people, path, issuer) = resolve(app, actor, &scope).await?;
    if people.is_empty() {
        return Err(AppError::invalid("scope", "notices-error-empty-audience"));
    }
    let mut tx = app.db.begin().await?;
    let draft = Draft { kind: "notice", title, body, resource_id: None, needs_confirm: input.needs_confirm };
    let (id, staged) = create(&mut tx, actor.person_id, &scope, (&people, &path, &issuer), &draft).await?;
    kernel::activity::record(&mut tx, actor, "notice_send", id).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It was sent to them.
    Recipient,
    /// They sent it.
    Sender,
    /// An administrator over the unit it was issued in.
    Overseer,
}

impl Standing {
    pub fn sees_receipts(self) -> bool {
        self != Standing::Recipient
    }
}

pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<(Notice, Standing), AppError> {
    let n = store::get(&app.db, id).await?.ok_or(AppError::NotFound)?;
    if n.sender_id == actor.person_id {
        return Ok((n, Standing::Sender));
    }
    if actor.role.is_admin() && actor.may(Capability::Manage, Target::Unit { path: &n.issuer_path }) {
        return Ok((n, Standing::Overseer));
    }
    if store::receipt(&app.db, id, actor.person_id).await?.is_some() {
        return Ok((n, Standing::Recipient));
    }
    Err(AppError::NotFound)
}

/// A recipient opens (and, if `confirm`, confirms) a notice; the sender's counts follow live.
pub async fn acknowledge(app: &App, actor: &Actor, id: i64, confirm: bool) -> Result<Notice, AppError> {
    let (n, standing) = visible(app, actor, id).await?;
    if standing != Standing::Recipient {
        if confirm {
            return Err(AppError::Forbidden);
        }
        return Ok(n);
    }
    if confirm && !n.needs_confirm {
        return Err(AppError::invalid("confirm", "notices-error-no-confirm"));
    }
    let mut tx = app.db.begin().await?;
    if store::stamp(&mut tx, id, actor.person_id, confirm).await? {
        kernel::activity::record(&mut tx, actor, if confirm { "notice_confirm" } else { "notice_read" }, id).await?;
        let staged = hub::stage(&mut tx, Signal::NoticeRead { n: id, sender: n.sender_id }).await?;
        tx.commit().await?;
        staged.deliver(app);
    }
    Ok(n)
}

/// Reminds everyone who has not read (or confirmed) it; returns how many.
pub async fn remind(app: &App, actor: &Actor, id: i64) -> Result<u64, AppError> {
    let (n, standing) = visible(app, actor, id).await?;
    if !standing.sees_receipts() {
        return Err(AppError::Forbidden);
    }
    let mut tx = app.db.begin().await?;
    let count = store::remind(&mut tx, id, n.needs_confirm).await?;
    let staged = hub::stage(&mut tx, Signal::Notice { n: id, reminder: true }).await?;
    tx.commit().await?;
    staged.deliver(app);
    Ok(count)
}

/// Gives the actor the notices of audiences they joined after those were sent.
pub async fn catch_up(app: &App, actor: &Actor) -> Result<(), AppError> {
    let audience = match actor.role {
        Role::Parent => Members::Parents,
        Role::Student => Members::Students,
        Role::Teacher | Role::HeadTeacher => Members::Teachers,
        _ => return Ok(()),
    };
    let mut tx = app.db.begin().await?;
    let since = kernel::now() - CATCH_UP_SECONDS;
    store::catch_up(&mut tx, actor.person_id, audience.as_str(), &actor.class_ids, &actor.unit_path, since).await?;
    tx.commit().await?;
    Ok(())
}
