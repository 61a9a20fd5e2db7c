//! Harvesting other platforms (互联互通): each source is an OAI-PMH repository pulled on its own
//! schedule in Dublin Core. A new record becomes a resource that links to its page at the source
//! (源自 …, no file is copied) with its metadata mapped onto our code lists, submitted to the top
//! unit's review queue. A record seen again is left alone (its OAI identifier is unique here);
//! a record the source deletes is taken down here. Each run starts from the newest datestamp of
//! the last complete run.

pub mod client;
pub mod http;
pub mod store;

use crate::resources::model::{ResourceInput, classification};
use crate::{resources, vocab};
use client::{HarvestError, Record};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::web::{Checks, Validate, check};
use kernel::{App, AppError};
use serde::Deserialize;
use store::Source;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SourceInput {
    pub name: String,
    pub base_url: String,
    pub set_spec: String,
    pub stage: String,
    pub subject: String,
    pub resource_type: String,
    pub licence: String,
    #[serde(deserialize_with = "crate::resources::model::number")]
    pub interval_hours: Option<i64>,
}

impl Validate for SourceInput {
    fn validate(&self, v: &mut Checks) {
        v.required("name", &self.name).max_chars("name", &self.name, 100);
        v.required("base_url", &self.base_url).max_chars("base_url", &self.base_url, 500);
        let url = self.base_url.trim();
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            v.add("base_url", "library-error-url");
        }
        v.max_chars("set_spec", &self.set_spec, 200);
        classification(v, &self.stage, None, &self.subject);
        for (field, value, list) in
            [("resource_type", &self.resource_type, vocab::RESOURCE_TYPES), ("licence", &self.licence, vocab::LICENCES)]
        {
            if vocab::find(list, value).is_none() {
                v.push(FieldError::new(field, "library-error-code").arg("value", value));
            }
        }
        if !self.interval_hours.is_some_and(|h| (1..=24 * 30).contains(&h)) {
            v.push(FieldError::new("interval_hours", "library-error-interval").arg("max", 24 * 30));
        }
    }
}

/// Sources are the region's: the administrators of the top of the tree keep them, as they keep
/// the catalogue.
pub fn may_manage(actor: &Actor) -> bool {
    crate::catalogue::may_edit(actor)
}

pub async fn add(app: &App, actor: &Actor, meta: &kernel::web::RequestMeta, input: &SourceInput) -> Result<i64, AppError> {
    if !may_manage(actor) {
        return Err(AppError::Forbidden);
    }
    check(input)?;
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx, input, actor.person_id, actor.unit_id).await.map_err(|e| {
        if e.constraint() == Some("harvest_sources_url_key") {
            AppError::invalid("base_url", "library-error-source-exists")
        } else {
            e.into()
        }
    })?;
    kernel::audit::record(
        &mut tx,
        &kernel::audit::Entry::by(
            actor,
            meta,
            "harvest_source_add",
            "harvest_source",
            id,
            input.name.trim(),
            actor.unit_path.clone(),
        )
        .after(serde_json::json!({ "base_url": input.base_url.trim(), "set": input.set_spec.trim() })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub pages: usize,
    /// New records, now waiting for review.
    pub created: usize,
    /// Records already here.
    pub unchanged: usize,
    /// Records the source deleted, taken down here.
    pub withdrawn: usize,
    /// Records that could not be mapped (no title, say).
    pub skipped: usize,
}

/// At most this many pages per run; the rest waits for the next run.
const MAX_PAGES: usize = 500;

/// Runs a source now, if no other node is running it. None when another run holds it.
pub async fn run(app: &App, source_id: i64, due_before: i64) -> Result<Option<Summary>, AppError> {
    let source = store::get(&app.db, source_id).await?.ok_or(AppError::NotFound)?;
    if !store::claim(&app.db, source_id, due_before).await? {
        return Ok(None);
    }
    let outcome = harvest(app, &source).await;
    let (datestamp, result) = match &outcome {
        Ok((summary, newest)) => (newest.clone(), serde_json::to_string(summary).unwrap_or_default()),
        Err(e) => (None, format!("error: {e}")),
    };
    store::finish(&app.db, source_id, datestamp.as_deref(), &result).await?;
    match outcome {
        Ok((summary, _)) => Ok(Some(summary)),
        Err(HarvestError::Oai { code, message }) => Err(AppError::Invalid(vec![
            FieldError::new("base_url", "library-error-harvest").arg("reason", format!("{code}: {message}")),
        ])),
        Err(e) => Err(AppError::Invalid(vec![FieldError::new("base_url", "library-error-harvest").arg("reason", e.to_string())])),
    }
}

/// Runs every source whose interval has passed (the server calls this periodically).
pub async fn run_due(app: &App) -> Result<usize, AppError> {
    let now = kernel::now();
    let mut ran = 0;
    for id in store::due(&app.db, now).await? {
        let Some(source) = store::get(&app.db, id).await? else { continue };
        let due_before = now - source.interval_hours * 3600;
        match run(app, id, due_before.max(1)).await {
            Ok(Some(s)) => {
                ran += 1;
                tracing::info!(source = %source.name, created = s.created, withdrawn = s.withdrawn, "harvested");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(source = %source.name, error = %e, "harvest failed"),
        }
    }
    Ok(ran)
}

/// Pulls every page; the summary and the newest datestamp seen (where the next run starts).
async fn harvest(app: &App, source: &Source) -> Result<(Summary, Option<String>), HarvestError> {
    let client = kernel::http::client();
    let unit = directory::org::store::get(&app.db, source.unit_id)
        .await
        .map_err(|e| HarvestError::Unreachable(e.to_string()))?
        .ok_or_else(|| HarvestError::Unreachable("the receiving unit no longer exists".into()))?;
    let level = resources::LEVELS.iter().find(|l| l.1 == unit.kind).map(|l| l.0).unwrap_or("city");
    let mut summary = Summary::default();
    let mut newest = source.last_datestamp.clone();
    let mut token: Option<String> = None;
    loop {
        let url = client::list_url(&source.base_url, &source.set_spec, source.last_datestamp.as_deref(), token.as_deref());
        let page = client::fetch(&client, &url).await?;
        summary.pages += 1;
        let mut changed = Vec::new();
        for record in &page.records {
            if newest.as_deref().is_none_or(|n| record.datestamp.as_str() > n) {
                newest = Some(record.datestamp.clone());
            }
            let done = apply(app, source, &unit, level, record, &mut summary)
                .await
                .map_err(|e| HarvestError::Unreachable(e.to_string()))?;
            changed.extend(done);
        }
        crate::search::refresh(app, &changed).await.map_err(|e| HarvestError::Unreachable(e.to_string()))?;
        token = page.resumption_token;
        if token.is_none() || summary.pages >= MAX_PAGES {
            break;
        }
    }
    Ok((summary, newest))
}

/// Applies one record; the resource whose visibility changed, if any.
async fn apply(
    app: &App,
    source: &Source,
    unit: &directory::org::model::OrgUnit,
    level: &str,
    record: &Record,
    summary: &mut Summary,
) -> Result<Option<i64>, AppError> {
    let mut tx = app.db.begin().await?;
    let existing = store::harvested(&mut tx, &record.identifier).await?;
    if record.deleted {
        if let Some((id, status)) = existing.filter(|(_, s)| s != "taken_down") {
            resources::store::set_status(&mut tx, id, "taken_down", Some("来源平台已删除该资源")).await?;
            tx.commit().await?;
            summary.withdrawn += 1;
            return Ok((status == "approved").then_some(id));
        }
        return Ok(None);
    }
    if existing.is_some() {
        summary.unchanged += 1;
        return Ok(None);
    }
    let input = map(record, source);
    if check(&input).is_err() || record.identifier.is_empty() {
        summary.skipped += 1;
        return Ok(None);
    }
    let url = record.all("identifier").iter().find(|i| i.starts_with("https://") || i.starts_with("http://")).cloned();
    let url = url.unwrap_or_else(|| source.base_url.clone());
    let new =
        store::HarvestedResource { input: &input, source, identifier: &record.identifier, url: &url, unit_path: &unit.path };
    let Some(id) = store::create_resource(&mut tx, &new).await? else {
        summary.unchanged += 1;
        return Ok(None);
    };
    resources::store::request_publication(&mut tx, id, level, unit.id, &unit.path, source.owner_id).await?;
    tx.commit().await?;
    summary.created += 1;
    Ok(None)
}

/// A code whose Chinese or English name is one of `values` (or the code itself).
fn named(list: &'static [vocab::Term], values: &[String]) -> Option<&'static str> {
    values.iter().find_map(|v| {
        let v = v.trim();
        list.iter().find(|t| t.code == v || t.zh == v || t.en.eq_ignore_ascii_case(v)).map(|t| t.code)
    })
}

fn clip(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

/// Maps Dublin Core onto our metadata; what a record does not say comes from the source.
pub fn map(record: &Record, source: &Source) -> ResourceInput {
    let subjects = record.all("subject");
    let subject = named(vocab::SUBJECTS, subjects).unwrap_or(&source.subject).to_string();
    // 初中 初二 → junior (grade names are not mapped: they differ between platforms).
    let stage = record
        .all("coverage")
        .iter()
        .find_map(|c| {
            ["primary", "junior", "senior", "vocational", "preschool"]
                .into_iter()
                .find(|s| c.starts_with(directory::codes::stage_name(s, kernel::i18n::Locale::ZhCn)))
        })
        .unwrap_or(&source.stage)
        .to_string();
    let keywords: Vec<&str> =
        subjects.iter().map(String::as_str).filter(|s| named(vocab::SUBJECTS, &[s.to_string()]).is_none()).collect();
    let licence = record
        .all("rights")
        .iter()
        .find_map(|r| {
            let r = r.to_lowercase();
            vocab::LICENCES
                .iter()
                .find(|t| r == t.zh.to_lowercase() || r.contains(&format!("({})", t.en.to_lowercase())) || r.contains(t.code))
                .map(|t| t.code)
        })
        .unwrap_or(&source.licence)
        .to_string();
    let language = named(vocab::LANGUAGES, record.all("language")).unwrap_or("zh").to_string();
    ResourceInput {
        title: clip(record.first("title"), 120),
        description: clip(&record.all("description").join("\n"), 4000),
        stage,
        grade: None,
        subject,
        edition: String::new(),
        volume: String::new(),
        chapter_id: None,
        resource_type: named(vocab::RESOURCE_TYPES, record.all("type")).unwrap_or(&source.resource_type).to_string(),
        language,
        keywords: clip(&keywords.join("，"), 200),
        authors: clip(&record.all("creator").join("，"), 200),
        licence,
        duration_seconds: None,
        page_count: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            id: 1,
            name: "邻市资源平台".into(),
            base_url: "https://x/oai".into(),
            set_spec: String::new(),
            stage: "primary".into(),
            subject: "chinese".into(),
            resource_type: "material".into(),
            licence: "platform".into(),
            interval_hours: 24,
            owner_id: 1,
            unit_id: 1,
            last_run_at: None,
            last_datestamp: None,
            last_result: None,
            created_at: 0,
        }
    }

    fn record(pairs: &[(&str, &str)]) -> Record {
        let mut r = Record { identifier: "oai:x:1".into(), ..Default::default() };
        for (k, v) in pairs {
            r.dc.entry(k.to_string()).or_default().push(v.to_string());
        }
        r
    }

    #[test]
    fn names_map_onto_codes_and_the_rest_comes_from_the_source() {
        let r = record(&[
            ("title", "勾股定理的证明"),
            ("subject", "数学"),
            ("subject", "勾股定理"),
            ("type", "课件"),
            ("coverage", "初中 初二"),
            ("rights", "署名 (CC BY 4.0)"),
            ("creator", "王老师"),
        ]);
        let input = map(&r, &source());
        assert_eq!(
            (input.subject.as_str(), input.stage.as_str(), input.resource_type.as_str()),
            ("math", "junior", "courseware")
        );
        assert_eq!(
            (input.licence.as_str(), input.keywords.as_str(), input.authors.as_str()),
            ("cc-by-4.0", "勾股定理", "王老师")
        );
        let bare = map(&record(&[("title", "一首诗")]), &source());
        assert_eq!((bare.subject.as_str(), bare.stage.as_str(), bare.licence.as_str()), ("chinese", "primary", "platform"));
        assert!(check(&bare).is_ok());
        assert!(check(&map(&record(&[]), &source())).is_err(), "no title, no resource");
    }
}
