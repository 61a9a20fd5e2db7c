//! Rostering: imports through the page API (GBK files, row errors, all-or-nothing, idempotent
//! upserts, moves, missing people), scope checks against neighbouring schools and districts,
//! cancellation, crash recovery, and the statistics.

use crate::fixture::{csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use serde_json::Value;
use std::time::Duration;

const STUDENTS_HEADER: &str = "学校标识码,年级,班级,姓名,性别,学籍号,家长姓名,家长关系,家长手机号\r\n";

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// Uploads a file as the import page does and waits for the job to finish.
async fn import(t: &TestApp, c: &reqwest::Client, kind: &str, name: &str, bytes: Vec<u8>, options: &[(&str, &str)]) -> Value {
    let token = csrf(t, c).await;
    let mut form = reqwest::multipart::Form::new().text("_csrf", token).text("kind", kind.to_string());
    for (k, v) in options {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r = c.post(t.url("/api/v1/imports")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    wait(t, c, id).await
}

async fn wait(t: &TestApp, c: &reqwest::Client, id: i64) -> Value {
    for _ in 0..300 {
        let job: Value = c.get(t.url(&format!("/api/v1/imports/{id}"))).send().await.unwrap().json().await.unwrap();
        if matches!(job["status"].as_str(), Some("done" | "failed" | "cancelled")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = t.app.db.fetch_one(kernel::db::sql(sql)).await.unwrap();
    n
}

db_test!(a_gbk_file_with_errors_writes_nothing_then_the_fixed_file_imports_once, |t| {
    let _r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let people_before = count(&t, "SELECT COUNT(*) FROM people").await;
    let bad = format!(
        "学生名单（2026学年）,,,,,,,,\r\n{STUDENTS_HEADER}\
         2142990101,三年级,1班,刘　一,男,G1001,刘大,父亲,13800000001\r\n\
         2142990101,三年级,1班,陈二,女,G1002,陈大,母亲,1380000\r\n\
         2142990101,三年级,9班,孙三,男,G1003,,,\r\n\
         2142990101,三年级,1班,周四,男,1.23E+17,,,\r\n\
         2142990101,三年级,2班,吴五,女,G1001,,,\r\n"
    );
    let job = import(&t, &admin, "students", "名单.csv", gbk(&bad), &[]).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error_rows"], 4);
    assert!(job["failure"].as_str().unwrap().contains("4"), "{job}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people").await, people_before, "nothing written");
    let id = job["id"].as_i64().unwrap();
    let problems: Value = admin.get(t.url(&format!("/api/v1/imports/{id}/problems"))).send().await.unwrap().json().await.unwrap();
    let errors = problems["errors"].as_array().unwrap();
    let find = |row: i64, column: &str| errors.iter().find(|e| e["row"] == row && e["column"] == column).cloned();
    assert!(find(4, "家长手机号").unwrap()["message"].as_str().unwrap().contains("11"), "{errors:?}");
    assert!(find(5, "班级").unwrap()["message"].as_str().unwrap().contains("班级"), "{errors:?}");
    assert!(find(6, "学籍号").unwrap()["message"].as_str().unwrap().contains("科学计数法"), "{errors:?}");
    assert!(find(7, "学籍号").unwrap()["message"].as_str().unwrap().contains("第 3 行"), "{errors:?}");
    let report = admin.get(t.url(&format!("/roster/imports/{id}/report"))).send().await.unwrap();
    assert_eq!(report.status(), 200);
    let bytes = report.bytes().await.unwrap().to_vec();
    let rows: Vec<sheet::Record> =
        sheet::Reader::from_bytes(bytes, None, &sheet::Limits::default()).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5, "the header and the four failing rows");
    assert!(rows[1].cells.last().unwrap().text.contains("家长手机号"));

    let good = format!(
        "{STUDENTS_HEADER}2142990101,三年级,1班,刘　一,男,G1001,刘大,父亲,13800000001\r\n\
         2142990101,三年级,1班,陈二,女,G1002,陈大,母亲,13800000002\r\n\
         2142990101,三年级,2班,孙三,男,G1003,刘大,父亲,13800000001\r\n"
    );
    let job = import(&t, &admin, "students", "名单.csv", gbk(&good), &[]).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!((job["counts"]["created"].as_i64(), job["counts"]["unchanged"].as_i64()), (Some(3), Some(0)));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people WHERE name = '刘一'").await, 1, "full-width space removed");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people WHERE phone = '13800000001'").await, 1, "one parent for two children");
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM people WHERE student_number IN ('G1001', 'G1002', 'G1003') AND password_hash IS NULL")
            .await,
        3,
        "no default password"
    );
    // The same file again changes nothing.
    let again = import(&t, &admin, "students", "名单.csv", gbk(&good), &[]).await;
    assert_eq!((again["counts"]["unchanged"].as_i64(), again["counts"]["created"].as_i64()), (Some(3), Some(0)), "{again}");
    // 孙三 changes class: moved, with the old membership kept as history.
    let moved = good.replace("三年级,2班,孙三", "三年级,1班,孙三");
    let job = import(&t, &admin, "students", "名单.csv", moved.into_bytes(), &[]).await;
    assert_eq!(job["counts"]["moved"], 1, "{job}");
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM role_assignments r JOIN people p ON p.id = r.person_id WHERE p.student_number = 'G1003' AND r.role = 'student'").await,
        2
    );
});

db_test!(people_missing_from_the_file_are_listed_and_left_only_on_request, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    // s1 has 张小明 and 赵小红; this file lists only 张小明.
    let file = format!("{STUDENTS_HEADER}2142990101,三年级,1班,张小明,男,G420000000000000001,,,\r\n");
    let job = import(&t, &admin, "students", "s1.csv", file.clone().into_bytes(), &[]).await;
    assert_eq!(job["counts"]["missing"], 1, "{job}");
    let id = job["id"].as_i64().unwrap();
    let problems: Value = admin.get(t.url(&format!("/api/v1/imports/{id}/problems"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(problems["missing"][0]["column"], "赵小红");
    let active = format!("SELECT COUNT(*) FROM role_assignments WHERE person_id = {} AND ends_on IS NULL", r.other_student);
    assert_eq!(count(&t, &active).await, 1, "kept unless asked");
    let job = import(&t, &admin, "students", "s1.csv", file.into_bytes(), &[("mark_missing_left", "true")]).await;
    assert_eq!(job["counts"]["marked_left"], 1, "{job}");
    assert_eq!(count(&t, &active).await, 0);
    assert_eq!(count(&t, &format!("SELECT COUNT(*) FROM people WHERE id = {} AND status = 'left'", r.other_student)).await, 1);
});

db_test!(valid_rows_only_and_dry_runs_are_explicit, |t| {
    let _r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let file = format!(
        "{STUDENTS_HEADER}2142990101,三年级,1班,甲,男,G2001,,,\r\n2142990101,三年级,1班,乙,男,G2002,,,\r\n2142990101,十三年级,1班,丙,男,G2003,,,\r\n"
    );
    let dry =
        import(&t, &admin, "students", "a.csv", file.clone().into_bytes(), &[("dry_run", "true"), ("valid_rows_only", "true")])
            .await;
    assert_eq!((dry["status"].as_str(), dry["counts"]["created"].as_i64()), (Some("done"), Some(2)), "{dry}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people WHERE student_number LIKE 'G200%'").await, 0, "a dry run writes nothing");
    let job = import(&t, &admin, "students", "a.csv", file.into_bytes(), &[("valid_rows_only", "true")]).await;
    assert_eq!((job["counts"]["created"].as_i64(), job["error_rows"].as_i64()), (Some(2), Some(1)), "{job}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people WHERE student_number LIKE 'G200%'").await, 2);
});

db_test!(neighbouring_schools_and_districts_are_refused, |t| {
    let r = region(&t).await;
    let s1 = signed_in(&t, "s1-admin").await;
    let file = format!("{STUDENTS_HEADER}2142990101,三年级,1班,甲,男,G3001,,,\r\n");
    let job = import(&t, &s1, "students", "a.csv", file.into_bytes(), &[]).await;
    let id = job["id"].as_i64().unwrap();
    let west = signed_in(&t, "s3-admin").await;
    assert_eq!(west.get(t.url(&format!("/api/v1/imports/{id}"))).send().await.unwrap().status(), 403);
    assert_eq!(west.get(t.url(&format!("/roster/imports/{id}"))).send().await.unwrap().status(), 403);
    assert_eq!(west.get(t.url(&format!("/api/v1/imports/{id}/problems"))).send().await.unwrap().status(), 403);
    assert_eq!(west.post(t.url(&format!("/api/v1/imports/{id}/cancel"))).send().await.unwrap().status(), 403);
    assert_eq!(west.get(t.url(&format!("/roster/imports/{id}/report"))).send().await.unwrap().status(), 403);
    let token = csrf(&t, &west).await;
    let rerun = west
        .post(t.url(&format!("/roster/imports/{id}/rerun")))
        .form(&[("_csrf", token.as_str()), ("mode", "same")])
        .send()
        .await
        .unwrap();
    assert_eq!(rerun.status(), 403, "a neighbour cannot re-run the job");
    assert_eq!(signed_in(&t, "d2-admin").await.get(t.url(&format!("/api/v1/imports/{id}"))).send().await.unwrap().status(), 403);
    assert_eq!(signed_in(&t, "d1-admin").await.get(t.url(&format!("/api/v1/imports/{id}"))).send().await.unwrap().status(), 200);
    // A school admin cannot import into the neighbouring school, nor take its student.
    let into_s1 = format!("{STUDENTS_HEADER}2142990101,三年级,1班,乙,男,G3002,,,\r\n");
    let job = import(&t, &west, "students", "b.csv", into_s1.into_bytes(), &[]).await;
    assert_eq!(job["status"], "failed");
    let steal = format!("{STUDENTS_HEADER}2142990201,一年级,1班,张小明,男,G420000000000000001,,,\r\n");
    let job = import(&t, &west, "students", "c.csv", steal.into_bytes(), &[]).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(
        count(
            &t,
            &format!(
                "SELECT COUNT(*) FROM role_assignments WHERE person_id = {} AND unit_id = {} AND ends_on IS NULL",
                r.student, r.s1
            )
        )
        .await,
        1
    );
    // Teachers, students and parents do not import.
    let teacher = signed_in(&t, "teacher").await;
    let token = csrf(&t, &teacher).await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("kind", "students")
        .part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.csv"));
    assert_eq!(teacher.post(t.url("/api/v1/imports")).multipart(form).send().await.unwrap().status(), 403);
    // A form post without the CSRF token is refused.
    let form = reqwest::multipart::Form::new()
        .text("kind", "students")
        .part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.csv"));
    assert_eq!(s1.post(t.url("/api/v1/imports")).multipart(form).send().await.unwrap().status(), 403);
});

db_test!(schools_classes_teachers_and_headcounts_import_from_xlsx, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "d1-admin").await;
    let mut wb = sheet::Workbook::new();
    let spec = |h| sheet::ColumnSpec { header: h, note: None, width: 10.0 };
    let other = wb.sheet("说明", &[spec("说明")]).unwrap();
    wb.row(other, &["请看第二页"], &[]).unwrap();
    let s =
        wb.sheet("学校", &[spec("学校标识码"), spec("学校名称"), spec("办学类型"), spec("城乡类型"), spec("所属区县")]).unwrap();
    wb.row(s, &["2142990103", "东区三小", "小学", "主城区", "429901"], &[]).unwrap();
    wb.row(s, &["2142990201", "西区一小", "211", "111", "429901"], &[]).unwrap();
    let job = import(&t, &admin, "schools", "schools.xlsx", wb.to_bytes().unwrap(), &[("sheet", "学校")]).await;
    assert_eq!(job["status"], "failed", "s3 belongs to the other district: {job}");
    let mut wb = sheet::Workbook::new();
    let s =
        wb.sheet("学校", &[spec("学校标识码"), spec("学校名称"), spec("办学类型"), spec("城乡类型"), spec("所属区县")]).unwrap();
    wb.row(s, &["2142990103", "东区三小", "小学", "主城区", "东区"], &[]).unwrap();
    let job = import(&t, &admin, "schools", "schools.xlsx", wb.to_bytes().unwrap(), &[]).await;
    assert_eq!(job["counts"]["created"], 1, "{job}");
    let classes = "学校标识码,年级,班级\r\n2142990103,一年级,1班\r\n2142990103,一年级,2班\r\n2142990102,初一,2班\r\n2142990102,三年级,1班\r\n";
    let job = import(&t, &admin, "classes", "c.csv", classes.as_bytes().to_vec(), &[]).await;
    assert_eq!(job["error_rows"], 1, "a junior school has no 三年级: {job}");
    let job =
        import(&t, &admin, "classes", "c.csv", classes.lines().take(4).collect::<Vec<_>>().join("\r\n").into_bytes(), &[]).await;
    assert_eq!(job["counts"]["created"], 3, "{job}");
    let teachers = "学校标识码,姓名,性别,教工号,手机号,任教学科,任教班级,班主任班级\r\n\
                    2142990103,黄老师,女,T9001,13900000001,语文,一年级1班、一年级2班,一年级1班\r\n";
    let job = import(&t, &admin, "teachers", "t.csv", teachers.as_bytes().to_vec(), &[]).await;
    assert_eq!(job["counts"]["created"], 1, "{job}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM role_assignments r JOIN people p ON p.id = r.person_id WHERE p.staff_number = 'T9001' AND r.ends_on IS NULL").await, 4);
    let headcounts = "学校标识码,教师数,学生数,行政班数,统计年度\r\n2142990101,10,200,6,2026\r\n2142990102,12,300,8,2026\r\n";
    let job = import(&t, &admin, "headcounts", "h.csv", headcounts.as_bytes().to_vec(), &[]).await;
    assert_eq!(job["counts"]["created"], 2, "{job}");
    // The statistics put the official figures beside the registered ones, per child unit.
    let city = signed_in(&t, "city-admin").await;
    let stats: Value = city.get(t.url("/api/v1/roster/stats?sort=name&dir=asc")).send().await.unwrap().json().await.unwrap();
    let d1 = stats["rows"].as_array().unwrap().iter().find(|row| row["figures"]["unit_id"] == r.d1).unwrap().clone();
    assert_eq!(d1["figures"]["official_students"], 500);
    assert_eq!(d1["figures"]["students"], 2);
    assert_eq!(d1["figures"]["schools"], 3);
    assert_eq!(stats["total"]["figures"]["students"], 3);
    let page = city.get(t.url(&format!("/roster/stats?unit={}", r.d1))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("东区三小") && page.contains("<svg"), "drill-down with a chart");
    let school = city.get(t.url(&format!("/roster/stats?unit={}", r.s1))).send().await.unwrap().text().await.unwrap();
    assert!(school.contains("三年级1班"), "a school's classes");
    let xlsx = city.get(t.url(&format!("/roster/stats.xlsx?unit={}", r.city))).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let d2 = signed_in(&t, "d2-admin").await;
    assert_eq!(d2.get(t.url(&format!("/api/v1/roster/stats?unit={}", r.d1))).send().await.unwrap().status(), 403);
    assert_eq!(
        signed_in(&t, "s3-admin").await.get(t.url(&format!("/roster/stats?unit={}", r.s1))).send().await.unwrap().status(),
        403
    );
    assert_eq!(signed_in(&t, "teacher").await.get(t.url("/roster/stats")).send().await.unwrap().status(), 403);
});

struct CancelAfterFirstChunk(std::sync::atomic::AtomicBool);

impl roster::import::Progress for CancelAfterFirstChunk {
    fn update(&self, phase: roster::import::Phase, _: u64, _: u64) {
        if phase == roster::import::Phase::Applying {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

db_test!(a_cancelled_import_leaves_the_database_as_it_was_and_a_crash_is_recoverable, |t| {
    let _r = region(&t).await;
    let dir = t.app.config.data_dir.join("cancel-test");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.csv");
    let mut text = STUDENTS_HEADER.to_string();
    for i in 0..2500 {
        text.push_str(&format!("2142990101,三年级,1班,学生{},男,G8{i:05},,,\r\n", ["甲", "乙"][i % 2]));
    }
    std::fs::write(&file, text).unwrap();
    let before = count(&t, "SELECT COUNT(*) FROM people").await;
    let who = roster::import::Who { actor_id: None, actor_name: "test".into(), ip: "local".into() };
    let opts = roster::import::Options::default();
    let today = kernel::today(480);
    let req = roster::import::Request {
        kind: roster::columns::Kind::Students,
        file: &file,
        scope_path: "/",
        school_year: directory::codes::school_year_of(today),
        today,
        who: &who,
        opts: &opts,
    };
    let result = roster::import::run(&t.app.db, &req, &CancelAfterFirstChunk(Default::default())).await;
    assert!(matches!(result, Err(roster::import::ImportError::Cancelled)));
    assert_eq!(count(&t, "SELECT COUNT(*) FROM people").await, before, "rolled back");
    // A job a crash left running is shown as failed, to be run again.
    t.app
        .db
        .execute(kernel::db::sql(
            "INSERT INTO import_jobs (kind, unit_id, file_name, file_path, status, created_at, heartbeat_at) \
             SELECT 'students', id, 'x.csv', 'x.csv', 'running', 0, 0 FROM org_units WHERE code = '2142990101'",
        ))
        .await
        .unwrap();
    assert_eq!(roster::import::job::recover(&t.app.db, false).await.unwrap(), 1);
    assert_eq!(
        count(&t, "SELECT COUNT(*) FROM import_jobs WHERE status = 'failed' AND failure = 'roster-job-interrupted'").await,
        1
    );
});

db_test!(templates_are_xlsx_with_chinese_headers, |t| {
    let _r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    for kind in ["schools", "classes", "teachers", "students", "parents", "headcounts"] {
        let r = admin.get(t.url(&format!("/roster/templates/{kind}.xlsx"))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{kind}");
        let bytes = r.bytes().await.unwrap().to_vec();
        let header = sheet::Reader::from_bytes(bytes.clone(), None, &sheet::Limits::default()).unwrap().next().unwrap().unwrap();
        let expected = roster::columns::Kind::parse(kind).unwrap().columns()[0].header;
        assert_eq!(header.cells[0].text, expected);
        let help = sheet::Reader::from_bytes(bytes, Some("填写说明"), &sheet::Limits::default()).unwrap().count();
        assert!(help > 3, "instructions with an example row");
    }
    assert_eq!(signed_in(&t, "teacher").await.get(t.url("/roster/templates/students.xlsx")).send().await.unwrap().status(), 403);
});

db_test!(an_export_imports_back_unchanged_and_stays_in_scope, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let file = format!(
        "{STUDENTS_HEADER}2142990101,三年级,1班,艾力·买买提,男,G5001,买买提,父亲,13800000011\r\n2142990101,三年级,2班,陈五,女,G5002,陈大,母亲,13800000012\r\n"
    );
    let job = import(&t, &admin, "students", "s.csv", file.into_bytes(), &[]).await;
    assert_eq!(job["counts"]["created"], 2, "{job}");
    for kind in ["students", "classes", "schools", "parents"] {
        let export = admin.get(t.url(&format!("/roster/export/{kind}.csv?unit={}", r.s1))).send().await.unwrap();
        assert_eq!(export.status(), 200, "{kind}");
        let bytes = export.bytes().await.unwrap().to_vec();
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM for Excel");
        if kind == "schools" {
            continue; // a school admin does not manage the district the school file names
        }
        let again = import(&t, &admin, kind, &format!("{kind}.csv"), bytes, &[]).await;
        assert_eq!(again["status"], "done", "{kind}: {again}");
        assert_eq!(
            (again["counts"]["created"].as_i64(), again["counts"]["updated"].as_i64(), again["counts"]["moved"].as_i64()),
            (Some(0), Some(0), Some(0)),
            "{kind}: {again}"
        );
    }
    let xlsx = admin
        .get(t.url(&format!("/roster/export/students.xlsx?unit={}", r.s1)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let rows = sheet::Reader::from_bytes(xlsx, None, &sheet::Limits::default()).unwrap().count();
    assert_eq!(rows, 5, "header and four students");
    let west = signed_in(&t, "s3-admin").await;
    assert_eq!(west.get(t.url(&format!("/roster/export/students.csv?unit={}", r.s1))).send().await.unwrap().status(), 403);
    assert_eq!(
        signed_in(&t, "d2-admin").await.get(t.url(&format!("/roster/export?unit={}", r.d1))).send().await.unwrap().status(),
        403
    );
    assert_eq!(signed_in(&t, "teacher").await.get(t.url("/roster/export")).send().await.unwrap().status(), 403);
});
