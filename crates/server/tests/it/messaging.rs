//! Messaging: groups that follow the roster, direct messages within the policy, messages with
//! quotes, mentions, files, recall and paging, notices with receipts, moderation, family-education
//! deliveries, live delivery over WebSocket with resume, and delivery across two server processes.
//! Every endpoint is also tried by someone of a neighbouring class, school or district.

use crate::fixture::{Region, add_person, csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use futures_util::StreamExt;
use kernel::auth::Role;
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn conversations(t: &TestApp, c: &Client) -> Vec<Value> {
    let r = c.get(t.url("/api/v1/conversations")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["conversations"].as_array().unwrap().clone()
}

/// The id of the actor's conversation of `kind` (class, parents, staff, direct).
async fn conversation(t: &TestApp, c: &Client, kind: &str) -> i64 {
    let list = conversations(t, c).await;
    list.iter().find(|c| c["conversation"]["kind"] == kind).unwrap_or_else(|| panic!("no {kind} in {list:?}"))["conversation"]["id"]
        .as_i64()
        .unwrap()
}

async fn send(t: &TestApp, c: &Client, id: i64, body: Value) -> reqwest::Response {
    c.post(t.url(&format!("/api/v1/conversations/{id}/messages"))).json(&body).send().await.unwrap()
}

async fn sent(t: &TestApp, c: &Client, id: i64, text: &str) -> Value {
    let r = send(t, c, id, json!({ "text": text })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["message"].clone()
}

async fn history(t: &TestApp, c: &Client, id: i64, query: &str) -> reqwest::Response {
    c.get(t.url(&format!("/api/v1/conversations/{id}/messages{query}"))).send().await.unwrap()
}

async fn unread(t: &TestApp, c: &Client) -> Value {
    c.get(t.url("/api/v1/unread")).send().await.unwrap().json().await.unwrap()
}

/// The session cookie of a fresh sign-in, for a WebSocket client.
async fn session_cookie(base: &str, login: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "login": login, "password": crate::fixture::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| !c.starts_with("hanlin_lang"));
    cookie.unwrap().split(';').next().unwrap().to_string()
}

async fn live(base: &str, cookie: &str, after: Option<i64>) -> Socket {
    let ws = base.replace("http://", "ws://");
    let url = match after {
        Some(a) => format!("{ws}/api/v1/live?after={a}"),
        None => format!("{ws}/api/v1/live"),
    };
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    socket
}

/// The next frame of `kind`, skipping others; panics after 10 s.
async fn frame(socket: &mut Socket, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next =
            tokio::time::timeout_at(deadline, socket.next()).await.unwrap_or_else(|_| panic!("no {kind} frame within 10 s"));
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = next {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == kind {
                return v;
            }
        }
    }
}

/// No frame of `kind` arrives within a short wait.
async fn no_frame(socket: &mut Socket, kind: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) =
        tokio::time::timeout_at(deadline, socket.next()).await
    {
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_ne!(v["type"], kind, "unexpected {v}");
    }
}

/// A parent of the a2 student, and teachers and admins of the neighbouring schools.
async fn people(t: &TestApp, r: &Region) {
    let mother = add_person(t, "parent2", "赵妈妈", Role::Parent, r.s1, None).await;
    let mut tx = t.app.db.begin().await.unwrap();
    directory::people::store::link_guardian(&mut tx, mother, r.other_student, directory::people::model::Relation::Mother)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    add_person(t, "west-teacher", "西区陈老师", Role::Teacher, r.s3, Some(r.c1)).await;
    add_person(t, "s2-admin", "二中管理员", Role::SchoolAdmin, r.s2, None).await;
}

db_test!(groups_follow_the_roster_and_keep_strangers_out, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let kinds: Vec<String> =
        conversations(&t, &teacher).await.iter().map(|c| c["conversation"]["kind"].as_str().unwrap().to_string()).collect();
    assert!(kinds.contains(&"class".into()) && kinds.contains(&"parents".into()) && kinds.contains(&"staff".into()), "{kinds:?}");
    let class = conversation(&t, &teacher, "class").await;
    let parents = conversation(&t, &teacher, "parents").await;
    let members: Value =
        teacher.get(t.url(&format!("/api/v1/conversations/{class}/members"))).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = members["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["王老师", "张小明"], "the teacher (owner) first, then the class's student");
    assert_eq!(members["members"][0]["is_owner"], true);
    assert!(!members.to_string().contains("phone"), "no phone numbers: {members}");

    // The student is in the class group, the parent in the parents' group; neither in the other.
    let student = signed_in(&t, "student").await;
    assert_eq!(conversation(&t, &student, "class").await, class);
    let parent = signed_in(&t, "parent").await;
    assert_eq!(conversation(&t, &parent, "parents").await, parents);
    assert_eq!(history(&t, &parent, class, "").await.status(), 404);
    assert_eq!(history(&t, &student, parents, "").await.status(), 404);

    // Neighbours: a2's student and parent, another school's teacher and admin, a district admin.
    for login in ["student2", "parent2", "west-teacher", "s3-admin", "s2-admin", "d2-admin", "head"] {
        let c = signed_in(&t, login).await;
        for id in [class, parents] {
            assert_eq!(history(&t, &c, id, "").await.status(), 404, "{login} reads {id}");
            assert_eq!(send(&t, &c, id, json!({ "text": "hi" })).await.status(), 404, "{login} writes to {id}");
            let page = c.get(t.url(&format!("/messages/{id}"))).send().await.unwrap();
            assert_eq!(page.status(), 404, "{login} opens {id}");
        }
    }

    // The student moves to a2: the groups follow the roster.
    let today = kernel::today(480);
    let mut tx = t.app.db.begin().await.unwrap();
    let current = directory::people::store::assignments(&t.app.db, r.student)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.role == "student" && a.class_id == Some(r.a1))
        .unwrap();
    directory::people::store::end_assignment(&mut tx, current.id, today).await.unwrap();
    directory::people::store::assign(&mut tx, r.student, Role::Student, r.s1, Some(r.a2), None, today).await.unwrap();
    tx.commit().await.unwrap();
    for key in [format!("class:{}", r.a1), format!("parents:{}", r.a1), format!("class:{}", r.a2), format!("parents:{}", r.a2)] {
        let (kind, of) = key.split_once(':').unwrap();
        let group = messaging::conversations::Group {
            kind: match kind {
                "class" => messaging::conversations::Kind::Class,
                _ => messaging::conversations::Kind::Parents,
            },
            of: of.parse().unwrap(),
        };
        messaging::conversations::sync_group(&t.app, &group).await.unwrap();
    }
    let student = signed_in(&t, "student").await;
    assert_eq!(history(&t, &student, class, "").await.status(), 404, "left a1's group");
    let new_class = conversation(&t, &student, "class").await;
    assert_ne!(new_class, class);
    let parent = signed_in(&t, "parent").await;
    assert_eq!(history(&t, &parent, parents, "").await.status(), 404, "the father follows his child to a2's parents");
    assert_ne!(conversation(&t, &parent, "parents").await, parents);
});

db_test!(
    messages_quote_mention_page_recall_and_count_unread,
    |c| {
        c.messaging.messages_per_minute = 1000;
    },
    |t| {
        let r = region(&t).await;
        people(&t, &r).await;
        let teacher = signed_in(&t, "teacher").await;
        let student = signed_in(&t, "student").await;
        let class = conversation(&t, &teacher, "class").await;
        conversation(&t, &student, "class").await;
        let first = sent(&t, &teacher, class, "明天带好圆规和直尺。").await;
        assert_eq!(first["sender_name"], "王老师");
        assert_eq!(unread(&t, &student).await["messages"], 1);
        let listed = conversations(&t, &student).await;
        assert_eq!(listed.iter().find(|c| c["conversation"]["id"] == class).unwrap()["conversation"]["unread"], 1);

        // A reply quotes; @name mentions a member.
        let reply = send(&t, &student, class, json!({ "text": "@王老师 收到，谢谢老师", "reply_to": first["id"] })).await;
        assert_eq!(reply.status(), 201);
        let reply: Value = reply.json::<Value>().await.unwrap()["message"].clone();
        assert_eq!(reply["reply"]["id"], first["id"]);
        assert_eq!(reply["reply"]["excerpt"], "明天带好圆规和直尺。");
        assert_eq!(reply["mentions"], json!([r.teacher]));
        let listed = conversations(&t, &teacher).await;
        let row = listed.iter().find(|c| c["conversation"]["id"] == class).unwrap();
        assert_eq!((row["conversation"]["unread"].as_i64(), row["conversation"]["mentioned"].as_i64()), (Some(1), Some(1)));
        // Reading the newest page marks the conversation read.
        let page: Value = history(&t, &student, class, "").await.json().await.unwrap();
        assert_eq!(page["messages"].as_array().unwrap().len(), 2);
        assert_eq!(unread(&t, &student).await["messages"], 0);
        assert_eq!(unread(&t, &teacher).await["messages"], 1);

        // A quote from another conversation is refused.
        let parents = conversation(&t, &teacher, "parents").await;
        let r2 = send(&t, &teacher, parents, json!({ "text": "x", "reply_to": first["id"] })).await;
        assert_eq!(r2.status(), 422);
        assert_eq!(r2.json::<Value>().await.unwrap()["details"][0]["field"], "reply_to");

        // Paging: 60 more, then the newest 50 and the 12 before them.
        for i in 0..60 {
            sent(&t, &teacher, class, &format!("第{i}条")).await;
        }
        let newest: Value = history(&t, &student, class, "").await.json().await.unwrap();
        let ids: Vec<i64> = newest["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
        assert_eq!((ids.len(), newest["has_more"].as_bool()), (50, Some(true)));
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
        let older: Value = history(&t, &student, class, &format!("?before={}", ids[0])).await.json().await.unwrap();
        assert_eq!(older["messages"].as_array().unwrap().len(), 12);
        assert_eq!(older["has_more"], false);

        // Recall: the sender, in time; not someone else.
        let last = *ids.last().unwrap();
        let recall = |c: &Client, id: i64| c.post(t.url(&format!("/api/v1/conversations/{class}/messages/{id}/recall"))).send();
        assert_eq!(recall(&student, last).await.unwrap().status(), 403);
        assert_eq!(recall(&teacher, last).await.unwrap().status(), 200);
        let after: Value = history(&t, &student, class, "").await.json().await.unwrap();
        let gone = after["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((gone["state"].as_str(), gone["body"].as_str()), (Some("recalled"), Some("")));
        let west = signed_in(&t, "west-teacher").await;
        assert_eq!(recall(&west, ids[0]).await.unwrap().status(), 404);

        // The page draws the conversation, with the recalled message in its place.
        let html = student.get(t.url(&format!("/messages/{class}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("第58条") && html.contains("消息已撤回") && html.contains("查看更早的消息"), "{html}");
        let list = student.get(t.url("/messages")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("班级群"));
    }
);

db_test!(
    recall_closes_after_its_window,
    |c| {
        c.messaging.recall_seconds = 1;
    },
    |t| {
        region(&t).await;
        let teacher = signed_in(&t, "teacher").await;
        let class = conversation(&t, &teacher, "class").await;
        let m = sent(&t, &teacher, class, "发错了").await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let r = teacher.post(t.url(&format!("/api/v1/conversations/{class}/messages/{}/recall", m["id"]))).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("撤回"), "the reason names recalling");
    }
);

db_test!(
    bad_input_is_refused_with_its_reason,
    |c| {
        c.messaging.messages_per_minute = 5;
    },
    |t| {
        region(&t).await;
        let teacher = signed_in(&t, "teacher").await;
        let class = conversation(&t, &teacher, "class").await;
        let long = "长".repeat(2001);
        let r = send(&t, &teacher, class, json!({ "text": long })).await;
        assert_eq!(r.status(), 422);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["details"][0]["field"], "text");
        assert!(e["details"][0]["message"].as_str().unwrap().contains("2000"), "{e}");
        let r = send(&t, &teacher, class, json!({ "text": "   " })).await;
        assert_eq!(r.status(), 422);

        // A forbidden file type, through the page's multipart form.
        let token = csrf(&t, &teacher).await;
        let form = reqwest::multipart::Form::new()
            .text("_csrf", token.clone())
            .text("text", "看看这个")
            .part("files", reqwest::multipart::Part::bytes(b"MZ\x90\x00\x03".to_vec()).file_name("game.exe"));
        let r = teacher.post(t.url(&format!("/api/v1/conversations/{class}/messages"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["details"][0]["field"], "files");
        // A photo goes through, and only members can fetch it.
        let png = [&b"\x89PNG\r\n\x1a\n"[..], &[0u8; 64]].concat();
        let form = reqwest::multipart::Form::new()
            .text("_csrf", token)
            .part("files", reqwest::multipart::Part::bytes(png).file_name("黑板.png"));
        let r = teacher.post(t.url(&format!("/api/v1/conversations/{class}/messages"))).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let m: Value = r.json().await.unwrap();
        let url = m["message"]["files"][0]["url"].as_str().unwrap().to_string();
        assert_eq!(signed_in(&t, "student").await.get(t.url(&url)).send().await.unwrap().status(), 200);
        assert_eq!(signed_in(&t, "student2").await.get(t.url(&url)).send().await.unwrap().status(), 404);

        // A flood meets the rate limit, with the wait in the message.
        let mut statuses = Vec::new();
        for i in 0..5 {
            statuses.push(send(&t, &teacher, class, json!({ "text": format!("刷屏{i}") })).await);
        }
        let last = statuses.pop().unwrap();
        assert_eq!(last.status(), 429);
        assert!(last.headers().get("retry-after").is_some());
        let e: Value = last.json().await.unwrap();
        assert_eq!(e["code"], "too_fast");
        assert!(e["message"].as_str().unwrap().contains("秒"), "{e}");
    }
);

db_test!(direct_messages_follow_the_policy, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let student = signed_in(&t, "student").await;
    let contacts: Value = student.get(t.url("/api/v1/conversations/contacts")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = contacts["contacts"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["王老师"], "a student writes to the class's teachers (and classmates, of whom a1 has none else)");
    let open =
        |c: &Client, person: i64| c.post(t.url("/api/v1/conversations/direct")).json(&json!({ "person_id": person })).send();
    let r1 = open(&student, r.teacher).await.unwrap();
    assert_eq!(r1.status(), 200);
    let dm = r1.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    sent(&t, &student, dm, "老师，我今天发烧请假。").await;
    let teacher = signed_in(&t, "teacher").await;
    assert_eq!(conversation(&t, &teacher, "direct").await, dm);
    sent(&t, &teacher, dm, "好的，好好休息。").await;
    // Not to a student of another class, nor to another school's teacher.
    let refused = open(&student, r.other_student).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().await.unwrap()["details"][0]["field"], "person_id");
    assert_eq!(open(&student, r.west_student).await.unwrap().status(), 422);
    // The page's form sent without anyone chosen asks for a choice.
    let token = csrf(&t, &student).await;
    let page =
        student.post(t.url("/messages/direct")).form(&[("_csrf", token.as_str()), ("person_id", "")]).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("请选择要发私信的人"));
    // A parent writes to the child's teacher, not (by default) to another parent.
    let parent = signed_in(&t, "parent").await;
    assert_eq!(open(&parent, r.teacher).await.unwrap().status(), 200);
    let mother: (i64,) = t.app.db.fetch_one(kernel::db::sql("SELECT id FROM people WHERE login = 'parent2'")).await.unwrap();
    assert_eq!(open(&parent, mother.0).await.unwrap().status(), 422);
    // Third parties cannot read the direct conversation.
    for login in ["parent", "head", "s1-admin", "west-teacher"] {
        assert_eq!(history(&t, &signed_in(&t, login).await, dm, "").await.status(), 404, "{login}");
    }
});

db_test!(notices_count_reads_and_confirmations_and_reach_latecomers, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let scopes: Value = teacher.get(t.url("/api/v1/notices/scopes")).send().await.unwrap().json().await.unwrap();
    let values: Vec<&str> = scopes["scopes"].as_array().unwrap().iter().map(|s| s["scope"].as_str().unwrap()).collect();
    assert_eq!(values, [format!("class:{}:parents", r.a1), format!("class:{}:students", r.a1)]);
    let post = |c: &Client, scope: String| {
        c.post(t.url("/api/v1/notices"))
            .json(&json!({ "scope": scope, "title": "期末家长会", "body": "周五下午三点，一楼报告厅。", "needs_confirm": true }))
            .send()
    };
    // Not to a class the teacher does not teach.
    let refused = post(&teacher, format!("class:{}:parents", r.a2)).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().await.unwrap()["details"][0]["field"], "scope");
    let created = post(&teacher, format!("class:{}:parents", r.a1)).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["recipients"], 1);
    let id = created["id"].as_i64().unwrap();
    let summary_url = t.url(&format!("/api/v1/notices/{id}/summary"));
    let summary = |c: Client| {
        let url = summary_url.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, s) = summary(teacher.clone()).await;
    assert_eq!((status, s["summary"]["read"].as_i64(), s["outstanding"][0]["name"].as_str()), (200, Some(0), Some("张爸爸")));

    let parent = signed_in(&t, "parent").await;
    assert_eq!(unread(&t, &parent).await["notices"], 1);
    let got: Value = parent.get(t.url(&format!("/api/v1/notices/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["notice"]["title"], "期末家长会");
    assert_eq!(summary(teacher.clone()).await.1["summary"]["read"], 1);
    assert_eq!(parent.post(t.url(&format!("/api/v1/notices/{id}/confirm"))).send().await.unwrap().status(), 200);
    let (_, s) = summary(teacher.clone()).await;
    assert_eq!((s["summary"]["confirmed"].as_i64(), s["outstanding"].as_array().unwrap().len()), (Some(1), 0));
    assert_eq!(summary(parent.clone()).await.0, 403, "recipients do not see the receipts");

    // The school's admin oversees it; neighbours do not see it at all.
    assert_eq!(summary(signed_in(&t, "s1-admin").await).await.0, 200);
    for login in ["parent2", "student2", "s3-admin", "s2-admin", "d2-admin", "head"] {
        let c = signed_in(&t, login).await;
        assert_eq!(c.get(t.url(&format!("/api/v1/notices/{id}"))).send().await.unwrap().status(), 404, "{login}");
        assert_eq!(summary(c.clone()).await.0, 404, "{login}");
        assert_eq!(c.post(t.url(&format!("/api/v1/notices/{id}/remind"))).send().await.unwrap().status(), 404, "{login}");
    }

    // A guardian linked after the notice went out still gets it.
    let grandma = add_person(&t, "grandma", "张奶奶", Role::Parent, r.s1, None).await;
    let mut tx = t.app.db.begin().await.unwrap();
    directory::people::store::link_guardian(&mut tx, grandma, r.student, directory::people::model::Relation::Grandmother)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let grandma_c = signed_in(&t, "grandma").await;
    let list: Value = grandma_c.get(t.url("/api/v1/notices")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["received"][0]["id"], id, "{list}");
    let (_, s) = summary(teacher.clone()).await;
    assert_eq!((s["summary"]["recipients"].as_i64(), s["outstanding"][0]["name"].as_str()), (Some(2), Some("张奶奶")));
    let reminded: Value =
        teacher.post(t.url(&format!("/api/v1/notices/{id}/remind"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(reminded["reminded"], 1);

    // A district notice to all its parents; the pages draw both sides.
    let d1 = signed_in(&t, "d1-admin").await;
    let r3 = post(&d1, "unit:parents".into()).await.unwrap();
    assert_eq!(r3.status(), 201);
    assert_eq!(r3.json::<Value>().await.unwrap()["recipients"], 3, "the father, grandmother and mother of 东区's two students");
    let html = teacher.get(t.url(&format!("/notices/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("阅读回执") && html.contains("张奶奶"), "{html}");
    let html = grandma_c.get(t.url("/notices")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("期末家长会") && !html.contains("阅读回执"));
    let empty = post(&signed_in(&t, "s3-admin").await, "unit:parents".into()).await.unwrap();
    assert_eq!(empty.status(), 422, "西区一小 has no parents");
});

db_test!(moderation_mutes_removes_and_handles_reports_with_audit, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let student = signed_in(&t, "student").await;
    let class = conversation(&t, &teacher, "class").await;
    conversation(&t, &student, "class").await;
    let bad = sent(&t, &student, class, "广告：加微信买答案").await;

    let mute =
        |c: &Client, on: bool| c.post(t.url(&format!("/api/v1/conversations/{class}/mute"))).json(&json!({ "on": on })).send();
    assert_eq!(mute(&student, true).await.unwrap().status(), 403, "members are not owners");
    for login in ["s3-admin", "head", "parent"] {
        assert_eq!(mute(&signed_in(&t, login).await, true).await.unwrap().status(), 404, "{login}");
    }
    assert_eq!(mute(&teacher, true).await.unwrap().status(), 200);
    let r1 = send(&t, &student, class, json!({ "text": "还能说话吗" })).await;
    assert_eq!(r1.status(), 422);
    assert!(r1.text().await.unwrap().contains("禁言"));
    sent(&t, &teacher, class, "老师可以发言").await;
    assert_eq!(mute(&teacher, false).await.unwrap().status(), 200);
    let mute_one = |c: &Client, minutes: i64| {
        c.post(t.url(&format!("/api/v1/conversations/{class}/members/{}/mute", r.student)))
            .json(&json!({ "minutes": minutes }))
            .send()
    };
    assert_eq!(mute_one(&teacher, 60).await.unwrap().status(), 200);
    assert_eq!(send(&t, &student, class, json!({ "text": "x" })).await.status(), 422);
    assert_eq!(mute_one(&teacher, 0).await.unwrap().status(), 200);
    sent(&t, &student, class, "我错了").await;

    // A report reaches the school's admins, not another school's.
    let report = student.post(t.url(&format!("/api/v1/conversations/{class}/messages/{}/report", bad["id"])));
    assert_eq!(report.json(&json!({ "reason": "广告" })).send().await.unwrap().status(), 201);
    // The page's report form says it was received; a second report of the same message is one report.
    let token = csrf(&t, &student).await;
    let form = [("_csrf", token), ("reason", "广告，请处理".to_string())];
    let again = student.post(t.url(&format!("/messages/{class}/report/{}", bad["id"]))).form(&form).send().await.unwrap();
    assert_eq!(again.status(), 303);
    let back = again.headers()["location"].to_str().unwrap().to_string();
    assert!(student.get(t.url(&back)).send().await.unwrap().text().await.unwrap().contains("已举报"));
    let admin = signed_in(&t, "s1-admin").await;
    let reports: Value = admin.get(t.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["reports"][0]["body"], "广告：加微信买答案");
    let report_id = reports["reports"][0]["id"].as_i64().unwrap();
    let west: Value = signed_in(&t, "s3-admin").await.get(t.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(west["reports"], json!([]));
    assert_eq!(student.get(t.url("/api/v1/reports")).send().await.unwrap().status(), 403);
    let handle = |c: &Client| c.post(t.url(&format!("/api/v1/reports/{report_id}"))).json(&json!({ "action": "remove" })).send();
    assert_eq!(handle(&signed_in(&t, "s3-admin").await).await.unwrap().status(), 404);
    assert_eq!(handle(&admin).await.unwrap().status(), 200);
    let page: Value = history(&t, &teacher, class, "").await.json().await.unwrap();
    let removed = page["messages"].as_array().unwrap().iter().find(|m| m["id"] == bad["id"]).unwrap().clone();
    assert_eq!((removed["state"].as_str(), removed["body"].as_str()), (Some("removed"), Some("")));
    let html = admin.get(t.url("/reports")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已移除"), "{html}");

    // Every act is audited.
    let (n,): (i64,) = t
        .app
        .db
        .fetch_one(kernel::db::sql(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action IN ('group_mute', 'group_unmute', 'member_mute', 'member_unmute', 'message_remove')",
        ))
        .await
        .unwrap();
    assert_eq!(n, 5);

    // Retention: messages older than the configured days go, with their reports.
    let old = kernel::db::sql("UPDATE messages SET created_at = created_at - 800 * 86400 WHERE id = $1")
        .bind(bad["id"].as_i64().unwrap());
    t.app.db.execute(old).await.unwrap();
    assert_eq!(messaging::moderation::purge(&t.app).await.unwrap(), 1);
    let page: Value = history(&t, &teacher, class, "").await.json().await.unwrap();
    assert!(page["messages"].as_array().unwrap().iter().all(|m| m["id"] != bad["id"]));
    let reports: Value = admin.get(t.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["reports"], json!([]));
});

db_test!(family_education_is_delivered_to_parents_and_counted, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    crate::library::staff(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let resource = crate::library::draft(&t, &teacher, "家庭教育：陪孩子读书的十个办法", 7).await;
    assert_eq!(crate::library::submit(&t, &teacher, resource, "school").await.status(), 200);
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let pending: Vec<i64> = crate::library::queue(&t, &reviewer)
        .await
        .iter()
        .filter(|i| i["resource_id"] == resource)
        .map(|i| i["publication_id"].as_i64().unwrap())
        .collect();
    assert_eq!(crate::library::decide(&t, &reviewer, &pending, "approve", "").await.status(), 200);

    let admin = signed_in(&t, "s1-admin").await;
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    let local = format!("{:04}-{:02}-{:02}T{:02}:{:02}", now.year(), now.month() as u8, now.day(), now.hour(), now.minute());
    let schedule = |c: &Client, resources: String| {
        c.post(t.url("/api/v1/family")).json(&json!({ "scope": "unit", "resources": resources, "first_at": local })).send()
    };
    let bad = schedule(&admin, "999999".into()).await.unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("999999"));
    assert_eq!(schedule(&teacher, resource.to_string()).await.unwrap().status(), 403);
    let ok = schedule(&admin, format!("/library/resources/{resource}")).await.unwrap();
    assert_eq!(ok.status(), 201, "{}", ok.text().await.unwrap());
    assert_eq!(messaging::family::send_due(&t.app).await.unwrap(), 1);
    assert_eq!(messaging::family::send_due(&t.app).await.unwrap(), 0, "sent once");

    let parent = signed_in(&t, "parent").await;
    let list: Value = parent.get(t.url("/api/v1/notices")).send().await.unwrap().json().await.unwrap();
    let item = list["received"][0].clone();
    assert_eq!((item["kind"].as_str(), item["title"].as_str()), (Some("family"), Some("家庭教育：陪孩子读书的十个办法")));
    parent.get(t.url(&format!("/api/v1/notices/{}", item["id"]))).send().await.unwrap();
    let deliveries: Value = admin.get(t.url("/api/v1/family")).send().await.unwrap().json().await.unwrap();
    let d = &deliveries["deliveries"][0];
    assert_eq!((d["delivered"].as_i64(), d["read"].as_i64()), (Some(2), Some(1)), "{deliveries}");
    let west: Value = signed_in(&t, "s3-admin").await.get(t.url("/api/v1/family")).send().await.unwrap().json().await.unwrap();
    assert_eq!(west["deliveries"], json!([]));
    let html = admin.get(t.url("/family")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("陪孩子读书"));
});

db_test!(
    live_frames_arrive_and_a_reconnect_resumes_without_loss_or_repeats,
    |c| {
        c.messaging.max_message_chars = 4000;
    },
    |t| {
        let r = region(&t).await;
        let teacher = signed_in(&t, "teacher").await;
        let parent = signed_in(&t, "parent").await;
        let group = conversation(&t, &teacher, "parents").await;
        conversation(&t, &parent, "parents").await;
        let cookie = session_cookie(&t.base, "parent").await;
        let mut socket = live(&t.base, &cookie, None).await;
        let hello = frame(&mut socket, "hello").await;
        assert_eq!(hello["unread_messages"], 0);
        let stranger = crate::fixture::add_person(&t, "west-parent", "西区家长", Role::Parent, r.s3, None).await;
        assert!(stranger > 0);
        let mut west = live(&t.base, &session_cookie(&t.base, "west-parent").await, None).await;
        frame(&mut west, "hello").await;
        let m = sent(&t, &teacher, group, "明天春游，请准备午餐。").await;
        let got = frame(&mut socket, "message").await;
        no_frame(&mut west, "message").await;
        assert_eq!(
            (got["message"]["id"].clone(), got["message"]["body"].as_str()),
            (m["id"].clone(), Some("明天春游，请准备午餐。"))
        );
        // A notice, and its read count going to the sender live.
        let teacher_cookie = session_cookie(&t.base, "teacher").await;
        let mut teacher_socket = live(&t.base, &teacher_cookie, None).await;
        frame(&mut teacher_socket, "hello").await;
        let n: Value = teacher
            .post(t.url("/api/v1/notices"))
            .json(&json!({ "scope": format!("class:{}:parents", t_class(&t, &teacher).await), "title": "春游通知", "body": "" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let notice = frame(&mut socket, "notice").await;
        assert_eq!(notice["notice"]["title"], "春游通知");
        parent.get(t.url(&format!("/api/v1/notices/{}", n["id"]))).send().await.unwrap();
        let read = frame(&mut teacher_socket, "notice_read").await;
        assert_eq!(read["summary"]["read"], 1);

        // The parent drops off; two messages go out; the reconnect gets exactly those.
        let last = m["id"].as_i64().unwrap();
        drop(socket);
        let a = sent(&t, &teacher, group, "第一条").await;
        let b = sent(&t, &teacher, group, "第二条").await;
        let mut socket = live(&t.base, &cookie, Some(last)).await;
        let first = frame(&mut socket, "message").await;
        let second = frame(&mut socket, "message").await;
        assert_eq!((first["message"]["id"].clone(), second["message"]["id"].clone()), (a["id"].clone(), b["id"].clone()));
        let hello = frame(&mut socket, "hello").await;
        assert_eq!(hello["last_id"], b["id"]);
        no_frame(&mut socket, "message").await;
        // A recall reaches the open socket as a change.
        t_recall(&t, &teacher, group, b["id"].as_i64().unwrap()).await;
        let changed = frame(&mut socket, "changed").await;
        assert_eq!(changed["message"]["state"], "recalled");
        // A message too long to ride in a NOTIFY (over 8,000 bytes) is read from the database instead.
        let long = "长".repeat(3000);
        let m = sent(&t, &teacher, group, &long).await;
        let got = frame(&mut socket, "message").await;
        assert_eq!((got["message"]["id"].clone(), got["message"]["body"].as_str()), (m["id"].clone(), Some(long.as_str())));

        // Another site's page cannot open the socket with the visitor's cookie.
        let mut req = format!("{}/api/v1/live", t.base.replace("http://", "ws://")).into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", "http://evil.example".parse().unwrap());
        assert!(tokio_tungstenite::connect_async(req).await.is_err());
        // Nor a visitor without a session.
        let req = format!("{}/api/v1/live", t.base.replace("http://", "ws://")).into_client_request().unwrap();
        assert!(tokio_tungstenite::connect_async(req).await.is_err());
    }
);

db_test!(a_live_socket_ends_with_its_session, |t| {
    use kernel::db::sql;
    let r = region(&t).await;
    let teacher = session_cookie(&t.base, "teacher").await;
    let parent = session_cookie(&t.base, "parent").await;
    let mut teacher_socket = live(&t.base, &teacher, None).await;
    let mut parent_socket = live(&t.base, &parent, None).await;
    frame(&mut teacher_socket, "hello").await;
    frame(&mut parent_socket, "hello").await;
    // One check for every open socket: both sessions stand, nothing ends.
    assert_eq!(messaging::live::check_sessions(&t.app).await.unwrap(), 0);
    no_frame(&mut teacher_socket, "signed_out").await;
    // The teacher's session is revoked (from another device): the next check ends their socket,
    // and only theirs.
    let revoke = |person: i64| sql("UPDATE sessions SET revoked_at = $1 WHERE person_id = $2").bind(kernel::now()).bind(person);
    t.app.db.execute(revoke(r.teacher)).await.unwrap();
    assert_eq!(messaging::live::check_sessions(&t.app).await.unwrap(), 1);
    frame(&mut teacher_socket, "signed_out").await;
    no_frame(&mut parent_socket, "signed_out").await;
    // A socket opened with a session that has ended by the time it is checked ends as well.
    let mut second = live(&t.base, &parent, None).await;
    frame(&mut second, "hello").await;
    t.app.db.execute(revoke(r.parent)).await.unwrap();
    assert_eq!(messaging::live::check_sessions(&t.app).await.unwrap(), 1, "one session newly ended, with two sockets");
    frame(&mut second, "signed_out").await;
    frame(&mut parent_socket, "signed_out").await;
});

async fn t_class(t: &TestApp, teacher: &Client) -> i64 {
    let me: Value = teacher.get(t.url("/api/v1/notices/scopes")).send().await.unwrap().json().await.unwrap();
    me["scopes"][0]["scope"].as_str().unwrap().split(':').nth(1).unwrap().parse().unwrap()
}

async fn t_recall(t: &TestApp, c: &Client, conversation: i64, message: i64) {
    let r = c.post(t.url(&format!("/api/v1/conversations/{conversation}/messages/{message}/recall"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Two `hanlin serve` processes on one PostgreSQL database: a message and a notice sent through
/// the first reach a client of the second, carried by NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_delivers_what_the_first_received() {
    let Some(t) = TestApp::start(crate::harness::Backend::Postgres).await else { return };
    region(&t).await;
    let url = t.app.config.database_url.clone().unwrap();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("hanlin-node-{}", kernel::secret::random_token(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_hanlin"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()])
            .env("HANLIN_DATABASE_URL", &url)
            .env("HANLIN_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        nodes.push((format!("http://127.0.0.1:{port}"), child, dir));
    }
    let web = reqwest::Client::new();
    for (base, _, _) in &nodes {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while web.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
            assert!(std::time::Instant::now() < deadline, "{base} did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (first, second) = (nodes[0].0.clone(), nodes[1].0.clone());
    let client = |cookie: String| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("cookie", cookie.parse().unwrap());
        reqwest::Client::builder().default_headers(h).build().unwrap()
    };
    let teacher = client(session_cookie(&first, "teacher").await);
    let parent_cookie = session_cookie(&second, "parent").await;
    let parent = client(parent_cookie.clone());
    // Each opens the parents' group on their own node (which creates it and its members).
    let list: Value = teacher.get(format!("{first}/api/v1/conversations")).send().await.unwrap().json().await.unwrap();
    let group = list["conversations"].as_array().unwrap().iter().find(|c| c["conversation"]["kind"] == "parents").unwrap()["conversation"]
        ["id"]
        .as_i64()
        .unwrap();
    parent.get(format!("{second}/api/v1/conversations")).send().await.unwrap();
    let mut socket = live(&second, &parent_cookie, None).await;
    frame(&mut socket, "hello").await;
    let r = teacher
        .post(format!("{first}/api/v1/conversations/{group}/messages"))
        .json(&json!({ "text": "跨节点的消息" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = frame(&mut socket, "message").await;
    assert_eq!(got["message"]["body"], "跨节点的消息");
    let scopes: Value = teacher.get(format!("{first}/api/v1/notices/scopes")).send().await.unwrap().json().await.unwrap();
    let scope = scopes["scopes"][0]["scope"].as_str().unwrap().to_string();
    let r = teacher
        .post(format!("{first}/api/v1/notices"))
        .json(&json!({ "scope": scope, "title": "跨节点的通知" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(frame(&mut socket, "notice").await["notice"]["title"], "跨节点的通知");
    for (_, mut child, dir) in nodes {
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }
}

db_test!(every_role_opens_its_messaging_pages, |t| {
    region(&t).await;
    for login in ["city-admin", "d1-admin", "s1-admin", "auditor", "teacher", "head", "student", "parent"] {
        let c = signed_in(&t, login).await;
        let home = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
        for href in ["/messages", "/notices", "/family", "/reports"] {
            if !home.contains(&format!("href=\"{href}\"")) {
                continue;
            }
            let r = c.get(t.url(href)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{login} {href}");
        }
        assert!(home.contains("href=\"/notices\""), "{login} has notices in the navigation");
    }
    // The navigation offers each page only to those it serves.
    let student_home = signed_in(&t, "student").await.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(student_home.contains("href=\"/messages\"") && !student_home.contains("href=\"/family\""));
    for (login, href) in [("teacher", "/family"), ("teacher", "/reports"), ("parent", "/reports")] {
        assert_eq!(signed_in(&t, login).await.get(t.url(href)).send().await.unwrap().status(), 403, "{login} {href}");
    }
});

db_test!(neighbours_are_refused_at_every_endpoint, |t| {
    let r = region(&t).await;
    people(&t, &r).await;
    let teacher = signed_in(&t, "teacher").await;
    let class = conversation(&t, &teacher, "class").await;
    let m = sent(&t, &teacher, class, "只给本班看的消息").await;
    let message = m["id"].as_i64().unwrap();
    let n: Value = teacher
        .post(t.url("/api/v1/notices"))
        .json(&json!({ "scope": format!("class:{}:parents", r.a1), "title": "本班通知", "needs_confirm": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notice = n["id"].as_i64().unwrap();
    let admin = signed_in(&t, "s1-admin").await;
    let schedule = admin
        .post(t.url("/api/v1/family"))
        .json(&json!({ "scope": "unit", "resources": "1", "first_at": "2099-01-01T08:00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.status(), 422, "no resource 1 yet");

    for login in ["west-teacher", "s3-admin", "d2-admin", "student2", "parent2"] {
        let c = signed_in(&t, login).await;
        let token = csrf(&t, &c).await;
        let get = |path: String| c.get(t.url(&path)).send();
        let post_json = |path: String, body: Value| c.post(t.url(&path)).json(&body).send();
        let post_form = |path: String, form: Vec<(&'static str, String)>| {
            let mut form = form;
            form.push(("_csrf", token.clone()));
            c.post(t.url(&path)).form(&form).send()
        };
        for (what, status) in [
            ("members page", get(format!("/messages/{class}/members")).await.unwrap().status()),
            ("members API", get(format!("/api/v1/conversations/{class}/members")).await.unwrap().status()),
            (
                "read",
                post_json(format!("/api/v1/conversations/{class}/read"), json!({ "message_id": message }))
                    .await
                    .unwrap()
                    .status(),
            ),
            (
                "report",
                post_json(format!("/api/v1/conversations/{class}/messages/{message}/report"), json!({})).await.unwrap().status(),
            ),
            (
                "remove",
                c.post(t.url(&format!("/api/v1/conversations/{class}/messages/{message}/remove"))).send().await.unwrap().status(),
            ),
            (
                "mute member",
                post_json(format!("/api/v1/conversations/{class}/members/{}/mute", r.student), json!({ "minutes": 60 }))
                    .await
                    .unwrap()
                    .status(),
            ),
            ("page recall", post_form(format!("/messages/{class}/recall/{message}"), vec![]).await.unwrap().status()),
            ("page remove", post_form(format!("/messages/{class}/remove/{message}"), vec![]).await.unwrap().status()),
            (
                "page report",
                post_form(format!("/messages/{class}/report/{message}"), vec![("reason", "x".into())]).await.unwrap().status(),
            ),
            ("page mute", post_form(format!("/messages/{class}/mute"), vec![("on", "true".into())]).await.unwrap().status()),
            ("notice page", get(format!("/notices/{notice}")).await.unwrap().status()),
            ("confirm", c.post(t.url(&format!("/api/v1/notices/{notice}/confirm"))).send().await.unwrap().status()),
            ("page confirm", post_form(format!("/notices/{notice}/confirm"), vec![]).await.unwrap().status()),
            ("page remind", post_form(format!("/notices/{notice}/remind"), vec![]).await.unwrap().status()),
        ] {
            assert_eq!(status, 404, "{login}: {what}");
        }
    }
    // Nothing of theirs changed: the message stands, unreported; the notice has one recipient.
    let page: Value = history(&t, &teacher, class, "").await.json().await.unwrap();
    assert_eq!(page["messages"][0]["state"], "sent");
    let reports: Value = admin.get(t.url("/api/v1/reports")).send().await.unwrap().json().await.unwrap();
    assert_eq!(reports["reports"], json!([]));

    // Another school's administrator cannot cancel this school's family-education delivery.
    crate::library::staff(&t, &r).await;
    let resource = crate::library::draft(&t, &teacher, "家庭教育：睡眠与作息", 9).await;
    assert_eq!(crate::library::submit(&t, &teacher, resource, "school").await.status(), 200);
    let reviewer = signed_in(&t, "s1-reviewer").await;
    let pending: Vec<i64> =
        crate::library::queue(&t, &reviewer).await.iter().map(|i| i["publication_id"].as_i64().unwrap()).collect();
    assert_eq!(crate::library::decide(&t, &reviewer, &pending, "approve", "").await.status(), 200);
    let body = json!({ "scope": "unit", "resources": resource.to_string(), "first_at": "2099-01-01T08:00" });
    let west = signed_in(&t, "s3-admin").await;
    let refused = west.post(t.url("/api/v1/family")).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422, "西区一小 cannot send 东区一小's school-level reading");
    let ok: Value = admin.post(t.url("/api/v1/family")).json(&body).send().await.unwrap().json().await.unwrap();
    let delivery = ok["ids"][0].as_i64().unwrap();
    let west_token = csrf(&t, &west).await;
    let cancel = west.post(t.url(&format!("/family/{delivery}/cancel"))).form(&[("_csrf", west_token)]).send().await.unwrap();
    assert_eq!(cancel.status(), 404);
    let token = csrf(&t, &admin).await;
    assert_eq!(
        admin.post(t.url(&format!("/family/{delivery}/cancel"))).form(&[("_csrf", token)]).send().await.unwrap().status(),
        303
    );
});
