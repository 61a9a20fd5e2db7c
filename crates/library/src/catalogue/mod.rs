//! Textbook catalogues (教材目录): trees of textbook → chapter → section that resources hang on,
//! imported from a sheet and edited by the region's administrators.

pub mod http;
pub mod store;

use crate::vocab::{self, Term};
use kernel::audit::{self, Entry};
use kernel::auth::{Actor, Role};
use kernel::error::FieldError;
use kernel::web::RequestMeta;
use kernel::{App, AppError};
use serde_json::json;
use std::path::Path;
use store::Textbook;

/// The demo region's catalogue: a few textbooks of several subjects and grades, in the import
/// sheet's own columns.
pub const DEMO_CATALOGUE: &str = include_str!("../../data/catalogue-demo.csv");

/// The catalogue is region-wide: administrators of the top of the tree keep it.
pub fn may_edit(actor: &Actor) -> bool {
    actor.role == Role::RegionAdmin && actor.unit_path.matches('/').count() == 2
}

/// The columns of a catalogue sheet, by the names a header may give them (Chinese or English).
const COLUMNS: [(&str, &[&str]); 7] = [
    ("stage", &["stage", "学段"]),
    ("grade", &["grade", "年级"]),
    ("subject", &["subject", "学科"]),
    ("edition", &["edition", "版本", "教材版本"]),
    ("volume", &["volume", "册次", "册"]),
    ("chapter", &["chapter", "章", "单元", "章节"]),
    ("section", &["section", "节", "课", "课时"]),
];

/// A code list value given by its code or by its Chinese or English name.
fn coded(list: &'static [Term], value: &str) -> Option<&'static str> {
    list.iter().find(|t| t.code == value || t.zh == value || t.en.eq_ignore_ascii_case(value)).map(|t| t.code)
}

fn stage_code(value: &str) -> Option<&'static str> {
    const NAMES: [(&str, &str); 5] =
        [("preschool", "学前"), ("primary", "小学"), ("junior", "初中"), ("senior", "高中"), ("vocational", "中职")];
    NAMES.iter().find(|(code, zh)| *code == value || *zh == value).map(|(code, _)| *code)
}

/// One row, checked.
struct Row {
    stage: &'static str,
    grade: i64,
    subject: &'static str,
    edition: &'static str,
    volume: &'static str,
    chapter: String,
    section: String,
}

#[derive(Debug, serde::Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub created: usize,
}

/// Reads a catalogue sheet; every problem is reported with its row and column and nothing is
/// written unless the whole file is good.
pub async fn import(app: &App, actor: &Actor, meta: &RequestMeta, path: &Path) -> Result<ImportSummary, AppError> {
    if !may_edit(actor) {
        return Err(AppError::Forbidden);
    }
    let path = path.to_path_buf();
    let rows = tokio::task::spawn_blocking(move || read(&path)).await.map_err(AppError::internal)??;
    let mut tx = app.db.begin().await?;
    let mut created = 0;
    for r in &rows {
        let book = Textbook { stage: r.stage, grade: r.grade, subject: r.subject, edition: r.edition, volume: r.volume };
        let title = format!(
            "{} {} {}",
            vocab::name(vocab::EDITIONS, r.edition, kernel::i18n::Locale::ZhCn),
            vocab::name(vocab::SUBJECTS, r.subject, kernel::i18n::Locale::ZhCn),
            vocab::name(vocab::VOLUMES, r.volume, kernel::i18n::Locale::ZhCn)
        );
        let (textbook, new) = store::ensure(&mut tx, None, &book, &title).await?;
        created += usize::from(new);
        let (chapter, new) = store::ensure(&mut tx, Some(&textbook), &book, &r.chapter).await?;
        created += usize::from(new);
        if !r.section.is_empty() {
            created += usize::from(store::ensure(&mut tx, Some(&chapter), &book, &r.section).await?.1);
        }
    }
    audit::record(
        &mut tx,
        &Entry::by(actor, meta, "catalogue_import", "catalogue", 0, "catalogue", actor.unit_path.clone())
            .after(json!({ "rows": rows.len(), "created": created })),
    )
    .await?;
    tx.commit().await?;
    Ok(ImportSummary { rows: rows.len(), created })
}

fn read(path: &Path) -> Result<Vec<Row>, AppError> {
    let unreadable =
        |e: sheet::SheetError| AppError::Invalid(vec![FieldError::new("file", "library-catalogue-unreadable").arg("detail", e)]);
    let mut reader = sheet::Reader::open(path, None, &sheet::Limits::default()).map_err(unreadable)?;
    let header = match reader.next() {
        Some(r) => r.map_err(unreadable)?,
        None => return Err(AppError::invalid("file", "library-catalogue-empty")),
    };
    let names: Vec<String> = header.cells.iter().map(|c| c.text.trim().to_lowercase()).collect();
    let mut at = [usize::MAX; 7];
    let mut errors = Vec::new();
    for (i, (column, aliases)) in COLUMNS.iter().enumerate() {
        match names.iter().position(|n| aliases.contains(&n.as_str())) {
            Some(p) => at[i] = p,
            None if *column == "section" => {}
            None => errors.push(FieldError::new(*column, "library-catalogue-missing-column")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut rows = Vec::new();
    for record in reader {
        let record = record.map_err(unreadable)?;
        let cell = |i: usize| record.cells.get(at[i]).map(|c| c.text.trim().to_string()).unwrap_or_default();
        let problem = |column: &str, value: &str, key: &'static str| {
            FieldError::new(column, key).arg("row", record.row).arg("value", value)
        };
        let before = errors.len();
        let stage = stage_code(&cell(0));
        if stage.is_none() {
            errors.push(problem("stage", &cell(0), "library-catalogue-bad-value"));
        }
        let years = stage.and_then(directory::codes::stage_years).unwrap_or(0);
        let grade = cell(1).trim_end_matches("年级").parse::<i64>().ok().filter(|g| (1..=years).contains(g));
        if grade.is_none() {
            errors.push(problem("grade", &cell(1), "library-catalogue-bad-value"));
        }
        let mut code = |i: usize, column: &str, list: &'static [Term]| {
            let v = coded(list, &cell(i));
            if v.is_none() {
                errors.push(problem(column, &cell(i), "library-catalogue-bad-value"));
            }
            v.unwrap_or("")
        };
        let (subject, edition, volume) =
            (code(2, "subject", vocab::SUBJECTS), code(3, "edition", vocab::EDITIONS), code(4, "volume", vocab::VOLUMES));
        let (chapter, section) = (cell(5), if at[6] == usize::MAX { String::new() } else { cell(6) });
        if chapter.is_empty() || chapter.chars().count() > 100 {
            errors.push(problem("chapter", &chapter, "library-catalogue-bad-title"));
        }
        if section.chars().count() > 100 {
            errors.push(problem("section", &section, "library-catalogue-bad-title"));
        }
        if errors.len() > 200 {
            break;
        }
        if errors.len() == before
            && let (Some(stage), Some(grade)) = (stage, grade)
        {
            rows.push(Row { stage, grade, subject, edition, volume, chapter, section });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if rows.is_empty() {
        return Err(AppError::invalid("file", "library-catalogue-empty"));
    }
    Ok(rows)
}

/// The chapters best matching a title, for the resource form.
pub async fn suggest(
    app: &App,
    title: &str,
    stage: &str,
    subject: &str,
    grade: Option<i64>,
) -> Result<Vec<(store::Node, f64)>, AppError> {
    let nodes = store::chapters_for(&app.db, stage, subject, grade).await?;
    let parents: Vec<String> = nodes
        .iter()
        .map(|n| nodes.iter().find(|p| Some(p.id) == n.parent_id).map(|p| p.title.clone()).unwrap_or_default())
        .collect();
    let candidates: Vec<crate::suggest::Candidate<'_>> = nodes
        .iter()
        .zip(&parents)
        .map(|(n, p)| crate::suggest::Candidate { id: n.id, title: &n.title, path_titles: p })
        .collect();
    let best = crate::suggest::suggest(title, &candidates, 5);
    Ok(best.into_iter().filter_map(|(id, score)| nodes.iter().find(|n| n.id == id).map(|n| (n.clone(), score))).collect())
}
