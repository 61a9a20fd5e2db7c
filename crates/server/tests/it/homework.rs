//! Homework from assignment to marking, the 双减 load guard, and Q&A. Every endpoint is also tried
//! by people of the neighbouring class, school and district, who must be refused.

use crate::fixture::{Region, add_person, csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use kernel::auth::Role;
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A small PNG-looking photo with varied bytes after the signature.
fn photo(seed: u8, len: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0DIHDR\x00\x00\x00\x01".to_vec();
    let mut x = u32::from(seed) + 7;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.push((x >> 16) as u8);
    }
    out
}

/// Local time `days` from today at `hh:mm`, as a datetime-local input sends it.
fn local(days: i64, hm: &str) -> String {
    format!("{}T{hm}", kernel::today(480) + time::Duration::days(days))
}

async fn assign(t: &TestApp, c: &Client, body: Value) -> reqwest::Response {
    c.post(t.url("/api/v1/homework")).json(&body).send().await.unwrap()
}

fn homework(class: i64, minutes: i64, due: &str) -> Value {
    json!({ "title": "勾股定理练习", "instructions": "完成课本第 24 页 1–5 题。", "subject": "math", "class_ids": [class],
            "due": due, "estimated_minutes": minutes, "hand_in": "online" })
}

async fn assigned(t: &TestApp, c: &Client, body: Value) -> i64 {
    let r = assign(t, c, body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn hand_in(t: &TestApp, c: &Client, id: i64, key: &str, files: Vec<(&str, Vec<u8>)>) -> reqwest::Response {
    let mut form = Form::new().text("answer", "a² + b² = c²，所以斜边是 5。").text("idempotency_key", key.to_string());
    for (name, bytes) in files {
        form = form.part("files", Part::bytes(bytes).file_name(name.to_string()));
    }
    let token = csrf(t, c).await;
    c.post(t.url(&format!("/api/v1/homework/{id}/submissions")))
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A multipart API call with the session's CSRF token in its header.
async fn post_form(t: &TestApp, c: &Client, path: &str, form: Form) -> reqwest::Response {
    let token = csrf(t, c).await;
    c.post(t.url(path)).header("x-csrf-token", token).multipart(form).send().await.unwrap()
}

async fn get(t: &TestApp, c: &Client, path: &str) -> (u16, Value) {
    let r = c.get(t.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = t.app.db.fetch_one(kernel::db::sql(sql.to_string())).await.unwrap();
    n
}

/// Teachers and families around the fixture's region.
async fn people(t: &TestApp, r: &Region) {
    add_person(t, "s2-teacher", "二中刘老师", Role::Teacher, r.s2, Some(r.b1)).await;
    add_person(t, "s3-teacher", "西区陈老师", Role::Teacher, r.s3, Some(r.c1)).await;
    add_person(t, "classmate", "李小华", Role::Student, r.s1, Some(r.a1)).await;
    let parent2 = add_person(t, "parent2", "赵妈妈", Role::Parent, r.s1, None).await;
    let mut tx = t.app.db.begin().await.unwrap();
    directory::people::store::link_guardian(&mut tx, parent2, r.other_student, directory::people::model::Relation::Mother)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

db_test!(homework_goes_from_assignment_to_marks_the_parent_sees, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    // Only classes one teaches: not a colleague's class, not another school's.
    assert_eq!(assign(&t, &teacher, homework(r.a2, 20, &local(1, "20:00"))).await.status(), 403);
    assert_eq!(assign(&t, &signed_in(&t, "s3-teacher").await, homework(r.a1, 20, &local(1, "20:00"))).await.status(), 403);
    assert_eq!(assign(&t, &signed_in(&t, "student").await, homework(r.a1, 20, &local(1, "20:00"))).await.status(), 403);
    let past = assign(&t, &teacher, homework(r.a1, 20, &local(-1, "20:00"))).await;
    assert_eq!(past.status(), 422);
    assert_eq!(past.json::<Value>().await.unwrap()["details"][0]["field"], "due");
    let id = assigned(&t, &teacher, homework(r.a1, 20, &local(1, "20:00"))).await;

    // The student's to-do list has it; classmates elsewhere and other schools do not see it.
    let student = signed_in(&t, "student").await;
    let (_, list) = get(&t, &student, "/api/v1/homework").await;
    assert_eq!(list["students"][0]["homework"][0]["homework"]["id"], id);
    assert_eq!(list["students"][0]["homework"][0]["state"], "todo");
    for login in ["student2", "student3", "parent2", "s2-teacher", "s3-teacher", "head", "s3-admin", "d2-admin"] {
        let other = signed_in(&t, login).await;
        assert_eq!(get(&t, &other, &format!("/api/v1/homework/{id}")).await.0, 404, "{login}");
        assert_eq!(other.get(t.url(&format!("/homework/{id}"))).send().await.unwrap().status(), 404, "{login}");
    }
    // Bureau staff of the school's own district may read it.
    assert_eq!(get(&t, &signed_in(&t, "d1-admin").await, &format!("/api/v1/homework/{id}")).await.0, 200);

    // A renamed program is refused, naming the field; a photo is taken; the same hand-in sent twice counts once.
    let exe = hand_in(&t, &student, id, "k0", vec![("答案.jpg", b"MZ\x90\x00\x03\x00\x00\x00".repeat(50))]).await;
    assert_eq!(exe.status(), 422);
    assert_eq!(exe.json::<Value>().await.unwrap()["details"][0]["field"], "files");
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM submissions").await, 0, "a refused hand-in writes nothing");
    let no_token = Form::new().text("answer", "答案").text("idempotency_key", "k9");
    let forged = student.post(t.url(&format!("/api/v1/homework/{id}/submissions"))).multipart(no_token).send().await.unwrap();
    assert_eq!(forged.status(), 403, "a session's multipart post needs its CSRF token");
    let first = hand_in(&t, &student, id, "k1", vec![("IMG_0001.png", photo(1, 20_000))]).await;
    assert_eq!(first.status(), 201, "{}", first.text().await.unwrap());
    let again = hand_in(&t, &student, id, "k1", vec![("IMG_0001.png", photo(1, 20_000))]).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["outcome"], "repeated");
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM submissions").await, 1);
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM attachments").await, 1);
    for login in ["student2", "student3"] {
        let other = signed_in(&t, login).await;
        assert_eq!(hand_in(&t, &other, id, "x", vec![]).await.status(), 404, "{login}");
    }
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM submissions").await, 1);

    // The teacher sees it handed in, with the figures.
    let (_, hw) = get(&t, &teacher, &format!("/api/v1/homework/{id}")).await;
    assert_eq!(hw["stats"]["handed_in"], 1);
    assert_eq!(hw["stats"]["not_yet"], 1);
    let work = hw["works"].as_array().unwrap().iter().find(|w| w["student_id"] == r.student).unwrap().clone();
    assert_eq!(work["state"], "handed_in");
    let photo_id = work["files"][0]["id"].as_i64().unwrap();
    let photo_url = format!("/homework/{id}/work/{}/files/{photo_id}", r.student);
    let fetched = teacher.get(t.url(&photo_url)).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.bytes().await.unwrap().len(), 20_000);
    for login in ["classmate", "student2", "parent2", "s3-teacher", "head"] {
        assert_eq!(signed_in(&t, login).await.get(t.url(&photo_url)).send().await.unwrap().status(), 404, "{login}");
    }
    let parent = signed_in(&t, "parent").await;
    assert_eq!(parent.get(t.url(&photo_url)).send().await.unwrap().status(), 200);

    // Before marking, the parent sees it handed in without a mark; only its teacher marks it.
    let (_, seen) = get(&t, &parent, &format!("/api/v1/homework/{id}")).await;
    assert_eq!((seen["works"][0]["state"].as_str(), seen["works"][0]["score"].is_null()), (Some("handed_in"), true));
    let mark = json!({ "score": "95", "evaluation": "优", "feedback": "思路清晰，书写工整。" });
    for login in ["head", "s3-teacher", "s1-admin"] {
        let other = signed_in(&t, login).await;
        let status = other
            .put(t.url(&format!("/api/v1/homework/{id}/submissions/{}/mark", r.student)))
            .json(&mark)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status == 403 || status == 404, "{login}: {status}");
    }
    let bad = teacher
        .put(t.url(&format!("/api/v1/homework/{id}/submissions/{}/mark", r.student)))
        .json(&json!({ "score": "九十" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let marked =
        teacher.put(t.url(&format!("/api/v1/homework/{id}/submissions/{}/mark", r.student))).json(&mark).send().await.unwrap();
    assert_eq!(marked.status(), 200, "{}", marked.text().await.unwrap());
    let (_, seen) = get(&t, &parent, &format!("/api/v1/homework/{id}")).await;
    assert_eq!((seen["works"][0]["state"].as_str(), seen["works"][0]["score"].as_f64()), (Some("returned"), Some(95.0)));
    let page = parent.get(t.url(&format!("/homework/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("思路清晰，书写工整。") && page.contains("95"), "the parent's page shows the mark");
    // Marked work can no longer be changed.
    let late_change = hand_in(&t, &student, id, "k2", vec![]).await;
    assert_eq!(late_change.status(), 422);

    // The pages render for each of them; the student's term shows to their teacher and family only.
    for (login, path) in
        [("teacher", "/homework"), ("teacher", "/homework/new"), ("student", "/homework"), ("parent", "/homework")]
    {
        let r = signed_in(&t, login).await.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{login} {path}");
    }
    let marking = teacher.get(t.url(&format!("/homework/{id}/mark/{}", r.student))).send().await.unwrap();
    assert_eq!(marking.status(), 200);
    assert_eq!(
        signed_in(&t, "head").await.get(t.url(&format!("/homework/{id}/mark/{}", r.student))).send().await.unwrap().status(),
        404
    );
    let term = format!("/homework/students/{}", r.student);
    for (login, status) in [
        ("teacher", 200),
        ("parent", 200),
        ("student", 200),
        ("student2", 404),
        ("parent2", 404),
        ("s3-teacher", 404),
        ("s3-admin", 404),
    ] {
        assert_eq!(signed_in(&t, login).await.get(t.url(&term)).send().await.unwrap().status(), status, "{login}");
    }
    for kind in ["homework_assign", "homework_hand_in", "homework_mark"] {
        assert_eq!(
            count(&t, &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM activity_events WHERE kind = '{kind}'")).await,
            1,
            "{kind}"
        );
    }
});

db_test!(late_work_reminders_and_resubmissions, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let id = assigned(&t, &teacher, homework(r.a1, 20, &local(1, "20:00"))).await;
    // The due time passes.
    t.app
        .db
        .execute(kernel::db::sql("UPDATE homework SET due_at = $1 WHERE id = $2").bind(kernel::now() - 60).bind(id))
        .await
        .unwrap();
    let student = signed_in(&t, "student").await;
    let closed = hand_in(&t, &student, id, "a", vec![]).await;
    assert_eq!(closed.status(), 422);
    let body: Value = closed.json().await.unwrap();
    assert_eq!(body["details"][0]["field"], "due");
    assert!(body["details"][0]["message"].as_str().unwrap().contains("截止"), "{body}");
    // The teacher takes late work: it is flagged.
    let token = csrf(&t, &teacher).await;
    for login in ["head", "s3-teacher"] {
        let other = signed_in(&t, login).await;
        let tok = csrf(&t, &other).await;
        let status = other
            .post(t.url(&format!("/homework/{id}/late")))
            .form(&[("_csrf", tok.as_str()), ("on", "true")])
            .send()
            .await
            .unwrap()
            .status();
        assert!(status == 403 || status == 404, "{login}: {status}");
    }
    let allowed = teacher
        .post(t.url(&format!("/homework/{id}/late")))
        .form(&[("_csrf", token.as_str()), ("on", "true")])
        .send()
        .await
        .unwrap();
    assert!(allowed.status().is_success() || allowed.status().is_redirection());
    assert_eq!(hand_in(&t, &student, id, "b", vec![]).await.status(), 201);
    let (_, hw) = get(&t, &teacher, &format!("/api/v1/homework/{id}")).await;
    assert_eq!(hw["stats"]["late"], 1);
    // A reminder reaches the one who has not handed in.
    assert_eq!(
        teacher.post(t.url(&format!("/api/v1/homework/{id}/reminders"))).send().await.unwrap().json::<Value>().await.unwrap()["reminded"],
        1
    );
    assert_eq!(
        signed_in(&t, "s3-teacher").await.post(t.url(&format!("/api/v1/homework/{id}/reminders"))).send().await.unwrap().status(),
        404
    );
    let (_, list) = get(&t, &signed_in(&t, "classmate").await, "/api/v1/homework").await;
    assert!(list["students"][0]["homework"][0]["homework"]["reminded_at"].is_i64());
    // The teacher asks for it again; the student hands in a second time.
    let resubmit = teacher
        .put(t.url(&format!("/api/v1/homework/{id}/submissions/{}/mark", r.student)))
        .json(&json!({ "resubmit": true, "feedback": "第 3 题再想想。" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resubmit.json::<Value>().await.unwrap()["state"], "resubmit");
    let second = hand_in(&t, &student, id, "c", vec![("p.png", photo(2, 5000))]).await;
    assert_eq!(second.json::<Value>().await.unwrap()["outcome"], "replaced");
    assert_eq!(count(&t, "SELECT CAST(MAX(attempts) AS BIGINT) FROM submissions").await, 2);
});

db_test!(a_double_hand_in_at_the_deadline_is_recorded_once, |t| {
    let r = region(&t).await;
    let teacher = signed_in(&t, "teacher").await;
    let id = assigned(&t, &teacher, homework(r.a1, 20, &local(1, "20:00"))).await;
    let student = signed_in(&t, "student").await;
    let (a, b) = tokio::join!(
        hand_in(&t, &student, id, "tap", vec![("a.png", photo(3, 4000))]),
        hand_in(&t, &student, id, "tap", vec![("a.png", photo(3, 4000))])
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 201]);
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM submissions").await, 1);
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM submission_attachments").await, 1);
});

db_test!(the_load_guard_warns_before_a_day_goes_over_its_limit, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    // a1 is a grade-3 class: 60 minutes a day.
    let due = local(2, "18:00");
    assigned(&t, &teacher, homework(r.a1, 40, &due)).await;
    let over = assign(&t, &teacher, homework(r.a1, 30, &due)).await;
    assert_eq!(over.status(), 422);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["details"][0]["field"], "confirm_load");
    assert!(body["details"][0]["message"].as_str().unwrap().contains("70"), "{body}");
    assert_eq!(count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM homework").await, 1, "nothing is published unconfirmed");
    let mut confirmed = homework(r.a1, 30, &due);
    confirmed["confirm_load"] = json!(true);
    assigned(&t, &teacher, confirmed).await;
    // Another day is fine.
    assigned(&t, &teacher, homework(r.a1, 30, &local(3, "18:00"))).await;
    // Grade 1: no written homework at all.
    let first_grade = assign(&t, &signed_in(&t, "s3-teacher").await, homework(r.c1, 10, &due)).await;
    assert_eq!(first_grade.status(), 422);

    // Bureau staff see the school's daily load; a neighbouring district does not.
    let from = (kernel::today(480)).to_string();
    let d1 = signed_in(&t, "d1-admin").await;
    let (status, load) = get(&t, &d1, &format!("/api/v1/homework/load?unit={}&from={from}", r.s1)).await;
    assert_eq!(status, 200, "{load}");
    let a1 = load["load"]["classes"].as_array().unwrap().iter().find(|c| c["class_id"] == r.a1).unwrap().clone();
    assert_eq!((a1["limit"].as_i64(), a1["minutes"][2].as_i64(), a1["minutes"][3].as_i64()), (Some(60), Some(70), Some(30)));
    assert_eq!(load["load"]["over"], 1);
    assert_eq!(get(&t, &signed_in(&t, "d2-admin").await, &format!("/api/v1/homework/load?unit={}", r.s1)).await.0, 404);
    assert_eq!(get(&t, &signed_in(&t, "s3-admin").await, &format!("/api/v1/homework/load?unit={}", r.s1)).await.0, 404);
    assert_eq!(get(&t, &teacher, &format!("/api/v1/homework/load?unit={}", r.s1)).await.0, 404);
    let page = d1.get(t.url(&format!("/homework/load?unit={}&from={from}", r.s1))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"load-chart\"") && page.contains("data-over=\"true\""));
    let district = d1.get(t.url(&format!("/homework/load?unit={}", r.d1))).send().await.unwrap();
    assert_eq!(district.status(), 200);
    assert!(district.text().await.unwrap().contains("东区一小"));
});

db_test!(a_student_who_changes_class_keeps_past_homework_and_gets_the_new_class_s, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let before = assigned(&t, &teacher, homework(r.a1, 10, &local(1, "20:00"))).await;
    // The student moves from a1 to a2.
    let today = kernel::today(480);
    let mut tx = t.app.db.begin().await.unwrap();
    let assignments = directory::people::store::assignments(&t.app.db, r.student).await.unwrap();
    let current = assignments.iter().find(|a| a.role == "student" && a.class_id == Some(r.a1)).unwrap();
    directory::people::store::end_assignment(&mut tx, current.id, today).await.unwrap();
    directory::people::store::assign(&mut tx, r.student, Role::Student, r.s1, Some(r.a2), None, today).await.unwrap();
    tx.commit().await.unwrap();
    let old_class = assigned(&t, &teacher, homework(r.a1, 10, &local(2, "20:00"))).await;
    let new_class = assigned(&t, &signed_in(&t, "head").await, homework(r.a2, 10, &local(2, "20:00"))).await;
    let (_, list) = get(&t, &signed_in(&t, "student").await, "/api/v1/homework").await;
    let ids: Vec<i64> =
        list["students"][0]["homework"].as_array().unwrap().iter().map(|h| h["homework"]["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&before) && ids.contains(&new_class) && !ids.contains(&old_class), "{ids:?}");
});

db_test!(questions_are_asked_answered_solved_and_shared, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let student = signed_in(&t, "student").await;
    let ask = |teacher: i64| {
        Form::new()
            .text("teacher_id", teacher.to_string())
            .text("title", "勾股定理第 3 题")
            .text("text", "为什么要先求斜边？")
            .part("files", Part::bytes(photo(9, 3000)).file_name("题目.png"))
    };
    // Only the student's own class's teachers.
    let (head_id,): (i64,) = t.app.db.fetch_one(kernel::db::sql("SELECT id FROM people WHERE login = 'head'")).await.unwrap();
    let wrong = post_form(&t, &student, "/api/v1/questions", ask(head_id)).await;
    assert_eq!(wrong.status(), 422);
    let asked = post_form(&t, &student, "/api/v1/questions", ask(r.teacher)).await;
    assert_eq!(asked.status(), 201, "{}", asked.text().await.unwrap());
    let id = asked.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let teacher = signed_in(&t, "teacher").await;
    let (_, queue) = get(&t, &teacher, "/api/v1/questions").await;
    assert_eq!(queue["questions"][0]["question"]["id"], id);
    assert!(queue["questions"][0]["waited_seconds"].as_i64().unwrap() >= 0);
    for login in ["classmate", "student2", "student3", "parent2", "head", "s3-teacher", "s3-admin"] {
        assert_eq!(get(&t, &signed_in(&t, login).await, &format!("/api/v1/questions/{id}")).await.0, 404, "{login}");
    }
    assert_eq!(get(&t, &signed_in(&t, "parent").await, &format!("/api/v1/questions/{id}")).await.0, 200);
    // Not solved before it is answered; only the teacher answers.
    assert_eq!(student.post(t.url(&format!("/api/v1/questions/{id}/solved"))).send().await.unwrap().status(), 422);
    let reply = |text: &str| Form::new().text("text", text.to_string());
    let parent = signed_in(&t, "parent").await;
    assert_eq!(post_form(&t, &parent, &format!("/api/v1/questions/{id}/replies"), reply("?")).await.status(), 403);
    let answered = post_form(&t, &teacher, &format!("/api/v1/questions/{id}/replies"), reply("先找直角，再用 a²+b²=c²。")).await;
    assert_eq!(answered.status(), 201);
    assert_eq!(student.post(t.url(&format!("/api/v1/questions/{id}/solved"))).send().await.unwrap().status(), 200);
    let (_, thread) = get(&t, &student, &format!("/api/v1/questions/{id}")).await;
    assert_eq!(thread["question"]["status"], "solved");
    assert_eq!(thread["messages"].as_array().unwrap().len(), 2);
    assert_eq!(thread["messages"][0]["files"][0]["file_name"], "题目.png");
    // Shared with the class, classmates read it; the neighbouring class still does not.
    let token = csrf(&t, &teacher).await;
    teacher
        .post(t.url(&format!("/questions/{id}/share")))
        .form(&[("_csrf", token.as_str()), ("on", "true")])
        .send()
        .await
        .unwrap();
    let classmate = signed_in(&t, "classmate").await;
    assert_eq!(get(&t, &classmate, &format!("/api/v1/questions/{id}")).await.0, 200);
    assert_eq!(get(&t, &classmate, "/api/v1/questions").await.1["shared"][0]["question"]["id"], id);
    assert_eq!(get(&t, &signed_in(&t, "student2").await, &format!("/api/v1/questions/{id}")).await.0, 404);
    for (login, path) in [("teacher", "/questions"), ("student", "/questions"), ("parent", "/questions")] {
        assert_eq!(signed_in(&t, login).await.get(t.url(path)).send().await.unwrap().status(), 200, "{login}");
    }
    assert_eq!(student.get(t.url(&format!("/questions/{id}"))).send().await.unwrap().status(), 200);
    assert_eq!(
        count(&t, "SELECT CAST(COUNT(*) AS BIGINT) FROM activity_events WHERE kind IN ('question_ask', 'question_answer')").await,
        2
    );
});
