//! Export of the roster of any scope the user may manage, in the import columns, as CSV or XLSX:
//! an export imports back unchanged. Rows are read page by page and written by a blocking writer,
//! so memory stays flat for a province.

use crate::columns::Kind;
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use directory::codes;
use kernel::auth::{Actor, Capability, Target, permits};
use kernel::db::{Db, DbError, path_range, sql, sql_in};
use kernel::i18n::Locale;
use kernel::web::PageContext;
use kernel::{App, AppError};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Router<App> {
    Router::new().route("/roster/export", get(export_page)).route("/roster/export/{file}", get(export_download))
}

const PAGE: i64 = 2000;

fn gender(g: Option<&str>) -> &'static str {
    match g {
        Some("male") => "男",
        Some("female") => "女",
        _ => "",
    }
}

fn relation(r: &str) -> &'static str {
    match r {
        "father" => "父亲",
        "mother" => "母亲",
        "grandfather" => "爷爷",
        "grandmother" => "奶奶",
        _ => "监护人",
    }
}

fn class_kind(k: &str) -> &'static str {
    match k {
        "teaching" => "教学班",
        "elective" => "选修班",
        _ => "行政班",
    }
}

/// A class as the import files write it, or None once it has graduated.
fn grade_and_class(stage: &str, entry_year: i64, number: i64, school_year: i64) -> Option<(String, String)> {
    let g = codes::grade_of(stage, entry_year, school_year)?;
    Some((codes::grade_name(stage, g, Locale::ZhCn), format!("{number}班")))
}

/// Reads one page of rows of `kind` after `last` (an id); returns the rows and the next `last`.
async fn page(
    db: &Db,
    kind: Kind,
    lo: &str,
    hi: &str,
    school_year: i64,
    last: i64,
) -> Result<(Vec<Vec<String>>, Option<i64>), DbError> {
    let mut rows = Vec::new();
    let mut next = None;
    match kind {
        Kind::Schools => {
            let found: Vec<SchoolLine> = db
                .fetch_all(
                    sql("SELECT s.id, s.code, s.name, s.school_type, s.urban_rural, p.code AS district FROM org_units s \
                         JOIN org_units p ON p.id = s.parent_id WHERE s.kind IN ('school', 'teaching_point') \
                         AND s.path >= $1 AND s.path < $2 AND s.id > $3 ORDER BY s.id LIMIT $4")
                    .bind(lo)
                    .bind(hi)
                    .bind(last)
                    .bind(PAGE),
                )
                .await?;
            for SchoolLine { id, code, name, school_type, urban_rural, district } in found {
                next = Some(id);
                rows.push(vec![
                    code.unwrap_or_default(),
                    name,
                    school_type.unwrap_or_default(),
                    urban_rural.unwrap_or_default(),
                    district.unwrap_or_default(),
                ]);
            }
        }
        Kind::Classes => {
            let found: Vec<(i64, Option<String>, String, i64, i64, String)> = db
                .fetch_all(
                    sql("SELECT c.id, s.code, c.stage, c.entry_year, c.number, c.kind FROM classes c JOIN org_units s ON s.id = c.school_id \
                         WHERE s.path >= $1 AND s.path < $2 AND c.id > $3 ORDER BY c.id LIMIT $4")
                    .bind(lo)
                    .bind(hi)
                    .bind(last)
                    .bind(PAGE),
                )
                .await?;
            for (id, code, stage, entry_year, number, kind) in found {
                next = Some(id);
                if let Some((grade, class)) = grade_and_class(&stage, entry_year, number, school_year) {
                    rows.push(vec![code.unwrap_or_default(), grade, class, class_kind(&kind).into(), entry_year.to_string()]);
                }
            }
        }
        Kind::Teachers => {
            let found: Vec<TeacherLine> = db
                .fetch_all(
                    sql("SELECT r.id, r.person_id, r.unit_id, s.code, p.name, p.gender, p.staff_number, p.phone \
                         FROM role_assignments r JOIN people p ON p.id = r.person_id JOIN org_units s ON s.id = r.unit_id \
                         WHERE r.role = 'teacher' AND r.class_id IS NULL AND r.ends_on IS NULL \
                         AND s.path >= $1 AND s.path < $2 AND r.id > $3 ORDER BY r.id LIMIT $4")
                    .bind(lo)
                    .bind(hi)
                    .bind(last)
                    .bind(PAGE),
                )
                .await?;
            let ids: Vec<i64> = found.iter().map(|f| f.person_id).collect();
            let taught = teaching(db, &ids).await?;
            for TeacherLine { id, person_id: person, unit_id: school, code, name, gender: g, staff_number: staff, phone } in found
            {
                next = Some(id);
                let mine: Vec<&Teaching> =
                    taught.get(&person).map(|v| v.iter().filter(|t| t.unit_id == school).collect()).unwrap_or_default();
                let label =
                    |t: &Teaching| grade_and_class(&t.stage, t.entry_year, t.number, school_year).map(|(g, c)| format!("{g}{c}"));
                let subject = mine.iter().find(|t| t.role == "teacher").and_then(|t| t.subject.clone()).unwrap_or_default();
                let classes: Vec<String> = mine.iter().filter(|t| t.role == "teacher").filter_map(|t| label(t)).collect();
                let head = mine.iter().find(|t| t.role == "head_teacher").and_then(|t| label(t)).unwrap_or_default();
                rows.push(vec![
                    code.unwrap_or_default(),
                    name,
                    gender(g.as_deref()).into(),
                    staff.unwrap_or_default(),
                    phone.unwrap_or_default(),
                    subject,
                    classes.join("、"),
                    head,
                ]);
            }
        }
        Kind::Students | Kind::Parents => {
            let found: Vec<StudentLine> = db
                .fetch_all(
                    sql("SELECT r.id, r.person_id, s.code, c.stage, c.entry_year, c.number, p.name, p.gender, p.student_number \
                         FROM role_assignments r JOIN people p ON p.id = r.person_id JOIN org_units s ON s.id = r.unit_id \
                         JOIN classes c ON c.id = r.class_id WHERE r.role = 'student' AND r.ends_on IS NULL \
                         AND s.path >= $1 AND s.path < $2 AND r.id > $3 ORDER BY r.id LIMIT $4")
                    .bind(lo)
                    .bind(hi)
                    .bind(last)
                    .bind(PAGE),
                )
                .await?;
            let ids: Vec<i64> = found.iter().map(|f| f.person_id).collect();
            let guardians = guardians(db, &ids).await?;
            for StudentLine {
                id,
                person_id: person,
                code,
                stage,
                entry_year,
                number,
                name,
                gender: g,
                student_number: number_text,
            } in found
            {
                next = Some(id);
                let parents = guardians.get(&person).cloned().unwrap_or_default();
                let student_number = number_text.unwrap_or_default();
                if kind == Kind::Parents {
                    for (pname, rel, phone) in parents {
                        rows.push(vec![student_number.clone(), pname, relation(&rel).into(), phone]);
                    }
                    continue;
                }
                let Some((grade, class)) = grade_and_class(&stage, entry_year, number, school_year) else { continue };
                let mut row = vec![code.unwrap_or_default(), grade, class, name, gender(g.as_deref()).into(), student_number];
                for i in 0..2 {
                    match parents.get(i) {
                        Some((pname, rel, phone)) => row.extend([pname.clone(), relation(rel).into(), phone.clone()]),
                        None => row.extend([String::new(), String::new(), String::new()]),
                    }
                }
                rows.push(row);
            }
        }
        Kind::Headcounts => {
            let found: Vec<(i64, Option<String>, i64, i64, i64, i64)> = db
                .fetch_all(
                    sql("SELECT h.id, s.code, h.teachers, h.students, h.administrative_classes, h.year FROM headcounts h \
                         JOIN org_units s ON s.id = h.school_id WHERE s.path >= $1 AND s.path < $2 AND h.id > $3 ORDER BY h.id LIMIT $4")
                    .bind(lo)
                    .bind(hi)
                    .bind(last)
                    .bind(PAGE),
                )
                .await?;
            for (id, code, t, s, c, y) in found {
                next = Some(id);
                rows.push(vec![code.unwrap_or_default(), t.to_string(), s.to_string(), c.to_string(), y.to_string()]);
            }
        }
    }
    Ok((rows, next))
}

#[derive(sqlx::FromRow)]
struct SchoolLine {
    id: i64,
    code: Option<String>,
    name: String,
    school_type: Option<String>,
    urban_rural: Option<String>,
    district: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TeacherLine {
    id: i64,
    person_id: i64,
    unit_id: i64,
    code: Option<String>,
    name: String,
    gender: Option<String>,
    staff_number: Option<String>,
    phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StudentLine {
    id: i64,
    person_id: i64,
    code: Option<String>,
    stage: String,
    entry_year: i64,
    number: i64,
    name: String,
    gender: Option<String>,
    student_number: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Teaching {
    person_id: i64,
    unit_id: i64,
    role: String,
    subject: Option<String>,
    stage: String,
    entry_year: i64,
    number: i64,
}

async fn teaching(db: &Db, people: &[i64]) -> Result<HashMap<i64, Vec<Teaching>>, DbError> {
    let rows: Vec<Teaching> = db
        .fetch_all(sql_in(db.dialect(),
            "SELECT r.person_id, r.unit_id, r.role, r.subject, c.stage, c.entry_year, c.number FROM role_assignments r \
             JOIN classes c ON c.id = r.class_id WHERE r.ends_on IS NULL AND r.role IN ('teacher', 'head_teacher') AND r.person_id",
            people,
        ))
        .await?;
    Ok(rows.into_iter().fold(HashMap::new(), |mut m, t| {
        m.entry(t.person_id).or_insert_with(Vec::new).push(t);
        m
    }))
}

async fn guardians(db: &Db, students: &[i64]) -> Result<HashMap<i64, Vec<(String, String, String)>>, DbError> {
    let rows: Vec<(i64, String, String, Option<String>)> = db
        .fetch_all(sql_in(
            db.dialect(),
            "SELECT g.student_id, q.name, g.relation, q.phone FROM guardianships g JOIN people q ON q.id = g.parent_id \
             WHERE q.phone IS NOT NULL AND g.student_id",
            students,
        ))
        .await?;
    Ok(rows.into_iter().fold(HashMap::new(), |mut m, (s, name, rel, phone)| {
        m.entry(s).or_insert_with(Vec::new).push((name, rel, phone.unwrap_or_default()));
        m
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// Writes the export of `kind` under `scope_path` to `dest`; returns the number of rows.
pub async fn write(
    db: &Db,
    kind: Kind,
    scope_path: &str,
    school_year: i64,
    format: Format,
    dest: &std::path::Path,
) -> Result<u64, AppError> {
    let headers: Vec<String> = kind.columns().iter().map(|c| c.header.to_string()).collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<String>>>(4);
    let dest_owned = dest.to_path_buf();
    let sheet_name = kind.as_str().to_string();
    let writer = tokio::task::spawn_blocking(move || -> Result<u64, sheet::SheetError> {
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut n = 0u64;
        match format {
            Format::Csv => {
                let file = std::io::BufWriter::new(std::fs::File::create(&dest_owned)?);
                let mut w = sheet::CsvWriter::new(file, &headers)?;
                for page in rx {
                    for row in &page {
                        w.row(&row.iter().map(String::as_str).collect::<Vec<_>>())?;
                        n += 1;
                    }
                }
                w.finish()?;
            }
            Format::Xlsx => {
                let mut w = sheet::StreamingXlsx::create(&dest_owned, &sheet_name, &headers)?;
                for page in rx {
                    for row in &page {
                        w.row(&row.iter().map(String::as_str).collect::<Vec<_>>())?;
                        n += 1;
                    }
                }
                w.finish()?;
            }
        }
        Ok(n)
    });
    let (lo, hi) = path_range(scope_path);
    let mut last = 0;
    loop {
        let (rows, next) = page(db, kind, &lo, &hi, school_year, last).await?;
        if !rows.is_empty() && tx.send(rows).is_err() {
            break; // the writer failed; its error is reported below
        }
        match next {
            Some(n) => last = n,
            None => break,
        }
    }
    drop(tx);
    writer.await.map_err(AppError::internal)?.map_err(AppError::internal)
}

#[derive(Deserialize)]
struct ExportQuery {
    unit: Option<i64>,
}

#[derive(Template)]
#[template(path = "export.html")]
struct ExportPage<'a> {
    ctx: &'a PageContext,
    kinds: Vec<(&'static str, String)>,
    unit_name: String,
    unit_id: i64,
}

async fn scope(app: &App, actor: &Actor, unit: Option<i64>) -> Result<directory::org::model::OrgUnit, AppError> {
    let unit = directory::org::store::get(&app.db, unit.unwrap_or(actor.unit_id)).await?.ok_or(AppError::NotFound)?;
    if !crate::import::http::may_import(actor) || !permits(actor, Capability::Manage, Target::Unit { path: &unit.path }) {
        return Err(AppError::Forbidden);
    }
    Ok(unit)
}

async fn export_page(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let unit = scope(&app, &actor, q.unit).await?;
    let kinds = Kind::ALL.iter().map(|k| (k.as_str(), ctx.t(k.label_key()))).collect();
    let page = ExportPage { ctx: &ctx, kinds, unit_name: unit.name, unit_id: unit.id };
    Ok(ctx.render(&ctx.t("roster-export-title"), &page)?.into_response())
}

/// `/roster/export/students.csv?unit=ID`: the file is built on disk, then streamed and removed.
async fn export_download(
    State(app): State<App>,
    ctx: PageContext,
    actor: Actor,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let unit = scope(&app, &actor, q.unit).await?;
    let (kind, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let kind = Kind::parse(kind).ok_or(AppError::NotFound)?;
    let (format, mime) = match ext {
        "csv" => (Format::Csv, "text/csv; charset=utf-8"),
        "xlsx" => (Format::Xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        _ => return Err(AppError::NotFound),
    };
    let dir = app.config.data_dir.join("exports");
    tokio::fs::create_dir_all(&dir).await.map_err(AppError::internal)?;
    let dest = dir.join(format!("{}-{}.{ext}", kernel::now(), kernel::secret::random_token(9)));
    let today = kernel::today(app.config.display_utc_offset_minutes);
    let school_year = directory::calendar::store::school_year(&app.db, today).await?;
    let written = write(&app.db, kind, &unit.path, school_year, format, &dest).await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&dest).await;
        return Err(e);
    }
    let file = tokio::fs::File::open(&dest).await.map_err(AppError::internal)?;
    // Unlinked at once: the open handle keeps the data readable until the response ends.
    let _ = tokio::fs::remove_file(&dest).await;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let name = format!("{}-{}.{ext}", ctx.t(kind.label_key()), unit.name);
    let disposition =
        format!("attachment; filename=\"{}.{ext}\"; filename*=UTF-8''{}", kind.as_str(), kernel::web::urlencode(&name));
    Ok(([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, disposition)], Body::from_stream(stream))
        .into_response())
}
