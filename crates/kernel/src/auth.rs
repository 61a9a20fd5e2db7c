//! Who is acting, and the one function that decides what they may do.
//!
//! A role is held at a place: an org unit (its materialised path) and sometimes classes. Every handler
//! asks [`permits`], and list queries filter with the same rule through [`Actor::scope`].

use crate::db::path_range;
use crate::i18n::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    RegionAdmin,
    SchoolAdmin,
    Auditor,
    Researcher,
    Reviewer,
    Teacher,
    HeadTeacher,
    Student,
    Parent,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::RegionAdmin,
        Role::SchoolAdmin,
        Role::Auditor,
        Role::Researcher,
        Role::Reviewer,
        Role::Teacher,
        Role::HeadTeacher,
        Role::Student,
        Role::Parent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::RegionAdmin => "region_admin",
            Role::SchoolAdmin => "school_admin",
            Role::Auditor => "auditor",
            Role::Researcher => "researcher",
            Role::Reviewer => "reviewer",
            Role::Teacher => "teacher",
            Role::HeadTeacher => "head_teacher",
            Role::Student => "student",
            Role::Parent => "parent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Fluent key of the role's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::RegionAdmin => "role-region_admin",
            Role::SchoolAdmin => "role-school_admin",
            Role::Auditor => "role-auditor",
            Role::Researcher => "role-researcher",
            Role::Reviewer => "role-reviewer",
            Role::Teacher => "role-teacher",
            Role::HeadTeacher => "role-head_teacher",
            Role::Student => "role-student",
            Role::Parent => "role-parent",
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::RegionAdmin | Role::SchoolAdmin)
    }
}

/// One of the roles a person may switch to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleChoice {
    pub role_id: i64,
    pub role: Role,
    pub unit_name: String,
    pub class_name: Option<String>,
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session,
    /// A personal API token; `write` false means read-only.
    Token {
        write: bool,
    },
}

/// The signed-in person acting in one of their roles.
#[derive(Debug, Clone)]
pub struct Actor {
    pub person_id: i64,
    pub name: String,
    pub role_id: i64,
    pub role: Role,
    pub unit_id: i64,
    pub unit_path: String,
    pub unit_name: String,
    /// Classes the role reaches: taught (teachers), attended (students), the children's (parents).
    pub class_ids: Vec<i64>,
    /// Head teachers: the classes they lead (and may manage).
    pub head_class_ids: Vec<i64>,
    /// Parents: their children.
    pub child_ids: Vec<i64>,
    pub roles: Vec<RoleChoice>,
    pub credential: Credential,
    pub locale: Option<Locale>,
    /// The session's CSRF token (empty for API tokens, which carry no cookies).
    pub csrf: String,
    pub session_id: Option<i64>,
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    View,
    Manage,
    Audit,
}

/// What the action is aimed at, described by its place in the org tree.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Unit {
        path: &'a str,
    },
    Class {
        school_path: &'a str,
        class_id: i64,
    },
    /// A person, by the places of their current roles and their classes.
    Person {
        person_id: i64,
        paths: &'a [String],
        class_ids: &'a [i64],
    },
}

fn under(path: &str, scope: &str) -> bool {
    path.starts_with(scope)
}

/// The one permission rule. Admins manage their subtree; auditors read its audit log; bureau staff
/// (researchers, reviewers) see its units and classes; teachers, students and parents see their school,
/// their classes and the people in them; everybody sees themselves.
pub fn permits(actor: &Actor, cap: Capability, target: Target<'_>) -> bool {
    if cap != Capability::View && actor.credential == (Credential::Token { write: false }) {
        return false;
    }
    let scope = actor.unit_path.as_str();
    match (actor.role, cap, target) {
        (_, Capability::View, Target::Person { person_id, .. }) if person_id == actor.person_id => true,
        (Role::RegionAdmin | Role::SchoolAdmin, _, Target::Unit { path }) => under(path, scope),
        (Role::RegionAdmin | Role::SchoolAdmin, _, Target::Class { school_path, .. }) => under(school_path, scope),
        (Role::RegionAdmin | Role::SchoolAdmin, _, Target::Person { paths, .. }) => {
            !paths.is_empty() && paths.iter().all(|p| under(p, scope))
        }
        (Role::Auditor, Capability::View | Capability::Audit, Target::Unit { path }) => under(path, scope),
        (Role::Auditor | Role::Researcher | Role::Reviewer, Capability::View, Target::Class { school_path, .. }) => {
            under(school_path, scope)
        }
        (Role::Researcher | Role::Reviewer, Capability::View, Target::Unit { path }) => under(path, scope),
        (Role::Teacher | Role::HeadTeacher | Role::Student | Role::Parent, Capability::View, Target::Unit { path }) => {
            path == scope
        }
        (Role::Teacher | Role::HeadTeacher | Role::Student | Role::Parent, Capability::View, Target::Class { class_id, .. }) => {
            actor.class_ids.contains(&class_id)
        }
        (Role::HeadTeacher, Capability::Manage, Target::Class { class_id, .. }) => actor.head_class_ids.contains(&class_id),
        (Role::Teacher | Role::HeadTeacher, Capability::View, Target::Person { class_ids, .. }) => {
            class_ids.iter().any(|c| actor.class_ids.contains(c))
        }
        (Role::Parent, Capability::View, Target::Person { person_id, .. }) => actor.child_ids.contains(&person_id),
        _ => false,
    }
}

impl Actor {
    /// The key range of materialised paths this actor's lists are limited to.
    pub fn scope(&self) -> (String, String) {
        path_range(&self.unit_path)
    }

    pub fn may(&self, cap: Capability, target: Target<'_>) -> bool {
        permits(self, cap, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, path: &str, classes: &[i64]) -> Actor {
        Actor {
            person_id: 1,
            name: "测试".into(),
            role_id: 1,
            role,
            unit_id: 1,
            unit_path: path.into(),
            unit_name: "x".into(),
            class_ids: classes.to_vec(),
            head_class_ids: if role == Role::HeadTeacher { classes.to_vec() } else { vec![] },
            child_ids: vec![42],
            roles: vec![],
            credential: Credential::Session,
            locale: None,
            csrf: String::new(),
            session_id: None,
        }
    }

    #[test]
    fn admins_manage_their_subtree_only() {
        let district = actor(Role::RegionAdmin, "/1/2/", &[]);
        assert!(district.may(Capability::Manage, Target::Unit { path: "/1/2/9/" }));
        assert!(!district.may(Capability::View, Target::Unit { path: "/1/3/9/" }));
        assert!(!district.may(Capability::View, Target::Unit { path: "/1/" }));
        let school = actor(Role::SchoolAdmin, "/1/2/9/", &[]);
        assert!(!school.may(Capability::Manage, Target::Unit { path: "/1/2/" }));
        let paths = ["/1/2/9/".to_string(), "/1/3/8/".to_string()];
        let p = Target::Person { person_id: 5, paths: &paths, class_ids: &[] };
        assert!(!school.may(Capability::View, p), "a person also placed elsewhere is not fully in scope");
    }

    #[test]
    fn teachers_parents_and_students_see_their_own() {
        let teacher = actor(Role::Teacher, "/1/2/9/", &[7]);
        assert!(teacher.may(Capability::View, Target::Class { school_path: "/1/2/9/", class_id: 7 }));
        assert!(!teacher.may(Capability::View, Target::Class { school_path: "/1/2/9/", class_id: 8 }));
        assert!(!teacher.may(Capability::Manage, Target::Class { school_path: "/1/2/9/", class_id: 7 }));
        let head = actor(Role::HeadTeacher, "/1/2/9/", &[7]);
        assert!(head.may(Capability::Manage, Target::Class { school_path: "/1/2/9/", class_id: 7 }));
        let student = Target::Person { person_id: 42, paths: &[], class_ids: &[7] };
        assert!(teacher.may(Capability::View, student));
        let parent = actor(Role::Parent, "/1/2/9/", &[7]);
        assert!(parent.may(Capability::View, student));
        let other_child = Target::Person { person_id: 43, paths: &[], class_ids: &[7] };
        assert!(!parent.may(Capability::View, other_child));
        assert!(!parent.may(Capability::View, Target::Unit { path: "/1/2/10/" }));
    }

    #[test]
    fn read_only_tokens_cannot_write() {
        let mut admin = actor(Role::RegionAdmin, "/1/", &[]);
        admin.credential = Credential::Token { write: false };
        assert!(admin.may(Capability::View, Target::Unit { path: "/1/2/" }));
        assert!(!admin.may(Capability::Manage, Target::Unit { path: "/1/2/" }));
    }
}

/// Signed-in actors by credential hash, for a few seconds, so a request costs no database round trip.
/// Logout, revocation and role or language changes evict at once on this node; other nodes of a
/// cluster see them within [`ActorCache::STALE_AFTER`] plus one refresh.
///
/// Entries are fresh for 4–6 s (spread by key, so sessions that started together do not all expire
/// together), then served a little longer while one request refreshes them in the background: a
/// burst of expiries never makes requests wait on the database.
#[derive(Default)]
pub struct ActorCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
}

struct Cached {
    actor: Actor,
    fresh_until: std::time::Instant,
    stale_until: std::time::Instant,
    refreshing: bool,
}

/// What the cache knows of a credential.
pub enum Cache {
    Fresh(Actor),
    /// Still usable; the caller was chosen to refresh it.
    Stale(Actor),
    Miss,
}

impl ActorCache {
    pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(6);
    const MAX_ENTRIES: usize = 100_000;

    pub fn get(&self, key: &str) -> Cache {
        let now = std::time::Instant::now();
        let mut entries = self.entries.lock().expect("lock poisoned");
        match entries.get_mut(key) {
            Some(c) if now < c.fresh_until => Cache::Fresh(c.actor.clone()),
            Some(c) if now < c.stale_until && c.refreshing => Cache::Fresh(c.actor.clone()),
            Some(c) if now < c.stale_until => {
                c.refreshing = true;
                Cache::Stale(c.actor.clone())
            }
            _ => Cache::Miss,
        }
    }

    pub fn put(&self, key: String, actor: Actor) {
        // The key is a hex hash: its first bytes spread lifetimes over 4–6 s without a random source.
        let spread = u64::from_str_radix(key.get(..3).unwrap_or("0"), 16).unwrap_or(0) * 2000 / 4096;
        let now = std::time::Instant::now();
        let fresh_until = now + std::time::Duration::from_millis(4000 + spread);
        let cached =
            Cached { actor, fresh_until, stale_until: fresh_until + std::time::Duration::from_secs(4), refreshing: false };
        let mut entries = self.entries.lock().expect("lock poisoned");
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, c| c.stale_until > now);
        }
        entries.insert(key, cached);
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("lock poisoned").remove(key);
    }

    /// Forgets everything cached for a person (after logout, revocation, a role or language change).
    pub fn forget_person(&self, person_id: i64) {
        self.entries.lock().expect("lock poisoned").retain(|_, c| c.actor.person_id != person_id);
    }
}
