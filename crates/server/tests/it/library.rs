//! The resource library: resumable uploads, refusals, review and publishing up the levels,
//! search with facets, ranged downloads, takedown and the textbook catalogue. Every endpoint is
//! also tried by someone of a neighbouring school or district, who must be refused.

use crate::fixture::{Region, add_person, csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use kernel::auth::Role;
use reqwest::Client;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

/// A small PDF-looking file: the PDF signature, then varied bytes.
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x = u32::from(seed) + 1;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.push((x >> 16) as u8);
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn start(t: &TestApp, c: &Client, name: &str, size: usize) -> reqwest::Response {
    c.post(t.url("/api/v1/uploads")).json(&json!({ "file_name": name, "size": size })).send().await.unwrap()
}

async fn put_chunk(t: &TestApp, c: &Client, id: i64, idx: usize, bytes: &[u8], hash: Option<String>) -> reqwest::Response {
    let mut req = c.put(t.url(&format!("/api/v1/uploads/{id}/chunks/{idx}"))).body(bytes.to_vec());
    if let Some(h) = hash {
        req = req.header("x-chunk-sha256", h);
    }
    req.send().await.unwrap()
}

async fn complete(t: &TestApp, c: &Client, id: i64) -> reqwest::Response {
    c.post(t.url(&format!("/api/v1/uploads/{id}/complete"))).json(&json!({})).send().await.unwrap()
}

/// Uploads a whole file through the chunked API; the upload's id.
pub(crate) async fn upload(t: &TestApp, c: &Client, name: &str, bytes: &[u8]) -> i64 {
    let started = start(t, c, name, bytes.len()).await;
    assert_eq!(started.status(), 201, "{}", started.text().await.unwrap());
    let up: Value = started.json().await.unwrap();
    let (id, chunk) = (up["id"].as_i64().unwrap(), up["chunk_size"].as_u64().unwrap() as usize);
    for (idx, part) in bytes.chunks(chunk).enumerate() {
        let r = put_chunk(t, c, id, idx, part, Some(sha(part))).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let done = complete(t, c, id).await;
    assert_eq!(done.status(), 200, "{}", done.text().await.unwrap());
    id
}

fn metadata(title: &str) -> Value {
    json!({
        "title": title, "description": "人教版八年级下册第十七章", "stage": "junior", "grade": 2, "subject": "math",
        "edition": "pep", "volume": "lower", "resource_type": "courseware", "language": "zh", "licence": "cc-by-4.0",
        "keywords": "勾股定理，直角三角形"
    })
}

/// Uploads a file and makes a draft resource of it; the resource's id.
pub(crate) async fn draft(t: &TestApp, c: &Client, title: &str, seed: u8) -> i64 {
    let id = upload(t, c, &format!("{title}.pdf"), &pdf(50_000, seed)).await;
    let mut body = metadata(title);
    body["upload_id"] = json!(id);
    let r = c.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

pub(crate) async fn submit(t: &TestApp, c: &Client, id: i64, level: &str) -> reqwest::Response {
    c.post(t.url(&format!("/api/v1/resources/{id}/submit"))).json(&json!({ "level": level })).send().await.unwrap()
}

pub(crate) async fn decide(t: &TestApp, c: &Client, ids: &[i64], decision: &str, reason: &str) -> reqwest::Response {
    let body = json!({ "publication_ids": ids, "decision": decision, "reason": reason });
    c.post(t.url("/api/v1/reviews")).json(&body).send().await.unwrap()
}

pub(crate) async fn queue(t: &TestApp, c: &Client) -> Vec<Value> {
    let r = c.get(t.url("/api/v1/reviews")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// Ids of the resources a search finds for this person.
async fn found(t: &TestApp, c: &Client, query: &str) -> Vec<i64> {
    let r: Value = c.get(t.url(&format!("/api/v1/resources?{query}"))).send().await.unwrap().json().await.unwrap();
    r["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

/// Reviewers and teachers around the fixture's region.
pub(crate) async fn staff(t: &TestApp, r: &Region) {
    add_person(t, "s1-reviewer", "一小审核员", Role::Reviewer, r.s1, None).await;
    add_person(t, "s2-teacher", "二中刘老师", Role::Teacher, r.s2, None).await;
    add_person(t, "s3-teacher", "西区陈老师", Role::Teacher, r.s3, None).await;
    add_person(t, "d1-reviewer", "东区审核员", Role::Reviewer, r.d1, None).await;
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = t.app.db.fetch_one(kernel::db::sql(sql.to_string())).await.unwrap();
    n
}

db_test!(
    uploads_resume_verify_chunks_and_store_content_once,
    |c| {
        c.library.chunk_mb = 1;
    },
    |t| {
        let r = region(&t).await;
        staff(&t, &r).await;
        let teacher = signed_in(&t, "teacher").await;
        let file = pdf(2 * MIB + 1000, 1);
        let up: Value = start(&t, &teacher, "勾股定理.pdf", file.len()).await.json().await.unwrap();
        let id = up["id"].as_i64().unwrap();
        assert_eq!((up["chunks"].as_i64(), up["chunk_size"].as_i64()), (Some(3), Some(MIB as i64)));
        let parts: Vec<&[u8]> = file.chunks(MIB).collect();
        // A chunk damaged on the way is refused, and nothing of it is kept.
        let damaged = put_chunk(&t, &teacher, id, 1, parts[1], Some(sha(parts[0]))).await;
        assert_eq!(damaged.status(), 422);
        assert_eq!(damaged.json::<Value>().await.unwrap()["details"][0]["field"], "chunk");
        assert_eq!(put_chunk(&t, &teacher, id, 0, parts[0], Some(sha(parts[0]))).await.status(), 200);
        assert_eq!(put_chunk(&t, &teacher, id, 1, parts[1], None).await.status(), 200);
        let short = put_chunk(&t, &teacher, id, 2, &parts[2][..10], None).await;
        assert_eq!(short.status(), 422, "a chunk of the wrong size");
        // After a reload the page asks what arrived and sends only the rest.
        let state: Value = teacher.get(t.url(&format!("/api/v1/uploads/{id}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(state["received"], json!([0, 1]));
        assert_eq!(complete(&t, &teacher, id).await.status(), 422, "a chunk is missing");
        // Nobody else can see or feed someone's upload: not a colleague of the neighbouring school, not another district.
        for login in ["s2-teacher", "s3-teacher", "s1-admin"] {
            let other = signed_in(&t, login).await;
            assert_eq!(other.get(t.url(&format!("/api/v1/uploads/{id}"))).send().await.unwrap().status(), 404, "{login}");
            assert_eq!(put_chunk(&t, &other, id, 2, parts[2], None).await.status(), 404, "{login}");
            assert_eq!(complete(&t, &other, id).await.status(), 404, "{login}");
        }
        assert_eq!(put_chunk(&t, &teacher, id, 2, parts[2], Some(sha(parts[2]))).await.status(), 200);
        let done: Value = complete(&t, &teacher, id).await.json().await.unwrap();
        assert_eq!(done["sha256"], sha(&file));
        assert_eq!((done["format"].as_str(), done["size"].as_u64()), (Some("pdf"), Some(file.len() as u64)));
        let again: Value = complete(&t, &teacher, id).await.json().await.unwrap();
        assert_eq!(again["sha256"], done["sha256"], "completing twice answers the same");
        // The same content uploaded again, by someone else, is stored once.
        let head = signed_in(&t, "head").await;
        upload(&t, &head, "副本.pdf", &file).await;
        assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM blobs").await, 1);
        let stored =
            t.app.storage.size(&format!("blobs/{}/{}/{}", &sha(&file)[..2], &sha(&file)[2..4], sha(&file))).await.unwrap();
        assert_eq!(stored, Some(file.len() as u64));
        assert_eq!(t.app.storage.size(&format!("uploads/{id}/000000")).await.unwrap(), None, "chunks are cleaned up");
        // Students and parents do not upload to the library.
        let student = signed_in(&t, "student").await;
        assert_eq!(start(&t, &student, "作业.pdf", 100).await.status(), 403);
    }
);

db_test!(
    bad_files_are_refused_before_anything_is_stored,
    |c| {
        c.library.max_file_mb = 3;
        c.library.user_quota_mb = 5;
        c.library.chunk_mb = 1;
    },
    |t| {
        region(&t).await;
        let teacher = signed_in(&t, "teacher").await;
        let refused = |name: &'static str, size: usize| {
            let (t, teacher) = (&t, &teacher);
            async move {
                let r = start(t, teacher, name, size).await;
                assert_eq!(r.status(), 422, "{name}");
                r.json::<Value>().await.unwrap()["details"][0]["message"].as_str().unwrap().to_string()
            }
        };
        assert!(refused("setup.exe", 1000).await.contains("可执行"), "executables are refused by name");
        assert!(refused("page.html", 1000).await.contains("html"));
        assert!(refused("空.pdf", 0).await.contains("空"));
        assert!(refused("大.mp4", 4 * MIB).await.contains("3 MB"), "over the size limit");
        // A program renamed to a video is refused by its content, at the first chunk.
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
        exe.resize(5000, 0);
        let up: Value = start(&t, &teacher, "课堂实录.mp4", exe.len()).await.json().await.unwrap();
        let r = put_chunk(&t, &teacher, up["id"].as_i64().unwrap(), 0, &exe, None).await;
        assert_eq!(r.status(), 422);
        assert!(r.json::<Value>().await.unwrap()["message"].is_string());
        // So is a picture that claims to be a PDF, naming both.
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.resize(3000, 7);
        let up: Value = start(&t, &teacher, "教案.pdf", png.len()).await.json().await.unwrap();
        let r = put_chunk(&t, &teacher, up["id"].as_i64().unwrap(), 0, &png, None).await;
        let message = r.json::<Value>().await.unwrap()["details"][0]["message"].as_str().unwrap().to_string();
        assert!(message.contains("pdf") && message.contains("png"), "{message}");
        assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM upload_chunks").await, 0, "nothing refused was kept");
        // Quotas count unfinished uploads too: 3 MiB + 3 MiB is over the 5 MiB quota.
        let first = start(&t, &teacher, "一.pdf", 3 * MIB).await;
        assert_eq!(first.status(), 201);
        let over = refused("二.pdf", 3 * MIB).await;
        assert!(over.contains("5 MB"), "{over}");
    }
);

db_test!(resources_are_reviewed_published_up_the_levels_and_taken_down, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    // Values outside the code lists are refused, naming the field.
    let upload_id = upload(&t, &teacher, "勾股定理的证明.pdf", &pdf(60_000, 3)).await;
    let mut body = metadata("勾股定理的证明");
    body["upload_id"] = json!(upload_id);
    body["subject"] = json!("alchemy");
    let bad: Value = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(bad["details"][0]["field"], "subject");
    assert!(bad["details"][0]["message"].as_str().unwrap().contains("alchemy"));
    body["subject"] = json!("math");
    let created = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let reviewer = signed_in(&t, "s1-reviewer").await;
    let colleague = signed_in(&t, "head").await;
    let neighbour = signed_in(&t, "s2-teacher").await;
    let west = signed_in(&t, "s3-teacher").await;
    let west_admin = signed_in(&t, "s3-admin").await;
    let district = signed_in(&t, "d1-reviewer").await;
    // A draft is the author's alone.
    for c in [&colleague, &neighbour, &west] {
        assert_eq!(c.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().status(), 404);
    }
    assert_eq!(submit(&t, &colleague, id, "school").await.status(), 404, "only the author submits");
    assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
    // The school's reviewer has it in the queue; the other district's administrator neither sees nor decides it.
    let items = queue(&t, &reviewer).await;
    assert_eq!(items.len(), 1);
    let pub_id = items[0]["publication_id"].as_i64().unwrap();
    assert!(queue(&t, &west_admin).await.is_empty());
    assert_eq!(decide(&t, &west_admin, &[pub_id], "approve", "").await.status(), 403);
    assert_eq!(decide(&t, &teacher, &[pub_id], "approve", "").await.status(), 403, "teachers do not review");
    assert_eq!(queue_status(&t, &teacher).await, 403);
    // Rejecting needs a reason, which the author then sees.
    assert_eq!(decide(&t, &reviewer, &[pub_id], "reject", " ").await.status(), 422);
    assert_eq!(decide(&t, &reviewer, &[pub_id], "reject", "请补充教学目标").await.status(), 200);
    let mine: Value = teacher.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (mine["resource"]["status"].as_str(), mine["resource"]["status_reason"].as_str()),
        (Some("rejected"), Some("请补充教学目标"))
    );
    let mut edit = metadata("勾股定理的证明（修订）");
    edit["description"] = json!("补充了教学目标");
    assert_eq!(teacher.put(t.url(&format!("/api/v1/resources/{id}"))).json(&edit).send().await.unwrap().status(), 200);
    assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
    let pub_id = queue(&t, &reviewer).await[0]["publication_id"].as_i64().unwrap();
    assert_eq!(decide(&t, &reviewer, &[pub_id], "approve", "").await.status(), 200);
    // Published at the school: its people find it at once; the neighbouring school does not.
    assert_eq!(found(&t, &colleague, "q=勾股定理").await, [id]);
    assert!(found(&t, &neighbour, "q=勾股定理").await.is_empty());
    assert_eq!(neighbour.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().status(), 404);
    // The school recommends it to the district, whose reviewer approves; the school publication stays.
    assert_eq!(teacher.post(t.url(&format!("/api/v1/resources/{id}/recommend"))).send().await.unwrap().status(), 403);
    let rec = reviewer.post(t.url(&format!("/api/v1/resources/{id}/recommend"))).send().await.unwrap();
    assert_eq!(rec.json::<Value>().await.unwrap()["level"], "district");
    assert!(queue(&t, &reviewer).await.is_empty(), "the district's queue, not the school's");
    let items = queue(&t, &district).await;
    assert_eq!(items[0]["level"], "district");
    assert_eq!(decide(&t, &district, &[items[0]["publication_id"].as_i64().unwrap()], "approve", "").await.status(), 200);
    assert_eq!(found(&t, &neighbour, "q=勾股定理").await, [id]);
    assert!(found(&t, &west, "q=勾股定理").await.is_empty(), "the other district does not see it");
    let pubs: Value = neighbour.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(pubs["publications"].as_array().unwrap().iter().filter(|p| p["status"] == "approved").count(), 2);

    // The file: whole, ranged for seeking, refused past its end, counted.
    let file = pdf(60_000, 3);
    let whole = neighbour.get(t.url(&format!("/library/resources/{id}/file?download=true"))).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert!(whole.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(whole.bytes().await.unwrap().as_ref(), file.as_slice());
    let part =
        neighbour.get(t.url(&format!("/api/v1/resources/{id}/file"))).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/60000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &file[1000..2000]);
    let past =
        neighbour.get(t.url(&format!("/api/v1/resources/{id}/file"))).header("range", "bytes=70000-").send().await.unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(west.get(t.url(&format!("/api/v1/resources/{id}/file"))).send().await.unwrap().status(), 404);
    let counted: Value = teacher.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(counted["resource"]["downloads"], 1);
    assert!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM activity_events WHERE kind = 'resource_download'").await >= 1);

    // A takedown needs a reason, hides it everywhere and keeps it for the author with the reason.
    let d1_admin = signed_in(&t, "d1-admin").await;
    let url = t.url(&format!("/api/v1/resources/{id}/take-down"));
    assert_eq!(west_admin.post(&url).json(&json!({ "reason": "侵权" })).send().await.unwrap().status(), 404);
    assert_eq!(d1_admin.post(&url).json(&json!({ "reason": "" })).send().await.unwrap().status(), 422);
    assert_eq!(d1_admin.post(&url).json(&json!({ "reason": "版权方投诉" })).send().await.unwrap().status(), 200);
    assert!(found(&t, &neighbour, "q=勾股定理").await.is_empty());
    assert!(found(&t, &colleague, "q=勾股定理").await.is_empty());
    assert_eq!(colleague.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().status(), 404);
    let page = teacher.get(t.url("/library/mine")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("版权方投诉") && page.contains("已下架"));
    let audit = count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action LIKE 'resource_%'").await;
    assert!(audit >= 7, "every step is audited: {audit}");
});

async fn queue_status(t: &TestApp, c: &Client) -> u16 {
    c.get(t.url("/api/v1/reviews")).send().await.unwrap().status().as_u16()
}

db_test!(nobody_reviews_their_own_and_bulk_decisions_are_all_or_nothing, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let teacher = signed_in(&t, "teacher").await;
    let own = draft(&t, &reviewer, "一元二次方程的解法", 4).await;
    assert_eq!(submit(&t, &reviewer, own, "school").await.status(), 200);
    assert!(queue(&t, &reviewer).await.is_empty(), "one's own work is not in one's queue");
    let a = draft(&t, &teacher, "光合作用", 5).await;
    let b = draft(&t, &teacher, "浮力", 6).await;
    for id in [a, b] {
        assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
    }
    let ids: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    // The school administrator's queue holds all three. A batch of the reviewer's that includes
    // the reviewer's own is refused whole: nothing is decided.
    let admin = signed_in(&t, "s1-admin").await;
    let all: Vec<i64> = queue(&t, &admin).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(all.len(), 3);
    let own_pub = *all.iter().find(|p| !ids.contains(p)).unwrap();
    let spoiled = decide(&t, &reviewer, &[ids[0], own_pub, ids[1]], "approve", "").await;
    assert_eq!(spoiled.status(), 422);
    assert_eq!(queue(&t, &reviewer).await.len(), 2, "nothing was decided");
    assert_eq!(decide(&t, &reviewer, &ids, "approve", "").await.status(), 200);
    assert_eq!(decide(&t, &reviewer, &ids, "approve", "").await.status(), 422, "already decided");
    assert_eq!(decide(&t, &admin, &[own_pub], "approve", "").await.status(), 200, "the administrator decides the reviewer's");
    let colleague = signed_in(&t, "head").await;
    let mut seen = found(&t, &colleague, "").await;
    seen.sort();
    let mut expected = vec![own, a, b];
    expected.sort();
    assert_eq!(seen, expected);
});

db_test!(search_segments_chinese_filters_by_facets_and_pages_render, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let mut ids = Vec::new();
    for (i, (title, subject, kind)) in [
        ("勾股定理的证明", "math", "courseware"),
        ("勾股定理的应用举例", "math", "exercise"),
        ("股票中的数学", "math", "courseware"),
        ("定理与证明的一般方法", "math", "lesson-plan"),
        ("<script>alert(1)</script>春", "chinese", "courseware"),
    ]
    .into_iter()
    .enumerate()
    {
        let upload_id = upload(&t, &teacher, &format!("{i}.pdf"), &pdf(20_000, 10 + i as u8)).await;
        let mut body = metadata(title);
        body["upload_id"] = json!(upload_id);
        body["subject"] = json!(subject);
        body["resource_type"] = json!(kind);
        body["keywords"] = json!("");
        let id = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
        ids.push(id);
    }
    let pubs: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);
    let colleague = signed_in(&t, "head").await;
    let hits = found(&t, &colleague, "q=勾股定理").await;
    assert!(hits.len() >= 2 && !hits.contains(&ids[4]), "{hits:?}");
    let mut top = hits[..2].to_vec();
    top.sort();
    assert_eq!(top, [ids[0], ids[1]], "whole words first: {hits:?}");
    let body: Value =
        colleague.get(t.url("/api/v1/resources?q=勾股定理&subject=math")).send().await.unwrap().json().await.unwrap();
    let subjects = &body["facets"]["subject"];
    assert_eq!(subjects[0]["value"], "math");
    let by_type: Value =
        colleague.get(t.url("/api/v1/resources?subject=math&type=exercise")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_type["total"], 1);
    assert_eq!(by_type["hits"][0]["id"], ids[1]);
    // HTML in a title is shown as text.
    let page = colleague.get(t.url("/library?q=春")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("alert(1)") && !page.contains("<script>alert"), "titles are escaped");
    // Every library page answers for the people it is for, in both languages' keys.
    for (c, path) in [
        (&colleague, "/library".to_string()),
        (&teacher, "/library/new".to_string()),
        (&teacher, "/library/mine".to_string()),
        (&reviewer, "/library/review".to_string()),
        (&colleague, format!("/library/resources/{}", ids[0])),
        (&colleague, "/library/catalogue".to_string()),
    ] {
        let r = c.get(t.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        let untranslated = ["library-", "catalogue-", "field-"].iter().any(|k| {
            html.contains(&format!(">{k}"))
                || html.contains(&format!("label=\"{k}"))
                || html.contains(&format!("placeholder=\"{k}"))
        });
        assert!(!untranslated, "an untranslated key on {path}");
    }
    let student = signed_in(&t, "student").await;
    assert_eq!(student.get(t.url("/library/new")).send().await.unwrap().status(), 403);
    assert_eq!(student.get(t.url("/library/review")).send().await.unwrap().status(), 403);
    let for_student = found(&t, &student, "q=勾股定理").await;
    assert_eq!(for_student, found(&t, &colleague, "q=勾股定理").await, "students of the school see what it published: {ids:?}");
});

db_test!(textbook_catalogues_import_whole_or_not_at_all_and_suggest_chapters, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let city = signed_in(&t, "city-admin").await;
    let send = |c: Client, csv: String| {
        let url = t.url("/api/v1/catalogue/import");
        let t = &t;
        async move {
            let token = csrf(t, &c).await;
            let form = reqwest::multipart::Form::new()
                .text("_csrf", token)
                .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("目录.csv"));
            c.post(url).multipart(form).send().await.unwrap()
        }
    };
    let header = "学段,年级,学科,版本,册次,章,节\n";
    let bad = format!(
        "{header}初中,2,数学,人教版,下册,第十七章 勾股定理,17.1 勾股定理\n初中,9,炼金,人教版,下册,第十八章 平行四边形,\n"
    );
    let r1 = send(city.clone(), bad).await;
    assert_eq!(r1.status(), 422);
    let problems: Value = r1.json().await.unwrap();
    let first = problems["details"][0]["message"].as_str().unwrap();
    assert!(first.contains('3') && first.contains('9'), "row and value named: {first}");
    assert_eq!(problems["details"].as_array().unwrap().len(), 2, "grade and subject");
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM catalogue_nodes").await, 0, "nothing written");
    let good = format!(
        "{header}初中,2,数学,人教版,下册,第十七章 勾股定理,17.1 勾股定理\n初中,2,数学,人教版,下册,第十七章 勾股定理,17.2 勾股定理的逆定理\n\
         初中,2,数学,人教版,下册,第十八章 平行四边形,18.1 平行四边形\n"
    );
    let d1 = signed_in(&t, "d1-admin").await;
    assert_eq!(send(d1, good.clone()).await.status(), 403, "only the top unit's administrators");
    let ok: Value = send(city.clone(), good.clone()).await.json().await.unwrap();
    assert_eq!((ok["rows"].as_i64(), ok["created"].as_i64()), (Some(3), Some(6)));
    let again: Value = send(city, good).await.json().await.unwrap();
    assert_eq!(again["created"], 0, "importing twice adds nothing");
    let teacher = signed_in(&t, "teacher").await;
    let s: Value = teacher
        .get(t.url("/api/v1/catalogue/suggest?title=勾股定理的逆定理（第1课时）课件&stage=junior&subject=math&grade=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["suggestions"][0]["title"], "17.2 勾股定理的逆定理");
    let chapter = s["suggestions"][0]["id"].as_i64().unwrap();
    // A resource hangs on the chapter; a chapter of another subject is refused.
    let upload_id = upload(&t, &teacher, "逆定理.pdf", &pdf(10_000, 40)).await;
    let mut body = metadata("勾股定理的逆定理");
    body["upload_id"] = json!(upload_id);
    body["chapter_id"] = json!(chapter);
    body["subject"] = json!("physics");
    let wrong: Value = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(wrong["details"][0]["field"], "chapter_id");
    body["subject"] = json!("math");
    let id = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let pubs: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);
    // Browsing by the chapter (17) finds the resource on its section (17.2).
    let tree: Value = teacher.get(t.url("/api/v1/catalogue/textbooks")).send().await.unwrap().json().await.unwrap();
    let book = tree["textbooks"][0]["id"].as_i64().unwrap();
    let nodes: Value =
        teacher.get(t.url(&format!("/api/v1/catalogue/textbooks/{book}"))).send().await.unwrap().json().await.unwrap();
    let ch17 =
        nodes["nodes"].as_array().unwrap().iter().find(|n| n["title"] == "第十七章 勾股定理").unwrap()["id"].as_i64().unwrap();
    let colleague = signed_in(&t, "head").await;
    assert_eq!(found(&t, &colleague, &format!("chapter={ch17}")).await, [id]);
});

/// Publishes a draft at the school, then up through the district to the city.
async fn publish_region_wide(t: &TestApp, id: i64) {
    let teacher = signed_in(t, "teacher").await;
    assert_eq!(submit(t, &teacher, id, "school").await.status(), 200);
    for (reviewer, recommender) in
        [("s1-reviewer", Some("s1-reviewer")), ("d1-reviewer", Some("d1-reviewer")), ("city-admin", None)]
    {
        let c = signed_in(t, reviewer).await;
        let pending: Vec<i64> =
            queue(t, &c).await.iter().filter(|i| i["resource_id"] == id).map(|i| i["publication_id"].as_i64().unwrap()).collect();
        assert_eq!(pending.len(), 1, "{reviewer}");
        assert_eq!(decide(t, &c, &pending, "approve", "").await.status(), 200);
        if let Some(r) = recommender {
            let c = signed_in(t, r).await;
            let rec = c.post(t.url(&format!("/api/v1/resources/{id}/recommend"))).send().await.unwrap();
            assert_eq!(rec.status(), 200, "{}", rec.text().await.unwrap());
        }
    }
}

/// Harvests with Sickle, an OAI-PMH client from PyPI, and prints what it saw as JSON.
const HARVEST: &str = r#"
import json, sys
from sickle import Sickle
from sickle.oaiexceptions import BadVerb, NoRecordsMatch, IdDoesNotExist, CannotDisseminateFormat
s = Sickle(sys.argv[1])
out = {}
i = s.Identify()
out["identify"] = {"name": i.repositoryName, "deleted": i.deletedRecord, "granularity": i.granularity, "base": i.baseURL}
out["formats"] = sorted(f.metadataPrefix for f in s.ListMetadataFormats())
out["sets"] = sorted(x.setSpec for x in s.ListSets())
recs = list(s.ListRecords(metadataPrefix="oai_dc"))
out["records"] = [{"id": r.header.identifier, "deleted": r.deleted, "sets": r.header.setSpecs,
                   "title": (r.metadata.get("title") or [None])[0] if not r.deleted else None} for r in recs]
lom = list(s.ListRecords(metadataPrefix="lom"))
out["lom"] = [("<lom" in r.raw) and ("LOMv1.0" in r.raw) for r in lom if not r.deleted]
out["math"] = [h.identifier for h in s.ListIdentifiers(metadataPrefix="oai_dc", set="subject:math")]
out["chinese"] = [h.identifier for h in s.ListIdentifiers(metadataPrefix="oai_dc", set="subject:chinese")]
first = out["records"][0]["id"]
out["get"] = s.GetRecord(identifier=first, metadataPrefix="oai_dc").metadata["title"][0]
def error(call):
    try:
        call()
        return None
    except Exception as e:
        return type(e).__name__
out["errors"] = [
    error(lambda: s.GetRecord(identifier="oai:nowhere:resource/1", metadataPrefix="oai_dc")),
    error(lambda: s.GetRecord(identifier=first, metadataPrefix="mods")),
    error(lambda: list(s.ListRecords(metadataPrefix="oai_dc", **{"from": "2999-01-01"}))),
    error(lambda: s.ListRecords(resumptionToken="forged")),
    error(lambda: s.ListRecords(metadataPrefix="oai_dc", resumptionToken="forged")),
]
print(json.dumps(out, ensure_ascii=False))
"#;

db_test!(
    oai_pmh_is_harvested_by_a_real_client_with_pages_sets_and_deletions,
    |c| {
        c.library.oai_page_size = 2;
    },
    |t| {
        let have_sickle =
            std::process::Command::new("python3").args(["-c", "import sickle"]).output().is_ok_and(|o| o.status.success());
        if !have_sickle {
            eprintln!("SKIPPED: OAI-PMH harvest test (pip install sickle)");
            return;
        }
        let r = region(&t).await;
        staff(&t, &r).await;
        let teacher = signed_in(&t, "teacher").await;
        let mut public = Vec::new();
        for (i, (title, subject)) in
            [("勾股定理的证明", "math"), ("一次函数的图像", "math"), ("春 <朱自清>", "chinese")].into_iter().enumerate()
        {
            let id = draft(&t, &teacher, title, 40 + i as u8).await;
            let mut body = metadata(title);
            body["subject"] = json!(subject);
            body.as_object_mut().unwrap().remove("upload_id");
            let put = teacher.put(t.url(&format!("/api/v1/resources/{id}"))).json(&body).send().await.unwrap();
            assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
            publish_region_wide(&t, id).await;
            public.push(id);
        }
        // Published only at the school: not for other platforms.
        let local = draft(&t, &teacher, "校本作业", 50).await;
        assert_eq!(submit(&t, &teacher, local, "school").await.status(), 200);
        let reviewer = signed_in(&t, "s1-reviewer").await;
        let ids: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
        assert_eq!(decide(&t, &reviewer, &ids, "approve", "").await.status(), 200);
        // A takedown leaves a deleted record behind.
        let city = signed_in(&t, "city-admin").await;
        let down = city
            .post(t.url(&format!("/api/v1/resources/{}/take-down", public[1])))
            .json(&json!({ "reason": "版权投诉" }))
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 200, "{}", down.text().await.unwrap());

        let out = std::process::Command::new("python3").args(["-c", HARVEST, &t.url("/oai")]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(seen["identify"]["deleted"], "persistent");
        assert_eq!(seen["identify"]["granularity"], "YYYY-MM-DDThh:mm:ssZ");
        assert_eq!(seen["identify"]["base"], t.url("/oai"));
        assert_eq!(seen["formats"], json!(["lom", "oai_dc"]));
        let records = seen["records"].as_array().unwrap();
        let ident = |id: i64| format!("oai:hanlin.localhost:resource/{id}");
        // Three records over two pages (a page holds two here), the school-only one left out.
        assert_eq!(
            records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
            public.iter().map(|id| ident(*id)).collect::<Vec<_>>()
        );
        assert_eq!(records.iter().map(|r| r["deleted"].as_bool().unwrap()).collect::<Vec<_>>(), [false, true, false]);
        assert_eq!(records[2]["title"], "春 <朱自清>", "markup in a title arrives as text");
        let unit_set = format!("unit:{}:{}:{}", r.city, r.d1, r.s1);
        assert!(records[0]["sets"].as_array().unwrap().contains(&json!(unit_set)), "{records:?}");
        let sets: Vec<&str> = seen["sets"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        for s in [format!("unit:{}", r.city).as_str(), unit_set.as_str(), "subject:math", "subject:chinese"] {
            assert!(sets.contains(&s), "{s} in {sets:?}");
        }
        assert_eq!(seen["lom"], json!([true, true]));
        assert_eq!(seen["math"], json!([ident(public[0]), ident(public[1])]));
        assert_eq!(seen["chinese"], json!([ident(public[2])]));
        assert_eq!(seen["get"], "勾股定理的证明");
        assert_eq!(
            seen["errors"],
            json!(["IdDoesNotExist", "CannotDisseminateFormat", "NoRecordsMatch", "BadResumptionToken", "BadArgument"]),
            "a resumption token is an exclusive argument"
        );

        // Verbs and arguments outside the protocol are refused with its error codes.
        for (query, code) in [
            ("", "badVerb"),
            ("verb=Harvest", "badVerb"),
            ("verb=Identify&set=x", "badArgument"),
            ("verb=ListRecords", "badArgument"),
        ] {
            let body = t.client().get(t.url(&format!("/oai?{query}"))).send().await.unwrap().text().await.unwrap();
            assert!(body.contains(&format!("<error code=\"{code}\">")), "{query}: {body}");
        }
        let posted = t.client().post(t.url("/oai")).form(&[("verb", "Identify")]).send().await.unwrap().text().await.unwrap();
        assert!(posted.contains("<Identify>"), "{posted}");
    }
);

db_test!(favourites_ratings_and_comments_follow_visibility_and_moderation, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let mut ids = Vec::new();
    for (i, title) in ["勾股定理的证明", "勾股定理的应用"].into_iter().enumerate() {
        let id = draft(&t, &teacher, title, 60 + i as u8).await;
        assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
        ids.push(id);
    }
    let pubs: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);
    let (a, b) = (ids[0], ids[1]);
    let head = signed_in(&t, "head").await;
    let student = signed_in(&t, "student").await;
    let url = |path: String| t.url(&path);

    // Favourites.
    assert_eq!(head.put(url(format!("/api/v1/resources/{a}/favourite"))).send().await.unwrap().status(), 200);
    assert_eq!(head.put(url(format!("/api/v1/resources/{a}/favourite"))).send().await.unwrap().status(), 200, "twice is once");
    let favs: Value = head.get(url("/api/v1/favourites".into())).send().await.unwrap().json().await.unwrap();
    assert_eq!(favs["resources"].as_array().unwrap().len(), 1);
    let page = head.get(url("/library/favourites".into())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("勾股定理的证明"), "my favourites lists it");

    // Ratings: one per person, changeable, never one's own; the mean is kept on the resource.
    let rate = |c: &Client, id: i64, stars: i64| {
        c.put(url(format!("/api/v1/resources/{id}/rating"))).json(&json!({ "stars": stars })).send()
    };
    assert_eq!(rate(&head, a, 4).await.unwrap().status(), 200);
    let again: Value = rate(&head, a, 2).await.unwrap().json().await.unwrap();
    assert_eq!((again["rating"].as_f64(), again["ratings"].as_i64()), (Some(2.0), Some(1)), "a second rating replaces the first");
    let both: Value = rate(&student, a, 5).await.unwrap().json().await.unwrap();
    assert_eq!((both["rating"].as_f64(), both["ratings"].as_i64()), (Some(3.5), Some(2)));
    assert_eq!(rate(&teacher, a, 5).await.unwrap().status(), 422, "not one's own");
    let six = rate(&head, a, 6).await.unwrap();
    assert_eq!(six.status(), 422);
    assert_eq!(six.json::<Value>().await.unwrap()["details"][0]["field"], "stars");
    assert_eq!(rate(&head, b, 5).await.unwrap().status(), 200);
    // Best rated first: one 5 (3.67 after damping) above a 2 and a 5 (3.25).
    let ranked: Value = head.get(url("/api/v1/resources?sort=rating".into())).send().await.unwrap().json().await.unwrap();
    let order: Vec<i64> = ranked["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(order, [b, a]);

    // Comments: markup shown as text; empty and over-long ones refused, naming the field.
    let post = |c: &Client, id: i64, text: String| {
        c.post(url(format!("/api/v1/resources/{id}/comments"))).json(&json!({ "comment": text })).send()
    };
    let created = post(&head, a, "<b>很实用</b>，谢谢分享".into()).await.unwrap();
    assert_eq!(created.status(), 201);
    let comment = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for bad in [String::new(), "好".repeat(1001)] {
        let refused = post(&head, a, bad).await.unwrap();
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.json::<Value>().await.unwrap()["details"][0]["field"], "comment");
    }
    let html = student.get(url(format!("/library/resources/{a}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("很实用") && !html.contains("<b>很实用"), "comments are escaped");

    // Neighbours who cannot see the resource can do none of it.
    let s2 = signed_in(&t, "s2-teacher").await;
    let d2 = signed_in(&t, "d2-admin").await;
    for c in [&s2, &d2] {
        assert_eq!(c.put(url(format!("/api/v1/resources/{a}/favourite"))).send().await.unwrap().status(), 404);
        assert_eq!(rate(c, a, 5).await.unwrap().status(), 404);
        assert_eq!(c.get(url(format!("/api/v1/resources/{a}/comments"))).send().await.unwrap().status(), 404);
        assert_eq!(post(c, a, "路过".into()).await.unwrap().status(), 404);
        let hide = c.post(url(format!("/api/v1/comments/{comment}/hide"))).json(&json!({ "reason": "x" })).send().await.unwrap();
        assert_eq!(hide.status(), 404);
    }
    // Only the resource's reviewers hide comments, with a reason; the rest no longer see them.
    let hide = |c: &Client, reason: &str| {
        c.post(url(format!("/api/v1/comments/{comment}/hide"))).json(&json!({ "reason": reason })).send()
    };
    assert_eq!(hide(&student, "不喜欢").await.unwrap().status(), 403);
    assert_eq!(hide(&reviewer, "").await.unwrap().status(), 422, "a reason is required");
    assert_eq!(hide(&reviewer, "含有无关链接").await.unwrap().status(), 200);
    let seen: Value = student.get(url(format!("/api/v1/resources/{a}/comments"))).send().await.unwrap().json().await.unwrap();
    assert!(seen["comments"].as_array().unwrap().is_empty());
    let moderated: Value =
        reviewer.get(url(format!("/api/v1/resources/{a}/comments"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(moderated["comments"][0]["status"], "hidden");
    assert_eq!(moderated["comments"][0]["hidden_reason"], "含有无关链接");
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'comment_hide'").await, 1);

    // A favourite taken down drops out of the list.
    let down = reviewer
        .post(url(format!("/api/v1/resources/{a}/take-down")))
        .json(&json!({ "reason": "版权投诉" }))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 200);
    let favs: Value = head.get(url("/api/v1/favourites".into())).send().await.unwrap().json().await.unwrap();
    assert!(favs["resources"].as_array().unwrap().is_empty());
});

db_test!(a_new_version_is_reviewed_while_the_published_one_stays, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let id = draft(&t, &teacher, "勾股定理的证明", 70).await;
    publish_region_wide(&t, id).await;
    let head = signed_in(&t, "head").await;
    assert_eq!(head.put(t.url(&format!("/api/v1/resources/{id}/favourite"))).send().await.unwrap().status(), 200);
    let rated = head.put(t.url(&format!("/api/v1/resources/{id}/rating"))).json(&json!({ "stars": 4 })).send().await.unwrap();
    assert_eq!(rated.status(), 200);
    let file = |c: &Client| c.get(t.url(&format!("/api/v1/resources/{id}/file"))).send();
    let v1_sha = sha(&file(&head).await.unwrap().bytes().await.unwrap());

    // The author proposes version 2: a new file and a better title.
    let propose = |c: &Client, seed: u8, title: &'static str| {
        let (c, t) = (c.clone(), &t);
        async move {
            let upload_id = upload(t, &c, "勾股定理的证明（修订）.pdf", &pdf(40_000, seed)).await;
            let mut body = metadata(title);
            body["upload_id"] = json!(upload_id);
            c.post(t.url(&format!("/api/v1/resources/{id}/versions"))).json(&body).send().await.unwrap()
        }
    };
    let v2 = propose(&teacher, 72, "勾股定理的证明（修订版）").await;
    assert_eq!(v2.status(), 201, "{}", v2.text().await.unwrap());
    let again = propose(&teacher, 73, "再改一次").await;
    assert_eq!(again.status(), 422, "one proposal at a time");
    // Meanwhile everyone still gets version 1.
    let shown: Value = head.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["resource"]["title"], "勾股定理的证明");
    assert_eq!(sha(&file(&head).await.unwrap().bytes().await.unwrap()), v1_sha);
    assert_eq!(
        head.get(t.url(&format!("/api/v1/resources/{id}/versions"))).send().await.unwrap().status(),
        404,
        "only author and reviewers"
    );

    // Reviewed at the highest level it is published at (the city), never by the author.
    let pending: Value =
        signed_in(&t, "city-admin").await.get(t.url("/api/v1/versions")).send().await.unwrap().json().await.unwrap();
    let version_id = pending["items"][0]["version_id"].as_i64().unwrap();
    assert_eq!(pending["items"][0]["proposed_title"], "勾股定理的证明（修订版）");
    let decide_version = |c: &Client, decision: &str, reason: &str| {
        c.post(t.url(&format!("/api/v1/versions/{version_id}/decision")))
            .json(&json!({ "decision": decision, "reason": reason }))
            .send()
    };
    let school = signed_in(&t, "s1-reviewer").await;
    assert_eq!(decide_version(&school, "approve", "").await.unwrap().status(), 403, "the school is not the highest level");
    assert_eq!(decide_version(&teacher, "approve", "").await.unwrap().status(), 403);
    let s3 = signed_in(&t, "s3-teacher").await;
    assert_eq!(
        decide_version(&s3, "approve", "").await.unwrap().status(),
        403,
        "sees it (published city-wide) but reviews nothing"
    );
    let city = signed_in(&t, "city-admin").await;
    let reviewer_file = city.get(t.url(&format!("/library/versions/{version_id}/file"))).send().await.unwrap();
    assert_eq!(reviewer_file.status(), 200, "the reviewer reads the new file before deciding");
    assert_eq!(head.get(t.url(&format!("/library/versions/{version_id}/file"))).send().await.unwrap().status(), 404);
    assert_eq!(decide_version(&city, "approve", "").await.unwrap().status(), 200);

    // Version 2 is the resource now: same id, favourites and ratings kept.
    let shown: Value = head.get(t.url(&format!("/api/v1/resources/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (shown["resource"]["title"].as_str(), shown["resource"]["version"].as_i64()),
        (Some("勾股定理的证明（修订版）"), Some(2))
    );
    assert_eq!(shown["resource"]["rating_count"], 1);
    assert_ne!(sha(&file(&head).await.unwrap().bytes().await.unwrap()), v1_sha);
    let favs: Value = head.get(t.url("/api/v1/favourites")).send().await.unwrap().json().await.unwrap();
    assert_eq!(favs["resources"][0]["id"], id);
    assert_eq!(found(&t, &head, "q=修订版").await, [id]);

    // A rejected version 3 leaves version 2 in place, with the reason for its author.
    assert_eq!(propose(&teacher, 74, "勾股定理的证明（第三版）").await.status(), 201);
    let pending: Value = city.get(t.url("/api/v1/versions")).send().await.unwrap().json().await.unwrap();
    let v3 = pending["items"][0]["version_id"].as_i64().unwrap();
    let no_reason =
        city.post(t.url(&format!("/api/v1/versions/{v3}/decision"))).json(&json!({ "decision": "reject" })).send().await.unwrap();
    assert_eq!(no_reason.status(), 422);
    let rejected = city
        .post(t.url(&format!("/api/v1/versions/{v3}/decision")))
        .json(&json!({ "decision": "reject", "reason": "图片不清晰" }))
        .send();
    assert_eq!(rejected.await.unwrap().status(), 200);
    let mine: Value = teacher.get(t.url(&format!("/api/v1/resources/{id}/versions"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["version"], 2);
    assert_eq!(
        (mine["versions"][0]["status"].as_str(), mine["versions"][0]["reason"].as_str()),
        (Some("rejected"), Some("图片不清晰"))
    );
    let page = teacher.get(t.url(&format!("/library/resources/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("图片不清晰") && page.contains("data-testid=\"version-new\""),
        "the author reads why and may try again"
    );

    // Someone of a neighbouring district can propose nothing for it.
    let neighbour = propose(&s3, 75, "冒名修订").await;
    assert_eq!(neighbour.status(), 404);
});

db_test!(lesson_packages_gather_resources_and_are_shared_with_the_school_only, |t| {
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let published = draft(&t, &teacher, "勾股定理的证明", 80).await;
    assert_eq!(submit(&t, &teacher, published, "school").await.status(), 200);
    let pubs: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);
    let own_draft = draft(&t, &teacher, "我的草稿教案", 81).await;
    // Another school's resource, which the teacher cannot see.
    let s2 = signed_in(&t, "s2-teacher").await;
    let elsewhere = draft(&t, &s2, "二中的课件", 82).await;

    let body = json!({ "title": "勾股定理 第1课时", "stage": "junior", "grade": "2", "subject": "math", "shared": false });
    let created = teacher.post(t.url("/api/v1/packages")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let bad = teacher
        .post(t.url("/api/v1/packages"))
        .json(&json!({ "title": "", "stage": "junior", "subject": "alchemy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let fields: Vec<Value> =
        bad.json::<Value>().await.unwrap()["details"].as_array().unwrap().iter().map(|d| d["field"].clone()).collect();
    assert_eq!(fields, [json!("title"), json!("subject")]);
    let student = signed_in(&t, "student").await;
    assert_eq!(student.post(t.url("/api/v1/packages")).json(&body).send().await.unwrap().status(), 403);

    let add = |c: &Client, resource: i64, note: &str| {
        c.post(t.url(&format!("/api/v1/packages/{id}/items"))).json(&json!({ "resource_id": resource, "note": note })).send()
    };
    assert_eq!(add(&teacher, published, "课前播放，引出问题").await.unwrap().status(), 200);
    assert_eq!(add(&teacher, own_draft, "").await.unwrap().status(), 200);
    assert_eq!(add(&teacher, elsewhere, "").await.unwrap().status(), 422, "only what the teacher may see");
    assert_eq!(add(&teacher, published, "改一下说明").await.unwrap().status(), 200, "adding again changes the note");
    let mine: Value = teacher.get(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(mine["items"][0]["note"], "改一下说明");

    // Private: colleagues are refused until it is shared; then they see what they may see.
    let head = signed_in(&t, "head").await;
    assert_eq!(head.get(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().status(), 404);
    let shared = json!({ "title": "勾股定理 第1课时", "stage": "junior", "grade": 2, "subject": "math", "shared": true });
    assert_eq!(teacher.put(t.url(&format!("/api/v1/packages/{id}"))).json(&shared).send().await.unwrap().status(), 200);
    let seen: Value = head.get(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["items"].as_array().unwrap().len(), 1, "the teacher's draft is not the colleague's to see");
    assert_eq!(seen["hidden"], 1);
    let list: Value = head.get(t.url("/api/v1/packages")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["packages"][0]["id"], id);
    let html = head.get(t.url(&format!("/library/packages/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("勾股定理的证明") && !html.contains("我的草稿教案"));
    // Read-only for colleagues; nothing at all for a neighbouring school or district.
    assert_eq!(head.put(t.url(&format!("/api/v1/packages/{id}"))).json(&shared).send().await.unwrap().status(), 403);
    assert_eq!(add(&head, published, "").await.unwrap().status(), 403);
    assert_eq!(head.delete(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().status(), 403);
    for other in [&s2, &signed_in(&t, "s3-teacher").await] {
        assert_eq!(other.get(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().status(), 404);
        assert_eq!(add(other, published, "").await.unwrap().status(), 404);
        let listed: Value = other.get(t.url("/api/v1/packages")).send().await.unwrap().json().await.unwrap();
        assert!(listed["packages"].as_array().unwrap().is_empty());
    }
    // The pages render for the owner, and the resource page offers the package.
    for path in ["/library/packages".to_string(), format!("/library/packages/{id}"), format!("/library/resources/{published}")] {
        let page = teacher.get(t.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let text = page.text().await.unwrap();
        assert!(!text.contains(">library-"), "an untranslated key on {path}");
        if path.contains("resources") {
            assert!(text.contains("data-testid=\"package-add\""));
        }
    }
    assert_eq!(teacher.delete(t.url(&format!("/api/v1/packages/{id}/items/{own_draft}"))).send().await.unwrap().status(), 200);
    assert_eq!(teacher.delete(t.url(&format!("/api/v1/packages/{id}"))).send().await.unwrap().status(), 200);
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM lesson_package_items").await, 0);
});

db_test!(another_platforms_records_are_harvested_into_the_review_queue_once, |t| {
    // The other platform: a second Hanlin with its own region and OAI-PMH identity.
    let source = TestApp::start_with(crate::harness::Backend::Sqlite, |c| {
        c.library.oai_repository_identifier = "edu.neighbour.example".into()
    })
    .await
    .unwrap();
    let sr = region(&source).await;
    staff(&source, &sr).await;
    let author = signed_in(&source, "teacher").await;
    let mut theirs = Vec::new();
    for (i, title) in ["勾股定理的证明", "光合作用实验", "已下架的资源"].into_iter().enumerate() {
        let id = draft(&source, &author, title, 90 + i as u8).await;
        publish_region_wide(&source, id).await;
        theirs.push(id);
    }
    let their_admin = signed_in(&source, "city-admin").await;
    let take_down = |id: i64| {
        their_admin.post(source.url(&format!("/api/v1/resources/{id}/take-down"))).json(&json!({ "reason": "版权投诉" })).send()
    };
    assert_eq!(take_down(theirs[2]).await.unwrap().status(), 200);

    // Here: only the top unit's administrators manage sources.
    let r = region(&t).await;
    staff(&t, &r).await;
    add_person(&t, "city-reviewer", "市审核员", Role::Reviewer, r.city, None).await;
    let body = json!({ "name": "邻市资源平台", "base_url": source.url("/oai"), "stage": "junior", "subject": "math",
                       "resource_type": "courseware", "licence": "platform", "interval_hours": 24 });
    let d1 = signed_in(&t, "d1-admin").await;
    assert_eq!(d1.post(t.url("/api/v1/harvest/sources")).json(&body).send().await.unwrap().status(), 403);
    assert_eq!(d1.get(t.url("/library/harvest")).send().await.unwrap().status(), 403);
    let city = signed_in(&t, "city-admin").await;
    let bad = city
        .post(t.url("/api/v1/harvest/sources"))
        .json(&json!({ "name": "x", "base_url": "ftp://x", "stage": "junior",
        "subject": "alchemy", "resource_type": "courseware", "licence": "platform", "interval_hours": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let fields: Vec<Value> =
        bad.json::<Value>().await.unwrap()["details"].as_array().unwrap().iter().map(|d| d["field"].clone()).collect();
    assert_eq!(fields, [json!("base_url"), json!("subject"), json!("interval_hours")]);
    let added = city.post(t.url("/api/v1/harvest/sources")).json(&body).send().await.unwrap();
    assert_eq!(added.status(), 201, "{}", added.text().await.unwrap());
    let id = added.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        city.post(t.url("/api/v1/harvest/sources")).json(&body).send().await.unwrap().status(),
        422,
        "the same source twice"
    );
    let run = |c: &Client| c.post(t.url(&format!("/api/v1/harvest/sources/{id}/run"))).send();
    assert_eq!(run(&d1).await.unwrap().status(), 403);

    // The first run: the two live records arrive, waiting for review at the top unit; the one
    // already deleted there is not brought in.
    let first: Value = run(&city).await.unwrap().json().await.unwrap();
    assert_eq!((first["created"].as_i64(), first["withdrawn"].as_i64()), (Some(2), Some(0)), "{first}");
    let reviewer = signed_in(&t, "city-reviewer").await;
    let waiting = queue(&t, &reviewer).await;
    let titles: Vec<&str> = waiting.iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"勾股定理的证明") && titles.contains(&"光合作用实验"));
    let pubs: Vec<i64> = waiting.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);
    // Provenance is shown, the file is at the source, and a search here finds it.
    let teacher = signed_in(&t, "teacher").await;
    let here = found(&t, &teacher, "q=证明").await;
    assert_eq!(here.len(), 1);
    let page = teacher.get(t.url(&format!("/library/resources/{}", here[0]))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("源自 邻市资源平台"), "provenance on the page");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let login = no_redirect
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({ "login": "teacher", "password": crate::fixture::PASSWORD }))
        .send();
    assert_eq!(login.await.unwrap().status(), 200);
    let to_source = no_redirect.get(t.url(&format!("/library/resources/{}/file", here[0]))).send().await.unwrap();
    assert_eq!(to_source.status(), 303);
    assert!(to_source.headers()["location"].to_str().unwrap().starts_with(&source.url("/library/resources/")));
    // Harvested records are not passed on by this platform's own OAI-PMH.
    let ours =
        t.client().get(t.url("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")).send().await.unwrap().text().await.unwrap();
    assert!(ours.contains("noRecordsMatch"), "{ours}");

    // Again: nothing new. Then a takedown there is a takedown here.
    let again: Value = run(&city).await.unwrap().json().await.unwrap();
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(take_down(theirs[0]).await.unwrap().status(), 200);
    let third: Value = run(&city).await.unwrap().json().await.unwrap();
    assert_eq!(third["withdrawn"], 1, "{third}");
    assert!(found(&t, &teacher, "q=证明").await.is_empty());
    assert_eq!(
        count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM resources WHERE source_identifier IS NOT NULL").await,
        2,
        "stored once"
    );

    // A source that does not answer OAI-PMH: the run fails with the reason, and says so.
    let broken = json!({ "name": "坏地址", "base_url": t.url("/healthz"), "stage": "junior", "subject": "math",
                         "resource_type": "courseware", "licence": "platform", "interval_hours": 24 });
    let broken_id =
        city.post(t.url("/api/v1/harvest/sources")).json(&broken).send().await.unwrap().json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
    let failed = city.post(t.url(&format!("/api/v1/harvest/sources/{broken_id}/run"))).send().await.unwrap();
    assert_eq!(failed.status(), 422);
    let sources: Value = city.get(t.url("/api/v1/harvest/sources")).send().await.unwrap().json().await.unwrap();
    let last = sources["sources"].as_array().unwrap().iter().find(|s| s["id"] == broken_id).unwrap()["last_result"].clone();
    assert!(last.as_str().unwrap().starts_with("error:"), "{last}");
    let html = city.get(t.url("/library/harvest")).send().await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(!html.text().await.unwrap().contains(">library-"));
});

db_test!(office_documents_are_previewed_as_pdf_when_libreoffice_is_installed, |t| {
    let have_office = std::process::Command::new("soffice").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_office {
        eprintln!("SKIPPED: office preview test (apt-get install libreoffice-writer-nogui)");
        return;
    }
    let r = region(&t).await;
    staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let lines = vec!["一、教学目标".to_string(), "二、教学过程".to_string()];
    let upload_id = upload(&t, &teacher, "勾股定理教案.docx", &server::demo::files::docx("勾股定理教案", &lines)).await;
    let mut body = metadata("勾股定理教案");
    body["upload_id"] = json!(upload_id);
    body["resource_type"] = json!("lesson-plan");
    let id = teacher.post(t.url("/api/v1/resources")).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(submit(&t, &teacher, id, "school").await.status(), 200);
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let pubs: Vec<i64> = queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(decide(&t, &reviewer, &pubs, "approve", "").await.status(), 200);

    let head = signed_in(&t, "head").await;
    let page = head.get(t.url(&format!("/library/resources/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"preview-office\""), "the page frames the preview");
    let first = head.get(t.url(&format!("/library/resources/{id}/preview"))).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/pdf");
    assert!(first.bytes().await.unwrap().starts_with(b"%PDF"));
    // Made once, then served from storage.
    let started = std::time::Instant::now();
    let again = head.get(t.url(&format!("/library/resources/{id}/preview"))).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "the second preview is the stored one");
    let s3 = signed_in(&t, "s3-teacher").await;
    assert_eq!(s3.get(t.url(&format!("/library/resources/{id}/preview"))).send().await.unwrap().status(), 404);
});
