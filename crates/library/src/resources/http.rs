//! Library pages and API: search and browse, add a resource (chunked upload with progress, or a
//! plain form post without JavaScript), a resource's page with preview, my uploads, the review queue.

use super::model::ResourceInput;
use super::store::{self, Publication, QueueFilter, QueueItem, Resource};
use super::{Decision, LEVELS, moderates};
use crate::search::index::{Facet, SearchQuery, SearchResults, Sort};
use crate::{sniff, uploads, vocab};
use askama::Template;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::auth::Actor;
use kernel::error::FieldError;
use kernel::i18n::Locale;
use kernel::storage::StorageError;
use kernel::upload::Upload;
use kernel::web::{ApiJson, Checks, CsrfForm, PageContext, RequestMeta, Validate};
use kernel::{App, AppError};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/library", get(library_page))
        .route("/library/new", get(new_page).post(new_plain_submit).layer(DefaultBodyLimit::disable()))
        .route("/library/resources", post(new_submit))
        .route("/library/mine", get(mine_page))
        .route("/library/review", get(review_page).post(review_submit))
        .route("/library/resources/{id}", get(resource_page))
        .route("/library/resources/{id}/edit", get(edit_page).post(edit_submit))
        .route("/library/resources/{id}/submit", post(submit_submit))
        .route("/library/resources/{id}/recommend", post(recommend_submit))
        .route("/library/resources/{id}/take-down", post(take_down_submit))
        .route("/library/resources/{id}/file", get(file))
        .route("/library/resources/{id}/preview", get(preview))
        .route("/api/v1/resources", get(api_search).post(api_create))
        .route("/api/v1/resources/{id}", get(api_get).put(api_update))
        .route("/api/v1/resources/{id}/file", get(file))
        .route("/api/v1/resources/{id}/submit", post(api_submit))
        .route("/api/v1/resources/{id}/recommend", post(api_recommend))
        .route("/api/v1/resources/{id}/take-down", post(api_take_down))
        .route("/api/v1/reviews", get(api_queue).post(api_decide))
}

// ---------- search ----------

/// The search parameters, from a page's or the API's query string (a facet may repeat: OR).
fn search_query(params: &[(String, String)]) -> (SearchQuery, String) {
    let mut q = SearchQuery { limit: 20, ..Default::default() };
    let mut text = String::new();
    for (k, v) in params {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "q" => text = v.chars().take(100).collect(),
            "sort" => {
                q.sort = match v {
                    "newest" => Sort::Newest,
                    "used" => Sort::MostUsed,
                    "rating" => Sort::Rating,
                    _ => Sort::Relevance,
                }
            }
            "page" => q.offset = v.parse::<usize>().unwrap_or(1).clamp(1, 50).saturating_sub(1) * q.limit,
            "limit" => q.limit = v.parse::<usize>().unwrap_or(20).clamp(1, 100),
            _ => {
                if let Some(f) = Facet::parse(k) {
                    q.filters.push((f, v.to_string()));
                }
            }
        }
    }
    q.text = text.clone();
    (q, text)
}

/// A facet value as people read it.
/// Grades are named within a stage (初二 is grade 2 of junior secondary), so `stage` is the one
/// stage the results are in, if there is one.
fn facet_label(app_locale: Locale, facet: Facet, value: &str, chapters: &[(i64, String)], stage: Option<&str>) -> String {
    let named = |list: &'static [vocab::Term]| {
        let n = vocab::name(list, value, app_locale);
        if n.is_empty() { value.to_string() } else { n.to_string() }
    };
    match facet {
        Facet::Stage => directory::codes::stage_name(value, app_locale).to_string(),
        Facet::Grade => match (stage, value.parse()) {
            (Some(stage), Ok(grade)) => directory::codes::grade_name(stage, grade, app_locale),
            _ => value.to_string(),
        },
        Facet::Subject => named(vocab::SUBJECTS),
        Facet::Edition => named(vocab::EDITIONS),
        Facet::Volume => named(vocab::VOLUMES),
        Facet::ResourceType => named(vocab::RESOURCE_TYPES),
        Facet::Level => named(vocab::LEVELS),
        Facet::Licence => named(vocab::LICENCES),
        // Harvested records have no file here, only a link to their source.
        Facet::Format if value == "link" => if app_locale == Locale::ZhCn { "外部链接" } else { "External link" }.to_string(),
        Facet::Format => value.to_uppercase(),
        Facet::Chapter => {
            chapters.iter().find(|c| value.parse() == Ok(c.0)).map(|c| c.1.clone()).unwrap_or_else(|| value.to_string())
        }
    }
}

async fn chapter_titles(app: &App, results: &SearchResults, q: &SearchQuery) -> Result<Vec<(i64, String)>, AppError> {
    let mut ids: Vec<i64> =
        results.facets.get(&Facet::Chapter).map(|v| v.iter().filter_map(|(id, _)| id.parse().ok()).collect()).unwrap_or_default();
    ids.extend(q.filters.iter().filter(|f| f.0 == Facet::Chapter).filter_map(|f| f.1.parse::<i64>().ok()));
    let mut out = Vec::new();
    for id in ids {
        if let Some(n) = crate::catalogue::store::node(&app.db, id).await? {
            out.push((id, n.title));
        }
    }
    Ok(out)
}

struct FacetView {
    key: &'static str,
    label: String,
    values: Vec<(String, String, u64, bool)>,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage<'a> {
    ctx: &'a PageContext,
    text: String,
    total: usize,
    resources: Vec<Resource>,
    facets: Vec<FacetView>,
    active: Vec<(String, String, String)>,
    sort: &'static str,
    contribute: bool,
    page: usize,
    pages: usize,
    base: String,
}

impl LibraryPage<'_> {
    fn subject(&self, r: &Resource) -> &'static str {
        vocab::name(vocab::SUBJECTS, &r.subject, self.ctx.locale)
    }
    fn kind(&self, r: &Resource) -> &'static str {
        vocab::name(vocab::RESOURCE_TYPES, &r.resource_type, self.ctx.locale)
    }
    fn with(&self, key: &str, value: &str) -> String {
        format!("{}&{}={}", self.base, key, kernel::web::urlencode(value))
    }
}

async fn library_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (q, text) = search_query(&params);
    let (results, resources) = crate::search::search(&app, &actor, q.clone()).await?;
    let chapters = chapter_titles(&app, &results, &q).await?;
    let stage = match results.facets.get(&Facet::Stage).map(Vec::as_slice) {
        Some([(only, _)]) => Some(only.as_str()),
        _ => None,
    };
    let facets = Facet::ALL
        .iter()
        .filter_map(|f| {
            let values = results.facets.get(f)?;
            // Grade 2 of primary and of junior secondary are different years: offer grades
            // once the results are in one stage.
            if values.is_empty() || (*f == Facet::Grade && stage.is_none()) {
                return None;
            }
            let chosen = |v: &str| q.filters.iter().any(|(g, x)| g == f && x == v);
            Some(FacetView {
                key: f.as_str(),
                label: ctx.t(&format!("library-facet-{}", f.as_str())),
                values: values
                    .iter()
                    .take(12)
                    .map(|(v, n)| (v.clone(), facet_label(ctx.locale, *f, v, &chapters, stage), *n, chosen(v)))
                    .collect(),
            })
        })
        .collect();
    let active = q
        .filters
        .iter()
        .map(|(f, v)| (f.as_str().to_string(), v.clone(), facet_label(ctx.locale, *f, v, &chapters, stage)))
        .collect();
    let base: String = params
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("{}={}", kernel::web::urlencode(k), kernel::web::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let sort = match q.sort {
        Sort::Relevance => "relevance",
        Sort::Newest => "newest",
        Sort::MostUsed => "used",
        Sort::Rating => "rating",
    };
    let page = LibraryPage {
        ctx: &ctx,
        text,
        total: results.total,
        resources,
        facets,
        active,
        sort,
        contribute: uploads::may_contribute(&actor),
        page: q.offset / q.limit + 1,
        pages: results.total.div_ceil(q.limit).min(50),
        base: format!("/library?{base}"),
    };
    Ok(ctx.render(&ctx.t("library-title"), &page)?.into_response())
}

#[utoipa::path(get, path = "/api/v1/resources", tag = "library", summary = "Search the resources you may see, with facet counts", params(("q" = Option<String>, Query, description = "words (Chinese is segmented)"), ("stage" = Option<String>, Query, description = "facet filter; every facet (stage, grade, subject, edition, volume, chapter, type, format, level, licence) may repeat (OR)"), ("subject" = Option<String>, Query, description = "subject code"), ("sort" = Option<String>, Query, description = "relevance | newest | used | rating"), ("page" = Option<i64>, Query, description = "1-based page"), ("limit" = Option<i64>, Query, description = "hits per page, ≤ 100")), responses((status = 200, description = "total, hits (resources) and facets (value, count)"), (status = 401, description = "not signed in")))]
pub(crate) async fn api_search(
    State(app): State<App>,
    actor: Actor,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (q, _) = search_query(&params);
    let (results, resources) = crate::search::search(&app, &actor, q).await?;
    let facets: serde_json::Map<String, serde_json::Value> = results
        .facets
        .iter()
        .map(|(f, values)| {
            let list: Vec<_> = values.iter().map(|(v, n)| json!({ "value": v, "count": n })).collect();
            (f.as_str().to_string(), json!(list))
        })
        .collect();
    Ok(Json(json!({ "total": results.total, "hits": resources, "facets": facets })))
}

// ---------- adding and editing ----------

#[derive(Template)]
#[template(path = "resource_form.html")]
struct FormPage<'a> {
    ctx: &'a PageContext,
    action: String,
    input: ResourceInput,
    errors: Vec<FieldError>,
    mode: FormMode,
    accept: String,
    max_mb: u64,
    chapters: Vec<crate::catalogue::store::Node>,
}

impl FormPage<'_> {
    fn options(&self, list: &'static [vocab::Term]) -> Vec<(&'static str, &'static str)> {
        list.iter().map(|t| (t.code, t.name(self.ctx.locale))).collect()
    }
    fn stages(&self) -> Vec<(&'static str, &'static str)> {
        ["primary", "junior", "senior", "vocational", "preschool"]
            .into_iter()
            .map(|s| (s, directory::codes::stage_name(s, self.ctx.locale)))
            .collect()
    }
    fn grade_value(&self) -> String {
        self.input.grade.map(|g| g.to_string()).unwrap_or_default()
    }
    fn chosen_chapter(&self, id: &i64) -> bool {
        self.input.chapter_id == Some(*id)
    }
    fn indent(&self, n: &crate::catalogue::store::Node) -> String {
        "　".repeat(n.depth().saturating_sub(2))
    }
}

/// What the resource form is for: a new resource or a new version (both with a file, sent in
/// chunks to `complete_action` by the page's script), or editing a draft's metadata.
#[derive(Clone, PartialEq)]
pub(crate) enum FormMode {
    New,
    Version { complete_action: String },
    Edit,
}

impl FormPage<'_> {
    fn with_file(&self) -> bool {
        self.mode != FormMode::Edit
    }
    fn complete_action(&self) -> &str {
        match &self.mode {
            FormMode::Version { complete_action } => complete_action,
            _ => "/library/resources",
        }
    }
    fn heading(&self) -> String {
        self.ctx.t(self.mode.heading_key())
    }
}

impl FormMode {
    fn heading_key(&self) -> &'static str {
        match self {
            FormMode::New => "library-new-title",
            FormMode::Version { .. } => "library-version-title",
            FormMode::Edit => "library-edit-title",
        }
    }
}

pub(crate) async fn form_page(
    app: &App,
    ctx: &PageContext,
    action: String,
    input: ResourceInput,
    errors: Vec<FieldError>,
    mode: FormMode,
) -> Result<Response, AppError> {
    let chapters = if input.stage.is_empty() || input.subject.is_empty() {
        vec![]
    } else {
        crate::catalogue::store::chapters_for(&app.db, &input.stage, &input.subject, input.grade).await?
    };
    let accept = sniff::accepted().iter().map(|f| format!(".{}", f.id)).collect::<Vec<_>>().join(",");
    let title = ctx.t(mode.heading_key());
    let page = FormPage { ctx, action, input, errors, mode, accept, max_mb: app.config.library.max_file_mb, chapters };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, ctx.render(&title, &page)?).into_response())
}

fn defaults() -> ResourceInput {
    ResourceInput { language: "zh".into(), licence: "platform".into(), ..Default::default() }
}

async fn new_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    if !uploads::may_contribute(&actor) {
        return Err(AppError::Forbidden);
    }
    form_page(&app, &ctx, "/library/new".into(), defaults(), vec![], FormMode::New).await
}

async fn new_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(form): CsrfForm<CreateBody>,
) -> Result<Response, AppError> {
    match super::create(&app, &actor, &meta, form.upload_id, &form.input).await {
        Ok(id) => Ok(Redirect::to(&format!("/library/resources/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => form_page(&app, &ctx, "/library/new".into(), form.input, errors, FormMode::New).await,
        Err(e) => Err(e),
    }
}

/// Without JavaScript the browser posts the file with the form; it is stored the same way.
async fn new_plain_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    upload: Upload,
) -> Result<Response, AppError> {
    let input = input_from_fields(&upload)?;
    let outcome = async {
        kernel::web::check(&input)?;
        let (upload_id, _) = uploads::store_file(&app, &actor, &upload.file_name, upload.path()).await?;
        super::create(&app, &actor, &meta, upload_id, &input).await
    }
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/library/resources/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => form_page(&app, &ctx, "/library/new".into(), input, errors, FormMode::New).await,
        Err(e) => Err(e),
    }
}

/// The metadata fields of a multipart form post.
pub(crate) fn input_from_fields(upload: &Upload) -> Result<ResourceInput, AppError> {
    let pairs: Vec<(String, String)> = upload.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_urlencoded::from_str(&serde_urlencoded::to_string(&pairs).unwrap_or_default())
        .map_err(|_| AppError::invalid("body", "error-field-malformed"))
}

pub(crate) fn input_of(r: &Resource) -> ResourceInput {
    ResourceInput {
        title: r.title.clone(),
        description: r.description.clone(),
        stage: r.stage.clone(),
        grade: r.grade,
        subject: r.subject.clone(),
        edition: r.edition.clone().unwrap_or_default(),
        volume: r.volume.clone().unwrap_or_default(),
        chapter_id: r.chapter_id,
        resource_type: r.resource_type.clone(),
        language: r.language.clone(),
        keywords: r.keywords.clone(),
        authors: r.authors.clone(),
        licence: r.licence.clone(),
        duration_seconds: r.duration_seconds,
        page_count: r.page_count,
    }
}

async fn edit_page(State(app): State<App>, ctx: PageContext, actor: Actor, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = store::get(&app.db, id).await?.filter(|r| r.owner_id == actor.person_id).ok_or(AppError::NotFound)?;
    form_page(&app, &ctx, format!("/library/resources/{id}/edit"), input_of(&r), vec![], FormMode::Edit).await
}

async fn edit_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<ResourceInput>,
) -> Result<Response, AppError> {
    match super::update(&app, &actor, &meta, id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/library/resources/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            form_page(&app, &ctx, format!("/library/resources/{id}/edit"), input, errors, FormMode::Edit).await
        }
        Err(e) => Err(e),
    }
}

// ---------- a resource ----------

#[derive(Template)]
#[template(path = "resource.html")]
struct ResourcePage<'a> {
    ctx: &'a PageContext,
    resource: Resource,
    publications: Vec<Publication>,
    chapter: Option<String>,
    mine: bool,
    /// Pending publications this person may decide on.
    decidable: Vec<i64>,
    may_recommend: bool,
    may_take_down: bool,
    inline: bool,
    /// An office document LibreOffice can show as PDF.
    office_preview: bool,
    kind: &'static str,
    levels: Vec<(&'static str, &'static str)>,
    /// Favourite, ratings and comments, once published.
    feedback: Option<Feedback>,
    /// New versions, for the author and the reviewers.
    versions: Option<VersionsView>,
    /// The person's own lesson packages, to add the resource to.
    packages: Vec<crate::packages::store::Package>,
    may_package: bool,
}

struct VersionsView {
    list: Vec<crate::versions::store::Version>,
    may_propose: bool,
    may_decide: bool,
}

struct Feedback {
    favourite: bool,
    my_rating: Option<i64>,
    comments: Vec<crate::feedback::store::Comment>,
    moderator: bool,
}

impl ResourcePage<'_> {
    /// 1 to 5 stars for the rating select, the person's own rating chosen (else 5).
    fn star_options(&self) -> Vec<(i64, String, bool)> {
        let mine = self.feedback.as_ref().and_then(|f| f.my_rating).unwrap_or(5);
        (1..=5).map(|n| (n, "★".repeat(n as usize), n == mine)).collect()
    }
    fn rating_text(&self) -> String {
        match self.resource.rating() {
            Some(mean) => self.ctx.t_args(
                "library-rating-summary",
                &[("rating", format!("{mean:.1}")), ("count", self.resource.rating_count.to_string())],
            ),
            None => self.ctx.t("library-rating-none"),
        }
    }
    fn version_status(&self, v: &crate::versions::store::Version) -> String {
        self.ctx.t(&format!("library-version-{}", v.status))
    }
    fn status_text(&self) -> String {
        self.ctx.t(&format!("library-status-{}", self.resource.status))
    }
    fn name(&self, list: &'static [vocab::Term], code: &str) -> &'static str {
        vocab::name(list, code, self.ctx.locale)
    }
    fn opt_name(&self, list: &'static [vocab::Term], code: &Option<String>) -> &'static str {
        code.as_deref().map(|c| vocab::name(list, c, self.ctx.locale)).unwrap_or("")
    }
    fn stage(&self) -> &'static str {
        directory::codes::stage_name(&self.resource.stage, self.ctx.locale)
    }
    fn grade(&self) -> String {
        self.resource.grade.map(|g| directory::codes::grade_name(&self.resource.stage, g, self.ctx.locale)).unwrap_or_default()
    }
    fn size(&self) -> String {
        human_size(self.resource.size)
    }
    fn keywords(&self) -> Vec<String> {
        super::model::split_list(&self.resource.keywords)
    }
}

pub fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n >= 1 << 30 => format!("{:.1} GB", b / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", b / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} KB", b / 1024.0),
        n => format!("{n} B"),
    }
}

async fn resource_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (r, publications) = super::visible(&app, &actor, id).await?;
    if r.status == "approved" && r.owner_id != actor.person_id {
        super::count_use(&app, &actor, id, false).await?;
    }
    let chapter = match r.chapter_id {
        Some(c) => crate::catalogue::store::node(&app.db, c).await?.map(|n| n.title),
        None => None,
    };
    let decidable = publications
        .iter()
        .filter(|p| {
            p.status == "pending"
                && moderates(&actor, &p.scope_path)
                && r.owner_id != actor.person_id
                && p.requested_by != actor.person_id
        })
        .map(|p| p.id)
        .collect();
    let approved: Vec<&Publication> = publications.iter().filter(|p| p.status == "approved").collect();
    let may_recommend = r.status == "approved" && approved.iter().any(|p| moderates(&actor, &p.scope_path));
    let moderator = super::moderates_resource(&actor, &r, &publications);
    let may_take_down = r.status != "taken_down" && moderator;
    let mine = r.owner_id == actor.person_id;
    let may_package = uploads::may_contribute(&actor) && r.status != "taken_down";
    let packages = if may_package {
        let all = crate::packages::store::for_person(&app.db, actor.person_id, actor.unit_id).await?;
        all.into_iter().filter(|p| p.owner_id == actor.person_id).collect()
    } else {
        Vec::new()
    };
    let reviewer = crate::versions::reviews(&actor, &r, &publications);
    let versions = if mine || reviewer {
        let list = crate::versions::store::of_resource(&app.db, id).await?;
        Some(VersionsView {
            may_propose: mine && r.status == "approved" && !list.iter().any(|v| v.status == "pending"),
            may_decide: reviewer,
            list,
        })
    } else {
        None
    };
    let feedback = if r.status == "approved" {
        Some(Feedback {
            favourite: crate::feedback::store::is_favourite(&app.db, actor.person_id, id).await?,
            my_rating: crate::feedback::store::my_rating(&app.db, actor.person_id, id).await?,
            comments: crate::feedback::store::comments(&app.db, id, moderator).await?,
            moderator,
        })
    } else {
        None
    };
    let format = sniff::accepted().iter().find(|f| f.id == r.format);
    let inline = format.is_some_and(sniff::inline);
    let kind = match format.map(|f| f.kind) {
        Some(sniff::Kind::Video) => "video",
        Some(sniff::Kind::Audio) => "audio",
        Some(sniff::Kind::Image) => "image",
        Some(sniff::Kind::Pdf) => "pdf",
        _ => "other",
    };
    let office_preview = !inline && crate::preview::offered(&app, &r.format).await;
    let levels = vocab::LEVELS.iter().map(|t| (t.code, t.name(ctx.locale))).collect();
    let page = ResourcePage {
        ctx: &ctx,
        mine: r.owner_id == actor.person_id,
        resource: r,
        publications,
        chapter,
        decidable,
        may_recommend,
        may_take_down,
        inline,
        office_preview,
        kind,
        levels,
        feedback,
        versions,
        packages,
        may_package,
    };
    let title = page.resource.title.clone();
    Ok(ctx.render(&title, &page)?.into_response())
}

#[derive(Deserialize)]
struct LevelForm {
    #[serde(default)]
    level: String,
}

async fn submit_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LevelForm>,
) -> Result<Response, AppError> {
    let level = if form.level.is_empty() { "school" } else { form.level.as_str() };
    super::submit(&app, &actor, &meta, id, level).await?;
    Ok(Redirect::to(&format!("/library/resources/{id}")).into_response())
}

async fn recommend_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<kernel::web::EmptyForm>,
) -> Result<Response, AppError> {
    super::recommend(&app, &actor, &meta, id).await?;
    Ok(Redirect::to(&format!("/library/resources/{id}")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReasonForm {
    #[serde(default)]
    reason: String,
}

impl ReasonForm {
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }
}

impl Validate for ReasonForm {
    fn validate(&self, v: &mut Checks) {
        v.required("reason", &self.reason).max_chars("reason", &self.reason, 500);
    }
}

async fn take_down_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    super::take_down(&app, &actor, &meta, id, &form.reason).await?;
    crate::search::refresh(&app, &[id]).await?;
    Ok(Redirect::to(&format!("/library/resources/{id}")).into_response())
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `size` bytes, as a half-open range;
/// `Err` when it cannot be satisfied. Several ranges are answered with the first.
fn parse_range(value: &str, size: u64) -> Result<std::ops::Range<u64>, ()> {
    let spec = value.strip_prefix("bytes=").ok_or(())?.split(',').next().ok_or(())?.trim();
    let (a, b) = spec.split_once('-').ok_or(())?;
    let range = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            size.saturating_sub(n)..size
        }
        (a, "") => a.parse().map_err(|_| ())?..size,
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| ())?, b.parse().map_err(|_| ())?);
            if b < a {
                return Err(());
            }
            a..(b + 1).min(size)
        }
    };
    if range.start >= size || range.start >= range.end { Err(()) } else { Ok(range) }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FileQuery {
    pub(crate) download: bool,
}

const FILE_CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'";

/// The resource's file: inline for what a browser shows safely, else as an attachment; ranges
/// for seeking in video and audio.
async fn file(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (r, _) = super::visible(&app, &actor, id).await?;
    if r.blob_sha256.is_empty()
        && let Some(url) = &r.source_url
    {
        // A harvested record: its file is at the source.
        super::count_use(&app, &actor, id, q.download).await?;
        return Ok(Redirect::to(url).into_response());
    }
    // A download, or the first byte of a preview, counts once; the seeks that follow do not.
    let from_start =
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim_start_matches("bytes=").starts_with("0-"));
    if q.download || from_start {
        super::count_use(&app, &actor, id, q.download).await?;
    }
    send_file(&app, &r.blob_sha256, &r.file_name, &headers, q.download).await
}

/// An office document as PDF, when LibreOffice is there to make it.
async fn preview(State(app): State<App>, actor: Actor, Path(id): Path<i64>, headers: HeaderMap) -> Result<Response, AppError> {
    let (r, _) = super::visible(&app, &actor, id).await?;
    let (key, size) = crate::preview::pdf(&app, &r.blob_sha256, &r.format).await?.ok_or(AppError::NotFound)?;
    let name = format!("{}.pdf", r.title);
    let object = Object { key: &key, size, mime: "application/pdf", file_name: &name, inline: true };
    send_object(&app, &object, &headers).await
}

/// Sends a stored file, or the byte range asked for: inline for what a browser shows safely,
/// else as an attachment.
pub async fn send_file(
    app: &App,
    sha256: &str,
    file_name: &str,
    headers: &HeaderMap,
    download: bool,
) -> Result<Response, AppError> {
    let blob = uploads::store::blob(&app.db, sha256).await?.ok_or(AppError::NotFound)?;
    let inline = !download && sniff::accepted().iter().any(|f| f.id == blob.format && sniff::inline(f));
    let object = Object { key: &blob.storage_key, size: blob.size as u64, mime: &blob.mime, file_name, inline };
    send_object(app, &object, headers).await
}

/// A stored object as a response.
struct Object<'a> {
    key: &'a str,
    size: u64,
    mime: &'a str,
    file_name: &'a str,
    inline: bool,
}

async fn send_object(app: &App, o: &Object<'_>, headers: &HeaderMap) -> Result<Response, AppError> {
    let size = o.size;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) => match parse_range(v, size) {
            Ok(r) => Some(r),
            Err(()) => {
                return Ok(
                    (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))]).into_response()
                );
            }
        },
        None => None,
    };
    let body = app.storage.get(o.key, range.clone()).await.map_err(|e| {
        tracing::error!(error = %e, "file storage failed");
        AppError::Unavailable
    })?;
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if o.inline { "inline" } else { "attachment" },
        kernel::web::urlencode(o.file_name).replace('+', "%20")
    );
    let mut builder = axum::http::Response::builder()
        .header(header::CONTENT_TYPE, o.mime)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, "private, max-age=3600")
        // Uploaded content may be framed by our own resource page (PDF and text previews) and
        // runs no script of its own.
        .header(header::CONTENT_SECURITY_POLICY, FILE_CSP)
        .header(header::X_FRAME_OPTIONS, "SAMEORIGIN");
    builder = match range {
        Some(r) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start, r.end - 1))
            .header(header::CONTENT_LENGTH, r.end - r.start),
        None => builder.status(StatusCode::OK).header(header::CONTENT_LENGTH, size),
    };
    builder.body(Body::from_stream(body.body.map_err_into())).map_err(AppError::internal)
}

/// Storage errors become I/O errors for the response body stream.
trait IntoIoStream {
    fn map_err_into(self) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;
}

impl IntoIoStream for futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StorageError>> {
    fn map_err_into(self) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>> {
        use futures_util::StreamExt;
        self.map(|r| r.map_err(std::io::Error::other)).boxed()
    }
}

// ---------- my uploads ----------

#[derive(Template)]
#[template(path = "mine.html")]
struct MinePage<'a> {
    ctx: &'a PageContext,
    resources: Vec<Resource>,
}

async fn mine_page(State(app): State<App>, ctx: PageContext, actor: Actor) -> Result<Response, AppError> {
    let page = MinePage { ctx: &ctx, resources: store::owned_by(&app.db, actor.person_id).await? };
    Ok(ctx.render(&ctx.t("library-mine-title"), &page)?.into_response())
}

// ---------- review ----------

fn may_review(actor: &Actor) -> bool {
    matches!(actor.role, kernel::auth::Role::Reviewer | kernel::auth::Role::SchoolAdmin | kernel::auth::Role::RegionAdmin)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct QueueQuery {
    subject: String,
    #[serde(rename = "type")]
    resource_type: String,
    level: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage<'a> {
    ctx: &'a PageContext,
    items: Vec<QueueItem>,
    filter: QueueQuery,
    subjects: Vec<(&'static str, &'static str)>,
    types: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    errors: Vec<FieldError>,
    done: Option<usize>,
    /// New versions of published resources waiting for this reviewer.
    versions: Vec<(crate::versions::store::Version, Resource)>,
}

impl ReviewPage<'_> {
    fn name(&self, list: &'static [vocab::Term], code: &str) -> &'static str {
        vocab::name(list, code, self.ctx.locale)
    }
}

async fn queue(app: &App, actor: &Actor, f: &QueueQuery) -> Result<Vec<QueueItem>, AppError> {
    if !may_review(actor) {
        return Err(AppError::Forbidden);
    }
    let filter = QueueFilter { subject: &f.subject, resource_type: &f.resource_type, level: &f.level };
    Ok(store::queue(&app.db, &actor.unit_path, actor.person_id, &filter).await?)
}

async fn render_review(
    app: &App,
    ctx: &PageContext,
    actor: &Actor,
    filter: QueueQuery,
    errors: Vec<FieldError>,
    done: Option<usize>,
) -> Result<Response, AppError> {
    let items = queue(app, actor, &filter).await?;
    let pairs = |list: &'static [vocab::Term]| list.iter().map(|t| (t.code, t.name(ctx.locale))).collect::<Vec<_>>();
    let page = ReviewPage {
        ctx,
        items,
        filter,
        subjects: pairs(vocab::SUBJECTS),
        types: pairs(vocab::RESOURCE_TYPES),
        levels: pairs(vocab::LEVELS),
        errors,
        done,
        versions: crate::versions::queue(app, actor).await?,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, ctx.render(&ctx.t("library-review-title"), &page)?).into_response())
}

async fn review_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(filter): Query<QueueQuery>,
) -> Result<Response, AppError> {
    render_review(&app, &ctx, &actor, filter, vec![], None).await
}

/// The queue's bulk form: `decision`, `reason` and one `publication` per ticked row.
async fn review_submit(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    meta: RequestMeta,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let ids: Vec<i64> = pairs.iter().filter(|(k, _)| k == "publication").filter_map(|(_, v)| v.parse().ok()).collect();
    let decision = if field("decision") == "reject" { Decision::Reject } else { Decision::Approve };
    match super::decide(&app, &actor, &meta, &ids, decision, field("reason")).await {
        Ok(changed) => {
            crate::search::refresh(&app, &changed).await?;
            render_review(&app, &ctx, &actor, QueueQuery::default(), vec![], Some(changed.len())).await
        }
        Err(AppError::Invalid(errors)) => render_review(&app, &ctx, &actor, QueueQuery::default(), errors, None).await,
        Err(e) => Err(e),
    }
}

// ---------- API ----------

/// A completed upload's id and the metadata: what the API takes, and what the form posts after
/// the page's script has uploaded the file.
#[derive(Deserialize)]
pub(crate) struct CreateBody {
    pub(crate) upload_id: i64,
    #[serde(flatten)]
    pub(crate) input: ResourceInput,
}

impl Validate for CreateBody {
    fn validate(&self, v: &mut Checks) {
        self.input.validate(v)
    }
}

#[utoipa::path(post, path = "/api/v1/resources", tag = "library", summary = "Make a draft resource of a completed upload", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "upload_id and the metadata: title, description, stage, grade, subject, edition, volume, chapter_id, resource_type, language, keywords, authors, licence, duration_seconds, page_count"), responses((status = 201, description = "created: id"), (status = 403, description = "students and parents do not add resources"), (status = 422, description = "a value outside the code lists, or a missing field: details name it")))]
pub(crate) async fn api_create(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, AppError> {
    let id = super::create(&app, &actor, &meta, body.upload_id, &body.input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "library", summary = "A resource you may see, with its publications", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "the resource"), (status = 404, description = "no such resource, or not yours to see")))]
pub(crate) async fn api_get(
    State(app): State<App>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (r, publications) = super::visible(&app, &actor, id).await?;
    Ok(Json(json!({ "resource": r, "publications": publications })))
}

#[utoipa::path(put, path = "/api/v1/resources/{id}", tag = "library", summary = "Edit your draft or rejected resource (it becomes a draft again)", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "the metadata"), responses((status = 200, description = "saved"), (status = 404, description = "not yours"), (status = 422, description = "invalid, or not editable now")))]
pub(crate) async fn api_update(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ResourceInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::update(&app, &actor, &meta, id, &input).await?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize)]
pub(crate) struct SubmitBody {
    #[serde(default)]
    level: String,
}

impl Validate for SubmitBody {
    fn validate(&self, v: &mut Checks) {
        if !self.level.is_empty() && !LEVELS.iter().any(|l| l.0 == self.level) {
            v.push(FieldError::new("level", "library-error-code").arg("value", &self.level));
        }
    }
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/submit", tag = "library", summary = "Submit your resource for review at a level (school by default)", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "level: school | district | city | province"), responses((status = 200, description = "submitted"), (status = 404, description = "not yours"), (status = 422, description = "not a draft, or no unit at that level")))]
pub(crate) async fn api_submit(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let level = if body.level.is_empty() { "school" } else { body.level.as_str() };
    super::submit(&app, &actor, &meta, id, level).await?;
    Ok(Json(json!({ "id": id, "status": "submitted" })))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/recommend", tag = "library", summary = "Recommend a published resource to the next level up (its reviewers decide)", params(("id" = i64, Path, description = "resource id")), responses((status = 200, description = "level asked"), (status = 403, description = "not a reviewer where it is published"), (status = 422, description = "not published, already asked, or at the top")))]
pub(crate) async fn api_recommend(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let level = super::recommend(&app, &actor, &meta, id).await?;
    Ok(Json(json!({ "id": id, "level": level })))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/take-down", tag = "library", summary = "Take a resource down everywhere, with a reason the author sees (kept for audit)", params(("id" = i64, Path, description = "resource id")), request_body(content = inline(serde_json::Value), content_type = "application/json", description = "reason"), responses((status = 200, description = "taken down"), (status = 403, description = "not a reviewer of it"), (status = 422, description = "reason missing")))]
pub(crate) async fn api_take_down(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ReasonForm>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::take_down(&app, &actor, &meta, id, &body.reason).await?;
    crate::search::refresh(&app, &[id]).await?;
    Ok(Json(json!({ "id": id, "status": "taken_down" })))
}

#[utoipa::path(get, path = "/api/v1/reviews", tag = "library", summary = "Your review queue: pending publications under your unit, not your own", params(("subject" = Option<String>, Query, description = "subject code"), ("type" = Option<String>, Query, description = "resource type code"), ("level" = Option<String>, Query, description = "level")), responses((status = 200, description = "items"), (status = 403, description = "not a reviewer or administrator")))]
pub(crate) async fn api_queue(
    State(app): State<App>,
    actor: Actor,
    Query(filter): Query<QueueQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(json!({ "items": queue(&app, &actor, &filter).await? })))
}

#[derive(Deserialize)]
pub(crate) struct DecideBody {
    #[serde(default)]
    publication_ids: Vec<i64>,
    decision: String,
    #[serde(default)]
    reason: String,
}

impl DecideBody {
    pub(crate) fn decision(&self) -> Decision {
        if self.decision == "reject" { Decision::Reject } else { Decision::Approve }
    }
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }
}

impl Validate for DecideBody {
    fn validate(&self, v: &mut Checks) {
        if !matches!(self.decision.as_str(), "approve" | "reject") {
            v.push(FieldError::new("decision", "library-error-code").arg("value", &self.decision));
        }
    }
}

#[utoipa::path(post, path = "/api/v1/reviews", tag = "library", summary = "Approve or reject pending publications, all or none", request_body(content = inline(serde_json::Value), content_type = "application/json", description = "publication_ids, decision (approve | reject), reason (required to reject)"), responses((status = 200, description = "decided: the resources changed"), (status = 403, description = "one is not yours to decide"), (status = 422, description = "own resource, not pending, or no reason")))]
pub(crate) async fn api_decide(
    State(app): State<App>,
    actor: Actor,
    meta: RequestMeta,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let changed = super::decide(&app, &actor, &meta, &body.publication_ids, body.decision(), &body.reason).await?;
    crate::search::refresh(&app, &changed).await?;
    Ok(Json(json!({ "resources": changed })))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_browsers_send_them() {
        assert_eq!(parse_range("bytes=0-", 100), Ok(0..100));
        assert_eq!(parse_range("bytes=10-19", 100), Ok(10..20));
        assert_eq!(parse_range("bytes=90-200", 100), Ok(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Ok(90..100));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=5-2", 100), Err(()));
        assert_eq!(parse_range("items=0-1", 100), Err(()));
    }
}
