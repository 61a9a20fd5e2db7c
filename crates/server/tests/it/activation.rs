//! Activation codes: issuing slips for a class, the first login with a code, and what voids a code.

use crate::fixture::{PASSWORD, Region, csrf, region, signed_in};
use crate::harness::{TestApp, db_test};
use kernel::auth::Role;
use kernel::db::sql;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a-brand-new-password";

/// The codes shown on a slips page.
fn codes_in(html: &str) -> Vec<String> {
    let marker = "data-testid=\"activation-code\">";
    html.match_indices(marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('<').unwrap()].to_string()
        })
        .collect()
}

fn form_csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Issues codes for a class with the slips form.
async fn issue(t: &TestApp, c: &reqwest::Client, class: i64, audience: &str, format: &str) -> reqwest::Response {
    let token = csrf(t, c).await;
    c.post(t.url(&format!("/classes/{class}/activation-slips")))
        .form(&[("_csrf", token.as_str()), ("audience", audience), ("format", format)])
        .send()
        .await
        .unwrap()
}

/// Issues codes for a class through the API; the codes by person id.
async fn api_codes(t: &TestApp, login: &str, class: i64, audience: &str) -> Vec<(i64, String)> {
    let c = signed_in(t, login).await;
    let r = c
        .post(t.url(&format!("/api/v1/classes/{class}/activation-codes")))
        .json(&json!({ "audience": audience }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["person_id"].as_i64().unwrap(), c["code"].as_str().unwrap().into()))
        .collect()
}

fn code_of(codes: &[(i64, String)], person: i64) -> String {
    codes.iter().find(|(p, _)| *p == person).map(|(_, c)| c.clone()).expect("a code for the person")
}

/// A visitor's first step on /activate: a fresh browser, its CSRF token and the answer.
async fn enter_code(t: &TestApp, account: &str, code: &str) -> (reqwest::Client, String, reqwest::Response) {
    let c = t.client();
    let page = c.get(t.url("/activate")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = form_csrf(&page.text().await.unwrap());
    let r = c
        .post(t.url("/activate"))
        .form(&[("_csrf", token.as_str()), ("account", account), ("activation_code", code)])
        .send()
        .await
        .unwrap();
    (c, token, r)
}

async fn set_password(
    t: &TestApp,
    c: &reqwest::Client,
    token: &str,
    account: &str,
    code: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    c.post(t.url("/activate/password"))
        .form(&[
            ("_csrf", token),
            ("account", account),
            ("activation_code", code),
            ("new_password", new),
            ("confirm_password", confirm),
        ])
        .send()
        .await
        .unwrap()
}

async fn api_login(t: &TestApp, login: &str, password: &str) -> u16 {
    let r = t.client().post(t.url("/api/v1/auth/login")).json(&json!({ "login": login, "password": password })).send().await;
    r.unwrap().status().as_u16()
}

/// A school admin of s2, which the fixture does not have.
async fn s2_admin(t: &TestApp, r: &Region) {
    let mut tx = t.app.db.begin().await.unwrap();
    let p = directory::people::model::NewPerson {
        name: "二中管理员".into(),
        login: Some("s2-admin".into()),
        password_hash: Some(directory::accounts::password::hash_blocking(PASSWORD)),
        ..Default::default()
    };
    let id = directory::people::store::create(&mut tx, &p).await.unwrap();
    directory::people::store::assign(&mut tx, id, Role::SchoolAdmin, r.s2, None, None, kernel::today(480)).await.unwrap();
    tx.commit().await.unwrap();
}

db_test!(a_head_teacher_prints_slips_for_the_own_class, |t| {
    let r = region(&t).await;
    let head = signed_in(&t, "head").await;
    let class_page = head.get(t.url(&format!("/classes/{}", r.a2))).send().await.unwrap().text().await.unwrap();
    assert!(class_page.contains("data-testid=\"issue-codes\""), "the head teacher sees the slips form");
    let page = issue(&t, &head, r.a2, "all", "page").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers().get("cache-control").unwrap(), "no-store");
    let html = page.text().await.unwrap();
    let codes = codes_in(&html);
    assert_eq!(codes.len(), 1, "one student in a2, without parents");
    assert!(codes[0].len() == 11 && codes[0].as_bytes()[5] == b'-', "{}", codes[0]);
    assert!(html.contains("赵小红") && html.contains("G420000000000000002") && html.contains("东区一小"));
    assert!(html.contains("/activate") && html.contains("作废"), "the address and the note that printing again voids these");

    let xlsx = issue(&t, &head, r.a2, "students", "xlsx").await;
    assert_eq!(xlsx.status(), 200);
    assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let disposition = xlsx.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''%E6%BF%80%E6%B4%BB%E7%A0%81-"),
        "{disposition}"
    );
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");

    // A school admin prints for students and parents: each parent's slip names the child and
    // shows the phone masked.
    t.app.db.execute(sql("UPDATE people SET phone = '13800001234' WHERE id = $1").bind(r.parent)).await.unwrap();
    let admin = signed_in(&t, "s1-admin").await;
    let html = issue(&t, &admin, r.a1, "all", "page").await.text().await.unwrap();
    assert_eq!(codes_in(&html).len(), 2);
    assert!(html.contains("张小明的家长") && html.contains("138****1234") && !html.contains("13800001234"));
    let teacher_page = signed_in(&t, "teacher").await.get(t.url(&format!("/classes/{}", r.a1))).send().await.unwrap();
    assert!(!teacher_page.text().await.unwrap().contains("issue-codes"), "a subject teacher does not");
});

db_test!(only_the_head_teacher_and_admins_over_the_school_issue_codes, |t| {
    let r = region(&t).await;
    s2_admin(&t, &r).await;
    for login in ["teacher", "head", "s2-admin", "d2-admin", "s3-admin", "student", "parent", "auditor"] {
        let c = signed_in(&t, login).await;
        assert_eq!(issue(&t, &c, r.a1, "all", "page").await.status(), 403, "{login} prints slips for a1 of s1");
        let api = c
            .post(t.url(&format!("/api/v1/classes/{}/activation-codes", r.a1)))
            .json(&json!({ "audience": "all" }))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 403, "{login} issues codes for a1 through the API");
    }
    // Signing in above activated the student's account (a first sign-in counts); make it pending again.
    t.app.db.execute(sql("UPDATE people SET activated_at = NULL WHERE id = $1").bind(r.student)).await.unwrap();
    for login in ["s1-admin", "d1-admin", "city-admin"] {
        assert_eq!(api_codes(&t, login, r.a1, "students").await.len(), 1, "{login}");
    }
    let bad = signed_in(&t, "s1-admin")
        .await
        .post(t.url(&format!("/api/v1/classes/{}/activation-codes", r.a1)))
        .json(&json!({ "audience": "teachers" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
});

db_test!(a_student_activates_with_the_code_and_signs_in, |t| {
    let r = region(&t).await;
    let codes = api_codes(&t, "s1-admin", r.a1, "all").await;
    let code = code_of(&codes, r.student);
    let login_page = t.client().get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(login_page.contains("href=\"/activate\"") && login_page.contains("激活账号"), "the login page links to activation");
    // Typed carelessly: lower case, no dash, the student number in lower case.
    let typed = code.replace('-', "").to_lowercase();
    let (c, token, step) = enter_code(&t, "g420000000000000001", &typed).await;
    assert_eq!(step.status(), 200);
    let html = step.text().await.unwrap();
    assert!(html.contains("张小明") && html.contains("action=\"/activate/password\""));
    let short = set_password(&t, &c, &token, "g420000000000000001", &typed, "short", "short").await;
    assert_eq!(short.status(), 422, "the password policy applies");
    let mismatch = set_password(&t, &c, &token, "g420000000000000001", &typed, NEW_PASSWORD, "something-else-entirely").await;
    assert_eq!(mismatch.status(), 422);
    assert!(mismatch.text().await.unwrap().contains("两次输入的新密码不一致"));
    let done = set_password(&t, &c, &token, "g420000000000000001", &typed, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/");
    let me: Value = c.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], r.student, "signed in");
    assert_eq!(api_login(&t, "student", NEW_PASSWORD).await, 200);
    assert_eq!(api_login(&t, "student", PASSWORD).await, 401, "the old password is gone");

    let (activated_at,): (Option<i64>,) =
        t.app.db.fetch_one(sql("SELECT activated_at FROM people WHERE id = $1").bind(r.student)).await.unwrap();
    assert!(activated_at.is_some());
    let (activated,): (i64,) =
        t.app.db.fetch_one(sql("SELECT activated FROM school_roster_counts WHERE school_id = $1").bind(r.s1)).await.unwrap();
    assert_eq!(activated, 1);
    let (entries,): (i64,) = t
        .app
        .db
        .fetch_one(
            sql("SELECT COUNT(*) FROM audit_log WHERE action = 'account_activate' AND outcome = 'success' AND actor_id = $1")
                .bind(r.student),
        )
        .await
        .unwrap();
    assert_eq!(entries, 1);

    let (_, _, again) = enter_code(&t, "G420000000000000001", &code).await;
    assert_eq!(again.status(), 422, "a code works once");
    assert!(again.text().await.unwrap().contains("账号或激活码不正确"));
    let reissued = signed_in(&t, "s1-admin")
        .await
        .post(t.url(&format!("/api/v1/classes/{}/activation-codes", r.a1)))
        .json(&json!({ "audience": "all" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(reissued["skipped"], 1, "the activated student gets no new code");
    assert_eq!(reissued["codes"].as_array().unwrap().len(), 1, "their parent still does");

    // The parent activates with the whole phone number, though the slip shows it masked.
    t.app.db.execute(sql("UPDATE people SET phone = '13800001234' WHERE id = $1").bind(r.parent)).await.unwrap();
    let parent_code = reissued["codes"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(reissued["codes"][0]["role"], "parent");
    let (c, token, step) = enter_code(&t, "13800001234", &parent_code).await;
    assert_eq!(step.status(), 200);
    assert_eq!(set_password(&t, &c, &token, "13800001234", &parent_code, NEW_PASSWORD, NEW_PASSWORD).await.status(), 303);
    let (activated,): (i64,) =
        t.app.db.fetch_one(sql("SELECT activated FROM school_roster_counts WHERE school_id = $1").bind(r.s1)).await.unwrap();
    assert_eq!(activated, 2);
});

db_test!(regenerating_voids_the_old_code_and_expired_codes_fail, |t| {
    let r = region(&t).await;
    let first = code_of(&api_codes(&t, "s1-admin", r.a1, "students").await, r.student);
    let second = code_of(&api_codes(&t, "head", r.a2, "students").await, r.other_student);
    let third = code_of(&api_codes(&t, "s1-admin", r.a1, "students").await, r.student);
    assert_ne!(first, third);
    assert_eq!(enter_code(&t, "student", &first).await.2.status(), 422, "the earlier code is void");
    assert_eq!(enter_code(&t, "student2", &third).await.2.status(), 422, "a code belongs to its own account");
    assert_eq!(enter_code(&t, "student", &third).await.2.status(), 200);

    t.app.db.execute(sql("UPDATE activation_codes SET expires_at = $1").bind(kernel::now() - 60)).await.unwrap();
    assert_eq!(enter_code(&t, "student", &third).await.2.status(), 422, "expired");
    assert_eq!(enter_code(&t, "student2", &second).await.2.status(), 422, "expired");

    // An admin makes one person a new code from the person's page.
    let admin = signed_in(&t, "s1-admin").await;
    let person_page = admin.get(t.url(&format!("/people/{}", r.student))).send().await.unwrap().text().await.unwrap();
    assert!(person_page.contains("data-testid=\"issue-code\""));
    let token = csrf(&t, &admin).await;
    let page = admin
        .post(t.url(&format!("/people/{}/activation-code", r.student)))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let codes = codes_in(&page.text().await.unwrap());
    assert_eq!(codes.len(), 1);
    assert_eq!(enter_code(&t, "G420000000000000001", &codes[0]).await.2.status(), 200);
    let head = signed_in(&t, "head").await;
    let token = csrf(&t, &head).await;
    let refused = head
        .post(t.url(&format!("/people/{}/activation-code", r.other_student)))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "one person's code is an admin's task");
});

db_test!(wrong_codes_lock_the_account_like_wrong_passwords, |t| {
    let r = region(&t).await;
    let code = code_of(&api_codes(&t, "s1-admin", r.a1, "students").await, r.student);
    let (_, _, empty) = enter_code(&t, "G420000000000000001", " ").await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("请填写“激活码”"), "a missing field is named, and is no attempt");
    for _ in 0..5 {
        let (_, _, wrong) = enter_code(&t, "G420000000000000001", "ABCDE-FGHJK").await;
        assert_eq!(wrong.status(), 422);
    }
    let (_, _, locked) = enter_code(&t, "G420000000000000001", &code).await;
    assert_eq!(locked.status(), 429, "locked even with the right code");
    assert!(locked.text().await.unwrap().contains("分钟后再试"));
    assert_eq!(api_login(&t, "G420000000000000001", PASSWORD).await, 429, "the same lock as password logins");
});
