use crate::fixture::{self, PASSWORD, csrf, region, signed_in};
use crate::harness::db_test;
use serde_json::{Value, json};

async fn login(t: &crate::harness::TestApp, c: &reqwest::Client, login: &str, password: &str) -> reqwest::Response {
    c.post(t.url("/api/v1/auth/login")).json(&json!({ "login": login, "password": password })).send().await.unwrap()
}

db_test!(login_sets_session_and_me_answers, |t| {
    region(&t).await;
    let c = t.client();
    assert_eq!(c.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    let r = login(&t, &c, "d1-admin", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["person"]["name"], "东区管理员");
    let me: Value = c.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"]["role"], "region_admin");
    assert_eq!(me["role"]["scope"], "东区");
    // Logout ends the session for good.
    assert_eq!(c.post(t.url("/api/v1/auth/logout")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
});

db_test!(login_by_student_number_and_wrong_credentials, |t| {
    region(&t).await;
    let c = t.client();
    assert_eq!(login(&t, &c, "g420000000000000001", PASSWORD).await.status(), 200, "student numbers are case-insensitive");
    let wrong = login(&t, &t.client(), "student", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = login(&t, &t.client(), "nobody-here", "not-the-password").await.json().await.unwrap();
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong, unknown, "the same answer whether or not the account exists");
});

db_test!(lockout_after_five_failures_even_for_unknown_accounts, |t| {
    region(&t).await;
    for login_name in ["teacher", "ghost-account"] {
        for _ in 0..5 {
            assert_eq!(login(&t, &t.client(), login_name, "wrong-password").await.status(), 401);
        }
        let locked = login(&t, &t.client(), login_name, PASSWORD).await;
        assert_eq!(locked.status(), 429, "{login_name}");
        assert!(locked.headers().get("retry-after").is_some());
        let body: Value = locked.json().await.unwrap();
        assert_eq!(body["code"], "locked");
    }
    // Another account is not affected.
    assert_eq!(login(&t, &t.client(), "head", PASSWORD).await.status(), 200);
});

db_test!(errors_are_translated_and_name_the_field, |t| {
    let c = t.client();
    let r =
        c.post(t.url("/api/v1/auth/login")).header("accept-language", "en").json(&json!({ "login": "x" })).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_input");
    assert_eq!(body["details"][0]["field"], "password");
    let en = body["details"][0]["message"].as_str().unwrap().to_string();
    let r = c
        .post(t.url("/api/v1/auth/login"))
        .header("accept-language", "zh-CN")
        .json(&json!({ "login": "x" }))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let zh = body["details"][0]["message"].as_str().unwrap().to_string();
    assert_ne!(en, zh);
    assert!(zh.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "{zh}");
    let r =
        c.post(t.url("/api/v1/auth/login")).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert!(r.status() == 400 || r.status() == 422);
    let over_long = "x".repeat(101);
    let r = c.post(t.url("/api/v1/auth/login")).json(&json!({ "login": over_long, "password": "p" })).send().await.unwrap();
    assert_eq!(r.status(), 422);
});

db_test!(api_tokens_work_and_read_only_tokens_cannot_write, |t| {
    let r = region(&t).await;
    let c = signed_in(&t, "d1-admin").await;
    let created: Value = c
        .post(t.url("/api/v1/tokens"))
        .json(&json!({ "name": "script", "scope": "read", "days": 30 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    assert!(token.starts_with("hlt_"));
    let anon = t.client();
    let me = anon.get(t.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let ok = anon.get(t.url(&format!("/api/v1/org-units/{}", r.s1))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let write = anon
        .patch(t.url(&format!("/api/v1/org-units/{}", r.s1)))
        .bearer_auth(&token)
        .json(&json!({ "name": "改名", "code": "2142990101", "school_type": "211", "urban_rural": "111" }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403);
    // A token cannot mint tokens.
    let mint = anon
        .post(t.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({ "name": "x", "scope": "write", "days": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(mint.status(), 403);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(c.delete(t.url(&format!("/api/v1/tokens/{id}"))).send().await.unwrap().status(), 200);
    t.app.actors.forget_person(0);
    let after = t.client().get(t.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(after.status(), 401, "a revoked token stops working");
    assert_eq!(t.client().get(t.url("/api/v1/me")).bearer_auth("hlt_forged").send().await.unwrap().status(), 401);
});

db_test!(password_change_follows_policy_and_ends_other_sessions, |t| {
    region(&t).await;
    let c = signed_in(&t, "teacher").await;
    let other = signed_in(&t, "teacher").await;
    let weak = c
        .post(t.url("/api/v1/me/password"))
        .json(&json!({ "current_password": PASSWORD, "new_password": "short" }))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["details"][0]["field"], "new_password");
    let wrong = c
        .post(t.url("/api/v1/me/password"))
        .json(&json!({ "current_password": "nope-nope-nope", "new_password": "a much longer passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    let ok = c
        .post(t.url("/api/v1/me/password"))
        .json(&json!({ "current_password": PASSWORD, "new_password": "a much longer passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(c.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200, "this session stays");
    assert_eq!(other.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401, "other sessions end");
    let again = t.client();
    assert_eq!(login(&t, &again, "teacher", "a much longer passphrase").await.status(), 200);
});

db_test!(sessions_can_be_listed_and_revoked, |t| {
    region(&t).await;
    let a = signed_in(&t, "auditor").await;
    let b = signed_in(&t, "auditor").await;
    let list: Value = a.get(t.url("/api/v1/sessions")).send().await.unwrap().json().await.unwrap();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    assert_eq!(a.delete(t.url(&format!("/api/v1/sessions/{other}"))).send().await.unwrap().status(), 200);
    assert_eq!(b.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    // Nobody revokes another person's session.
    let c = signed_in(&t, "teacher").await;
    let list: Value = a.get(t.url("/api/v1/sessions")).send().await.unwrap().json().await.unwrap();
    let mine = list["sessions"][0]["id"].as_i64().unwrap();
    assert_eq!(c.delete(t.url(&format!("/api/v1/sessions/{mine}"))).send().await.unwrap().status(), 404);
});

db_test!(session_activity_is_written_in_batches_and_idle_sessions_end, |t| {
    use kernel::db::sql;
    region(&t).await;
    let c = signed_in(&t, "auditor").await;
    let db = &t.app.db;
    let touches = t.app.part::<directory::accounts::sessions::Touches>().unwrap();
    touches.flush(db).await.unwrap();
    let (id, person): (i64, i64) = db.fetch_one(sql("SELECT id, person_id FROM sessions")).await.unwrap();
    // Last seen ten minutes ago: the next request that loads the session notes a touch, written
    // with the next flush rather than by the request.
    let ten_minutes_ago = kernel::now() - 600;
    db.execute(sql("UPDATE sessions SET last_seen_at = $1 WHERE id = $2").bind(ten_minutes_ago).bind(id)).await.unwrap();
    t.app.actors.forget_person(person);
    assert_eq!(c.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200);
    let seen = |db: kernel::db::Db| async move {
        let (at,): (i64,) = db.fetch_one(sql("SELECT last_seen_at FROM sessions WHERE id = $1").bind(id)).await.unwrap();
        at
    };
    assert_eq!(seen(db.clone()).await, ten_minutes_ago);
    assert_eq!(touches.flush(db).await.unwrap(), 1);
    assert!(seen(db.clone()).await >= kernel::now() - 5);
    assert_eq!(touches.flush(db).await.unwrap(), 0, "a flush writes each touch once");
    // Past the idle timeout (30 minutes by default) the session no longer signs anyone in.
    db.execute(sql("UPDATE sessions SET last_seen_at = $1 WHERE id = $2").bind(kernel::now() - 31 * 60).bind(id)).await.unwrap();
    t.app.actors.forget_person(person);
    assert_eq!(c.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
});

db_test!(role_switch_and_language_are_remembered, |t| {
    let r = region(&t).await;
    // The teacher is also a parent of a student at another school.
    let mut tx = t.app.db.begin().await.unwrap();
    directory::people::store::link_guardian(&mut tx, r.teacher, r.west_student, directory::people::model::Relation::Mother)
        .await
        .unwrap();
    directory::people::store::assign(&mut tx, r.teacher, kernel::auth::Role::Parent, r.s3, None, None, kernel::today(480))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = signed_in(&t, "teacher").await;
    let me: Value = c.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"]["role"], "teacher");
    let parent_role = me["roles"].as_array().unwrap().iter().find(|x| x["role"] == "parent").unwrap()["id"].as_i64().unwrap();
    assert_eq!(c.put(t.url("/api/v1/me/role")).json(&json!({ "role_id": parent_role })).send().await.unwrap().status(), 200);
    let me: Value = c.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"]["role"], "parent");
    assert_eq!(me["role"]["child_ids"], json!([r.west_student]));
    assert_eq!(c.put(t.url("/api/v1/me/role")).json(&json!({ "role_id": 999999 })).send().await.unwrap().status(), 422);
    assert_eq!(c.put(t.url("/api/v1/me/locale")).json(&json!({ "locale": "en" })).send().await.unwrap().status(), 200);
    let page = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("lang=\"en\""), "the person's language applies to pages");
});

db_test!(
    hashing_is_bounded_and_answers_busy,
    |c| {
        c.login.hash_concurrency = 1;
    },
    |t| {
        region(&t).await;
        let mut tasks = Vec::new();
        for i in 0..60 {
            let (c, url) = (t.client(), t.url("/api/v1/auth/login"));
            tasks.push(tokio::spawn(async move {
                let r = c
                    .post(url)
                    .json(&json!({ "login": format!("nobody{i}"), "password": "whatever-it-is" }))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.headers().get("retry-after").is_some())
            }));
        }
        let mut busy = 0;
        for task in tasks {
            let (status, retry) = task.await.unwrap();
            assert!(status == 401 || status == 429, "{status}");
            if status == 429 {
                assert!(retry);
                busy += 1;
            }
        }
        assert!(busy > 0, "with one hashing slot, 60 simultaneous logins must overflow");
    }
);

db_test!(totp_second_factor_for_admins, |t| {
    region(&t).await;
    let c = signed_in(&t, "s1-admin").await;
    let token = csrf(&t, &c).await;
    let page =
        c.post(t.url("/account/totp/start")).form(&[("_csrf", token.as_str())]).send().await.unwrap().text().await.unwrap();
    let marker = "data-testid=\"totp-secret\">";
    let start = page.find(marker).unwrap() + marker.len();
    let secret = page[start..start + page[start..].find('<').unwrap()].to_string();
    let code = directory::accounts::totp::code_at(&secret, kernel::now()).unwrap();
    let r =
        c.post(t.url("/account/totp/confirm")).form(&[("_csrf", token.as_str()), ("code", code.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // A new login now needs the code before anything else.
    let d = t.client();
    let body: Value = login(&t, &d, "s1-admin", PASSWORD).await.json().await.unwrap();
    assert_eq!(body["second_factor_required"], true);
    assert_eq!(d.get(t.url("/api/v1/me")).send().await.unwrap().status(), 401);
    assert_eq!(d.post(t.url("/api/v1/auth/totp")).json(&json!({ "code": "000000" })).send().await.unwrap().status(), 422);
    let code = directory::accounts::totp::code_at(&secret, kernel::now()).unwrap();
    assert_eq!(d.post(t.url("/api/v1/auth/totp")).json(&json!({ "code": code })).send().await.unwrap().status(), 200);
    assert_eq!(d.get(t.url("/api/v1/me")).send().await.unwrap().status(), 200);
    let _ = fixture::PASSWORD;
});
