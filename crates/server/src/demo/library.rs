//! The demo library: the bundled textbook catalogue, and a few hundred resources on its chapters
//! by the region's teachers, taken through the same steps as in the product (stored, described,
//! submitted, reviewed by the school, some recommended up to the district and the city), so
//! every state shows: published at each level, awaiting review, rejected with a reason, drafts.

use super::Rng;
use super::files;
use anyhow::Context;
use directory::accounts::actor;
use kernel::App;
use kernel::auth::{Actor, Credential};
use kernel::db::sql;
use kernel::i18n::Locale;
use kernel::web::RequestMeta;
use library::catalogue::store::Node;
use library::resources::model::ResourceInput;
use library::resources::{self, Decision};
use library::vocab;
use std::collections::HashMap;

/// Seeds the library once: nothing happens when the region already has resources.
pub async fn seed(app: &App) -> anyhow::Result<usize> {
    let (existing,): (i64,) = app.db.fetch_one(sql("SELECT COUNT(*) FROM resources")).await?;
    if existing > 0 {
        return Ok(0);
    }
    let mut people = People::new(app);
    let Some(city_admin) = people.first("region_admin", true).await? else {
        return Ok(0);
    };
    let meta = demo_meta();
    let scratch = app.config.data_dir.join("demo-scratch");
    std::fs::create_dir_all(&scratch)?;
    let catalogue = scratch.join("catalogue.csv");
    std::fs::write(&catalogue, library::catalogue::DEMO_CATALOGUE)?;
    library::catalogue::import(app, &city_admin, &meta, &catalogue).await.context("importing the catalogue")?;

    let teachers = teachers(app).await?;
    let mut rng = Rng::new(2026);
    let mut made = 0;
    for book in library::catalogue::store::textbooks(&app.db).await? {
        let nodes = library::catalogue::store::tree(&app.db, &book).await?;
        for node in nodes.iter().filter(|n| n.parent_id.is_some()) {
            let chapter_level = node.depth() == 2;
            let has_sections = nodes.iter().any(|n| n.parent_id == Some(node.id));
            // Sections get lesson material; chapters get a unit test now and then.
            let kinds: &[Kind] = match (chapter_level, has_sections) {
                (true, true) if rng.percent(40) => &[Kind::TestPaper],
                (true, true) => &[],
                _ if rng.percent(30) => &[Kind::pick(&mut rng), Kind::pick(&mut rng)],
                _ => &[Kind::pick(&mut rng)],
            };
            for &kind in kinds {
                let Some(&author_id) = author(&teachers, &book, &mut rng) else { continue };
                let Some(author) = people.actor(author_id).await? else { continue };
                let chapter = nodes.iter().find(|n| Some(n.id) == node.parent_id).filter(|_| !chapter_level).unwrap_or(node);
                let piece = Piece::new(kind, &book, chapter, node, made);
                let path = scratch.join(format!("{made}.{}", piece.extension));
                std::fs::write(&path, &piece.bytes)?;
                let (upload_id, _) =
                    library::uploads::store_file(app, &author, &piece.file_name, &path).await.context("storing a file")?;
                std::fs::remove_file(&path)?;
                let input = piece.input(&book, node, &mut rng);
                let id = resources::create(app, &author, &meta, upload_id, &input).await.context("describing a resource")?;
                made += 1;
                fate(app, &mut people, &meta, &author, id, &mut rng).await?;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    uses(app, &mut people, &mut rng).await?;
    packages(app, &mut people).await?;
    tracing::info!(resources = made, "demo library seeded");
    Ok(made)
}

/// The request the demo's seeding acts in, as the audit log records it.
pub(super) fn demo_meta() -> RequestMeta {
    RequestMeta {
        ip: "127.0.0.1".into(),
        user_agent: "hanlin demo".into(),
        locale: Locale::ZhCn,
        anon_csrf: String::new(),
        is_api: false,
        path: "/demo".into(),
    }
}

/// Where a resource ends up: most are published by their school, some go up to the district and
/// the city, a few wait for review, are rejected, or stay drafts.
async fn fate(
    app: &App,
    people: &mut People<'_>,
    meta: &RequestMeta,
    author: &Actor,
    id: i64,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let roll = rng.below(100);
    if roll < 5 {
        return Ok(());
    }
    resources::submit(app, author, meta, id, "school").await.context("submitting")?;
    if roll < 14 {
        return Ok(());
    }
    // A teaching point's resources are published at the school it belongs to.
    let scope = pending_scope(app, id).await?;
    let Some(school_admin) = people.admin_of("school_admin", scope).await? else { return Ok(()) };
    let pending = pending_publications(app, id).await?;
    if roll < 17 {
        let reason = "请补充教学目标和课后反思，并核对版权信息后重新提交。";
        resources::decide(app, &school_admin, meta, &pending, Decision::Reject, reason).await?;
        return Ok(());
    }
    resources::decide(app, &school_admin, meta, &pending, Decision::Approve, "").await.context("approving at the school")?;
    if !rng.percent(30) {
        return Ok(());
    }
    // Up the levels: the school recommends to its district, the district to the city.
    let mut recommender = school_admin;
    for _ in 0..2 {
        if resources::recommend(app, &recommender, meta, id).await.is_err() {
            return Ok(());
        }
        let pending = pending_publications(app, id).await?;
        let scope = pending_scope(app, id).await?;
        let Some(reviewer) = people.admin_of("region_admin", scope).await? else { return Ok(()) };
        if rng.percent(15) {
            return Ok(());
        }
        resources::decide(app, &reviewer, meta, &pending, Decision::Approve, "").await.context("approving up a level")?;
        if !rng.percent(35) {
            return Ok(());
        }
        recommender = reviewer;
    }
    Ok(())
}

pub(super) async fn pending_publications(app: &App, resource_id: i64) -> anyhow::Result<Vec<i64>> {
    let pubs = library::resources::store::publications(&app.db, resource_id).await?;
    Ok(pubs.iter().filter(|p| p.status == "pending").map(|p| p.id).collect())
}

async fn pending_scope(app: &App, resource_id: i64) -> anyhow::Result<i64> {
    let pubs = library::resources::store::publications(&app.db, resource_id).await?;
    Ok(pubs.iter().find(|p| p.status == "pending").map(|p| p.scope_id).unwrap_or_default())
}

/// Views and downloads by teachers and students who may see each published resource.
async fn uses(app: &App, people: &mut People<'_>, rng: &mut Rng) -> anyhow::Result<()> {
    let published: Vec<(i64,)> = app.db.fetch_all(sql("SELECT id FROM resources WHERE status = 'approved' ORDER BY id")).await?;
    let readers: Vec<(i64,)> = app
        .db
        .fetch_all(sql("SELECT DISTINCT person_id FROM role_assignments WHERE role IN ('teacher', 'student') ORDER BY person_id"))
        .await?;
    if readers.is_empty() {
        return Ok(());
    }
    for (id,) in published {
        let popularity = [0, 1, 2, 3, 5, 8, 13][rng.below(7)];
        for _ in 0..popularity {
            let Some(reader) = people.actor(readers[rng.below(readers.len())].0).await? else { continue };
            // Someone who may not see it (another school's) is skipped.
            if resources::visible(app, &reader, id).await.is_err() {
                continue;
            }
            resources::count_use(app, &reader, id, rng.percent(30)).await?;
            // Some readers rate it, a few comment; their own resources they only read.
            if rng.percent(35) {
                let _ = library::feedback::rate(app, &reader, id, 3 + rng.below(3) as i64).await;
            }
            if rng.percent(8) {
                library::feedback::comment(app, &reader, id, rng.pick(&COMMENTS)).await?;
            }
        }
    }
    Ok(())
}

const COMMENTS: [&str; 8] = [
    "很实用，谢谢分享！",
    "例题设计得很好，已经用在课堂上了。",
    "建议再补充一些分层练习。",
    "讲解清晰，学生反映容易理解。",
    "板书设计值得借鉴。",
    "能否提供配套的课后作业？",
    "导入环节很有新意，学生兴趣很高。",
    "下载后稍作修改就能用，省了不少备课时间。",
];

/// Shared lesson packages: for a few chapters, a teacher gathers what they can see of it. The
/// demo's printed teacher logins each get one of their subject, so they see one when they sign in.
async fn packages(app: &App, people: &mut People<'_>) -> anyhow::Result<()> {
    let mut chapters: Vec<(i64, i64, String)> = app
        .db
        .fetch_all(sql("SELECT MIN(r.owner_id), n.id, n.title FROM resources r JOIN catalogue_nodes n ON n.id = r.chapter_id \
                        WHERE r.status = 'approved' GROUP BY n.id, n.title ORDER BY n.id LIMIT 12"))
        .await?;
    let logins: Vec<(i64, String, String)> = app
        .db
        .fetch_all(sql("SELECT DISTINCT p.id, c.stage, r.subject FROM people p JOIN role_assignments r ON r.person_id = p.id \
                        JOIN classes c ON c.id = r.class_id WHERE p.login IS NOT NULL AND r.role = 'teacher' \
                        AND r.subject IS NOT NULL ORDER BY p.id"))
        .await?;
    for (person, stage, subject) in logins {
        let Some(code) = vocab::SUBJECTS.iter().find(|t| t.zh == subject || t.zh.starts_with(&subject)).map(|t| t.code) else {
            continue;
        };
        let Some(teacher) = people.actor(person).await? else { continue };
        // The first chapter of their subject with a resource they may see.
        let candidates: Vec<(i64, String, i64)> = app
            .db
            .fetch_all(
                sql("SELECT n.id, n.title, r.id FROM catalogue_nodes n JOIN resources r ON r.chapter_id = n.id \
                     WHERE n.stage = $1 AND n.subject = $2 AND r.status = 'approved' ORDER BY n.id, r.id")
                .bind(stage)
                .bind(code),
            )
            .await?;
        for (chapter, title, resource) in candidates {
            if resources::visible(app, &teacher, resource).await.is_ok() {
                chapters.push((person, chapter, title));
                break;
            }
        }
    }
    for (owner, chapter, title) in chapters {
        let Some(teacher) = people.actor(owner).await? else { continue };
        let Some(node) = library::catalogue::store::node(&app.db, chapter).await? else { continue };
        let input = library::packages::PackageInput {
            title: format!("{title} 备课包"),
            description: "本节课用到的课件、教案和练习，按上课顺序排列。".into(),
            stage: node.stage.clone(),
            grade: Some(node.grade),
            subject: node.subject.clone(),
            chapter_id: Some(chapter),
            shared: true,
        };
        let package = library::packages::create(app, &teacher, &input).await?;
        let ids: Vec<(i64,)> = app
            .db
            .fetch_all(sql("SELECT id FROM resources WHERE chapter_id = $1 AND status = 'approved' ORDER BY id").bind(chapter))
            .await?;
        for (n, (id,)) in ids.iter().enumerate() {
            let note = if n == 0 { "课前先看，了解本节重点。" } else { "" };
            // Only what the teacher may see goes in.
            let _ = library::packages::add(app, &teacher, package, *id, note).await;
        }
    }
    Ok(())
}

/// Actors of the demo's people, loaded once each.
pub(super) struct People<'a> {
    app: &'a App,
    actors: HashMap<(i64, Option<i64>), Option<Actor>>,
}

impl<'a> People<'a> {
    pub(super) fn new(app: &'a App) -> Self {
        People { app, actors: HashMap::new() }
    }

    /// The person acting in their most senior role.
    pub(super) async fn actor(&mut self, person_id: i64) -> anyhow::Result<Option<Actor>> {
        self.acting(person_id, None).await
    }

    /// The person acting in the role of assignment `role_id`, or their most senior role.
    async fn acting(&mut self, person_id: i64, role_id: Option<i64>) -> anyhow::Result<Option<Actor>> {
        let key = (person_id, role_id);
        if let Some(a) = self.actors.get(&key) {
            return Ok(a.clone());
        }
        let today = kernel::today(self.app.config.display_utc_offset_minutes);
        let a = actor::load(&self.app.db, person_id, role_id, Credential::Session, today).await?;
        self.actors.insert(key, a.clone());
        Ok(a)
    }

    /// The first person with `role` (at the top of the tree when `top`).
    async fn first(&mut self, role: &str, top: bool) -> anyhow::Result<Option<Actor>> {
        let found: Option<(i64, i64)> = self
            .app
            .db
            .fetch_optional(
                sql("SELECT r.person_id, r.id FROM role_assignments r JOIN org_units u ON u.id = r.unit_id \
                     WHERE r.role = $1 AND (u.parent_id IS NULL OR $2 = 0) ORDER BY r.id LIMIT 1")
                .bind(role)
                .bind(i64::from(top)),
            )
            .await?;
        match found {
            Some((person, role)) => self.acting(person, Some(role)).await,
            None => Ok(None),
        }
    }

    /// The administrator (`role`) of a unit, acting in that role.
    async fn admin_of(&mut self, role: &str, unit_id: i64) -> anyhow::Result<Option<Actor>> {
        let found: Option<(i64, i64)> = self
            .app
            .db
            .fetch_optional(
                sql("SELECT person_id, id FROM role_assignments WHERE role = $1 AND unit_id = $2 ORDER BY id LIMIT 1")
                    .bind(role)
                    .bind(unit_id),
            )
            .await?;
        match found {
            Some((person, role)) => self.acting(person, Some(role)).await,
            None => Ok(None),
        }
    }
}

/// Teachers by (stage, subject code), from the classes they teach.
async fn teachers(app: &App) -> anyhow::Result<HashMap<(String, String), Vec<i64>>> {
    let rows: Vec<(i64, String, String)> = app
        .db
        .fetch_all(sql("SELECT DISTINCT r.person_id, c.stage, r.subject FROM role_assignments r \
                        JOIN classes c ON c.id = r.class_id \
                        WHERE r.role = 'teacher' AND r.subject IS NOT NULL ORDER BY r.person_id"))
        .await?;
    let mut out: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for (person, stage, subject) in rows {
        // The roster names subjects in Chinese (生物); the library by code (biology, 生物学).
        let Some(code) = vocab::SUBJECTS.iter().find(|t| t.zh == subject || t.zh.starts_with(&subject)).map(|t| t.code) else {
            continue;
        };
        out.entry((stage, code.to_string())).or_default().push(person);
    }
    Ok(out)
}

/// A teacher of the book's subject, at its stage if there is one, else at any stage.
fn author<'t>(teachers: &'t HashMap<(String, String), Vec<i64>>, book: &Node, rng: &mut Rng) -> Option<&'t i64> {
    let same_stage = teachers.get(&(book.stage.clone(), book.subject.clone()));
    let any_stage = || teachers.iter().filter(|((_, s), _)| *s == book.subject).map(|(_, v)| v).next();
    let list = same_stage.or_else(any_stage).or_else(|| teachers.values().next())?;
    list.get(rng.below(list.len()))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Courseware,
    LessonPlan,
    StudyGuide,
    Exercise,
    TestPaper,
    MicroLecture,
    Material,
    LessonTalk,
    TeachingDesign,
    HomeworkDesign,
}

impl Kind {
    fn pick(rng: &mut Rng) -> Kind {
        const SECTION_KINDS: [Kind; 12] = [
            Kind::Courseware,
            Kind::Courseware,
            Kind::LessonPlan,
            Kind::LessonPlan,
            Kind::StudyGuide,
            Kind::Exercise,
            Kind::Exercise,
            Kind::MicroLecture,
            Kind::Material,
            Kind::LessonTalk,
            Kind::TeachingDesign,
            Kind::HomeworkDesign,
        ];
        rng.pick(&SECTION_KINDS)
    }

    fn code(self) -> &'static str {
        match self {
            Kind::Courseware => "courseware",
            Kind::LessonPlan => "lesson-plan",
            Kind::StudyGuide => "study-guide",
            Kind::Exercise => "exercise",
            Kind::TestPaper => "test-paper",
            Kind::MicroLecture => "micro-lecture",
            Kind::Material => "material",
            Kind::LessonTalk => "lesson-talk",
            Kind::TeachingDesign => "teaching-design",
            Kind::HomeworkDesign => "homework-design",
        }
    }
}

/// One generated resource: its title, description, file and the figures the file carries.
struct Piece {
    kind: Kind,
    title: String,
    description: String,
    keywords: String,
    file_name: String,
    extension: &'static str,
    bytes: Vec<u8>,
    pages: Option<i64>,
    seconds: Option<i64>,
}

impl Piece {
    fn new(kind: Kind, book: &Node, chapter: &Node, node: &Node, n: usize) -> Piece {
        let topic = topic(&node.title);
        let unit = topic_of_chapter(&chapter.title);
        let grade = directory::codes::grade_name(&book.stage, book.grade, Locale::ZhCn);
        let subject = vocab::name(vocab::SUBJECTS, &book.subject, Locale::ZhCn);
        let edition = vocab::name(vocab::EDITIONS, &book.edition, Locale::ZhCn);
        let lesson = n % 2 + 1;
        let (title, description, body): (String, String, Vec<String>) = match kind {
            Kind::Courseware => (
                format!("《{topic}》教学课件"),
                format!("{edition}{grade}{subject}《{topic}》新授课课件，含情境导入、例题精讲、课堂练习和小结，可直接用于课堂。"),
                vec![format!("情境导入：从生活中的问题引出{topic}"), "例题精讲与变式训练".into(), "课堂小结与作业布置".into()],
            ),
            Kind::LessonPlan => (
                format!("{topic}（第{lesson}课时）教案"),
                format!("{grade}{subject}《{topic}》第{lesson}课时教案：教学目标、重难点、教学过程和板书设计，附课后反思。"),
                vec![
                    format!("一、教学目标：理解{topic}的基本内容，能运用它解决简单问题。"),
                    "二、教学重难点".into(),
                    "三、教学过程：导入—新授—练习—小结".into(),
                    "四、板书设计".into(),
                    "五、教学反思".into(),
                ],
            ),
            Kind::StudyGuide => (
                format!("{topic}导学案"),
                format!("《{topic}》学生导学案，分课前预习、课堂探究和当堂检测三部分，适合{grade}学生自主学习使用。"),
                vec![
                    "【学习目标】".into(),
                    format!("【课前预习】阅读教材中“{topic}”一节，完成下列问题。"),
                    "【课堂探究】".into(),
                    "【当堂检测】".into(),
                ],
            ),
            Kind::Exercise => (
                format!("{topic}课后练习（含答案）"),
                format!("《{topic}》分层课后练习：基础巩固、能力提升、拓展探究三个层次，附参考答案与解析。"),
                vec!["一、基础巩固".into(), "二、能力提升".into(), "三、拓展探究".into(), "参考答案与解析".into()],
            ),
            Kind::TestPaper => (
                format!("{unit}单元测试卷"),
                format!("{edition}{grade}{subject}{unit}单元测试卷，满分 100 分，考试时间 60 分钟，附答案与评分标准。"),
                vec![
                    format!("{unit}单元测试"),
                    "一、选择题（每题 3 分）".into(),
                    "二、填空题（每题 4 分）".into(),
                    "三、解答题".into(),
                ],
            ),
            Kind::MicroLecture => (
                format!("{topic}微课"),
                format!("{topic}微课视频，约 20 秒示例片段，讲解本节核心知识点，适合课前预习或课后复习。"),
                vec![],
            ),
            Kind::Material => {
                (format!("{topic}教学图片素材"), format!("《{topic}》配套教学图片，可用于课件制作和板书展示。"), vec![])
            }
            Kind::LessonTalk => (
                format!("《{topic}》说课录音"),
                format!("{grade}{subject}《{topic}》说课录音：说教材、说学情、说教法学法、说教学过程。"),
                vec![],
            ),
            Kind::TeachingDesign => (
                format!("《{topic}》教学设计"),
                format!("基于核心素养的《{topic}》教学设计，包含学情分析、教学目标、评价任务和教学活动设计。"),
                vec![
                    "一、教材分析".into(),
                    "二、学情分析".into(),
                    "三、教学目标".into(),
                    "四、教学过程".into(),
                    "五、评价设计".into(),
                ],
            ),
            Kind::HomeworkDesign => (
                format!("{topic}分层作业设计"),
                format!("落实“双减”要求的《{topic}》分层作业：基础性作业约 15 分钟，拓展性作业可选，总时长不超过规定。"),
                vec!["基础性作业（必做，约 15 分钟）".into(), "拓展性作业（选做）".into(), "实践性作业".into()],
            ),
        };
        let (extension, bytes, pages, seconds) = match kind {
            Kind::Courseware | Kind::Exercise | Kind::TestPaper | Kind::StudyGuide => {
                ("pdf", files::pdf(&title, &body), Some(1), None)
            }
            Kind::LessonPlan | Kind::TeachingDesign | Kind::HomeworkDesign => ("docx", files::docx(&title, &body), None, None),
            Kind::MicroLecture => ("webm", files::LESSON_CLIP.to_vec(), None, Some(files::LESSON_CLIP_SECONDS)),
            Kind::Material => ("bmp", files::bmp(320, 180, n as u64), None, None),
            Kind::LessonTalk => {
                let seconds = 6 + (n % 5) as u32;
                ("wav", files::wav(seconds, 300.0 + (n % 7) as f64 * 40.0), None, Some(i64::from(seconds)))
            }
        };
        let keywords = [topic.clone(), unit.clone()].into_iter().filter(|k| !k.is_empty()).collect::<Vec<_>>().join("，");
        Piece { kind, file_name: format!("{title}.{extension}"), title, description, keywords, extension, bytes, pages, seconds }
    }

    fn input(&self, book: &Node, node: &Node, rng: &mut Rng) -> ResourceInput {
        const LICENCES: [&str; 4] = ["cc-by-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-4.0", "platform"];
        ResourceInput {
            title: self.title.clone(),
            description: self.description.clone(),
            stage: book.stage.clone(),
            grade: Some(book.grade),
            subject: book.subject.clone(),
            edition: book.edition.clone(),
            volume: book.volume.clone(),
            chapter_id: Some(node.id),
            resource_type: self.kind.code().to_string(),
            language: "zh".into(),
            keywords: self.keywords.clone(),
            authors: String::new(),
            licence: rng.pick(&LICENCES).to_string(),
            duration_seconds: self.seconds,
            page_count: self.pages,
        }
    }
}

/// A section's topic without its number: "17.1 勾股定理" → "勾股定理", "第3节 重力" → "重力".
fn topic(title: &str) -> String {
    match title.split_once(' ') {
        Some((number, rest))
            if number.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '*')
                || (number.starts_with('第') && ["节", "课", "章"].iter().any(|e| number.ends_with(e))) =>
        {
            rest.trim().to_string()
        }
        _ => title.trim().to_string(),
    }
}

/// A chapter's name without its ordinal: "第十七章 勾股定理" → "勾股定理", "第一单元" stays.
fn topic_of_chapter(title: &str) -> String {
    match title.split_once(' ') {
        Some((ordinal, rest)) if ordinal.starts_with('第') => rest.trim().to_string(),
        _ => topic(title),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_lose_their_numbers() {
        assert_eq!(topic("17.1 勾股定理"), "勾股定理");
        assert_eq!(topic("1 春"), "春");
        assert_eq!(topic("第3节 重力"), "重力");
        assert_eq!(topic("Section A"), "Section A");
        assert_eq!(topic_of_chapter("第十七章 勾股定理"), "勾股定理");
        assert_eq!(topic_of_chapter("第一单元"), "第一单元");
        assert_eq!(topic_of_chapter("4 万以内的加法和减法（二）"), "万以内的加法和减法（二）");
    }
}
