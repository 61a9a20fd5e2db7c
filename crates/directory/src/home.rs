//! The home page: what the acting role has, and nothing that does not exist yet.

use crate::classes::store as classes;
use crate::org::store as org;
use crate::people::store as people;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kernel::auth::{Actor, Role};
use kernel::web::PageContext;
use kernel::{App, AppError};

pub struct ClassLink {
    pub id: i64,
    pub name: String,
    pub school: String,
    pub head: bool,
}

pub struct ChildCard {
    pub id: i64,
    pub name: String,
    pub classes: Vec<ClassLink>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    ctx: &'a PageContext,
    actor: &'a Actor,
    counts: Option<org::UnitCounts>,
    children: Vec<crate::org::model::OrgUnit>,
    classes: Vec<ClassLink>,
    kids: Vec<ChildCard>,
}

impl HomePage<'_> {
    fn is_admin(&self) -> bool {
        self.actor.role.is_admin()
    }

    fn is_bureau_staff(&self) -> bool {
        matches!(self.actor.role, Role::RegionAdmin | Role::Auditor | Role::Researcher | Role::Reviewer | Role::SchoolAdmin)
    }

    fn may_audit(&self) -> bool {
        matches!(self.actor.role, Role::RegionAdmin | Role::SchoolAdmin | Role::Auditor)
    }
}

async fn class_link(
    app: &App,
    id: i64,
    head: bool,
    locale: kernel::i18n::Locale,
    school_year: i64,
) -> Result<Option<ClassLink>, AppError> {
    let Some(c) = classes::get(&app.db, id).await? else { return Ok(None) };
    let school = org::get(&app.db, c.school_id).await?.map(|s| s.name).unwrap_or_default();
    Ok(Some(ClassLink { id, name: c.display_name(school_year, locale), school, head }))
}

pub async fn home(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = crate::calendar::store::school_year(&app.db, today).await?;
    let mut page = HomePage { ctx: &ctx, actor: &actor, counts: None, children: vec![], classes: vec![], kids: vec![] };
    match actor.role {
        Role::RegionAdmin | Role::SchoolAdmin | Role::Auditor | Role::Researcher | Role::Reviewer => {
            page.counts = Some(org::counts(&app.db, &actor.unit_path).await?);
            page.children = org::children(&app.db, actor.unit_id).await?;
        }
        Role::Teacher | Role::HeadTeacher | Role::Student => {
            for id in &actor.class_ids {
                if let Some(l) = class_link(&app, *id, actor.head_class_ids.contains(id), ctx.locale, school_year).await? {
                    page.classes.push(l);
                }
            }
            page.classes.sort_by_key(|c| !c.head);
        }
        Role::Parent => {
            for child in people::children_of(&app.db, actor.person_id).await? {
                let mut card = ChildCard { id: child.person_id, name: child.name, classes: vec![] };
                for a in people::assignments(&app.db, child.person_id).await? {
                    if let Some(c) = a.class_id.filter(|_| a.is_current(today) && a.role() == Role::Student)
                        && let Some(l) = class_link(&app, c, false, ctx.locale, school_year).await?
                    {
                        card.classes.push(l);
                    }
                }
                page.kids.push(card);
            }
        }
    }
    Ok(ctx.render(&ctx.t("home-title"), &page)?.into_response())
}
