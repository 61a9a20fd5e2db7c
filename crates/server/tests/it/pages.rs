use crate::fixture::{PASSWORD, csrf, region, signed_in};
use crate::harness::db_test;

db_test!(pages_speak_chinese_first_and_switch_language, |t| {
    region(&t).await;
    let c = t.client();
    let login = c.get(t.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let csp = login.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = login.text().await.unwrap();
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("登录"));
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + 43].to_string();
    let switched =
        c.post(t.url("/language")).form(&[("_csrf", token.as_str()), ("locale", "en"), ("back", "/login")]).send().await.unwrap();
    assert_eq!(switched.status(), 303);
    let html = c.get(t.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Sign in"));
    let off_site = c
        .post(t.url("/language"))
        .form(&[("_csrf", token.as_str()), ("locale", "en"), ("back", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(off_site.headers().get("location").unwrap(), "/", "never redirects off site");
});

db_test!(the_login_form_signs_in_and_shows_failures, |t| {
    region(&t).await;
    let c = t.client();
    let html = c.get(t.url("/login?next=/account")).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + 43].to_string();
    let wrong = c
        .post(t.url("/login"))
        .form(&[("_csrf", token.as_str()), ("login", "teacher"), ("password", "nope"), ("next", "/account")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("账号或密码不正确"));
    let ok = c
        .post(t.url("/login"))
        .form(&[("_csrf", token.as_str()), ("login", "teacher"), ("password", PASSWORD), ("next", "/account")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers().get("location").unwrap(), "/account");
    let missing_csrf =
        t.client().post(t.url("/login")).form(&[("login", "teacher"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(missing_csrf.status(), 403);
});

db_test!(each_role_gets_its_home_page, |t| {
    region(&t).await;
    for (login, expect) in [
        ("city-admin", "data-testid=\"home-units\""),
        ("d1-admin", "东区一小"),
        ("s1-admin", "data-testid=\"home-counts\""),
        ("teacher", "data-testid=\"home-classes\""),
        ("student", "data-testid=\"home-classes\""),
        ("parent", "张小明"),
        ("auditor", "href=\"/audit\""),
    ] {
        let c = signed_in(&t, login).await;
        let html = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(expect), "{login}: {expect}");
    }
    let teacher = signed_in(&t, "teacher").await;
    let html = teacher.get(t.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(
        !html.contains("href=\"/audit\"") && !html.contains("href=\"/people\""),
        "a teacher's navigation has no admin entries"
    );
});

db_test!(every_navigation_entry_opens_for_the_roles_that_see_it, |t| {
    region(&t).await;
    for login in ["city-admin", "d1-admin", "auditor", "s1-admin", "teacher", "head", "student", "parent"] {
        let c = signed_in(&t, login).await;
        let home = c.get(t.url("/")).send().await.unwrap().text().await.unwrap();
        let nav = &home[home.find("<nav id=\"nav\"").unwrap()..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        let links: Vec<&str> = nav.split("<li><a href=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
        assert!(links.len() >= 3, "{login}: {links:?}");
        for link in links {
            let mut r = c.get(t.url(link)).send().await.unwrap();
            // An entry may lead on to the page it stands for (/org to the actor's own unit).
            if r.status() == 303 {
                let to = r.headers()["location"].to_str().unwrap().to_string();
                assert!(to.starts_with('/'), "{login}: {link} leads off the site to {to}");
                r = c.get(t.url(&to)).send().await.unwrap();
            }
            let status = r.status();
            let page = r.text().await.unwrap();
            assert!(status == 200 && page.contains("<nav id=\"nav\""), "{login}: {link} answered {status}");
        }
    }
});

db_test!(anonymous_visitors_go_to_login_and_strangers_are_refused, |t| {
    let r = region(&t).await;
    let anon = t.client().get(t.url(&format!("/org/{}", r.s3))).send().await.unwrap();
    assert_eq!(anon.status(), 303);
    assert!(anon.headers().get("location").unwrap().to_str().unwrap().starts_with("/login?next="));
    let d1 = signed_in(&t, "d1-admin").await;
    let refused = d1.get(t.url(&format!("/org/{}", r.s3))).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let html = refused.text().await.unwrap();
    assert!(html.contains("data-testid=\"error-page\"") && !html.contains("西区一小"));
    let missing = d1.get(t.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("data-testid=\"error-page\""));
    let token = csrf(&t, &d1).await;
    assert_eq!(token.len(), 43);
});

db_test!(health_readiness_and_metrics, |t| {
    let c = t.client();
    assert_eq!(c.get(t.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(t.url("/readyz")).send().await.unwrap().status(), 200);
    t.app.set_ready(false);
    assert_eq!(c.get(t.url("/readyz")).send().await.unwrap().status(), 503);
    assert_eq!(c.get(t.url("/login")).send().await.unwrap().status(), 503);
    t.app.set_ready(true);
    assert_eq!(c.get(t.url("/metrics")).send().await.unwrap().status(), 200);
});

db_test!(a_school_admin_adds_a_student_with_the_form, |t| {
    let r = region(&t).await;
    let c = signed_in(&t, "s1-admin").await;
    let token = csrf(&t, &c).await;
    let a1 = r.a1.to_string();
    let form = [
        ("_csrf", token.as_str()),
        ("role", "student"),
        ("name", "孙小美"),
        ("gender", "female"),
        ("class_id", a1.as_str()),
        ("student_number", "G420000000000000077"),
        ("staff_number", ""),
        ("phone", ""),
        ("login", ""),
    ];
    let created = c.post(t.url(&format!("/org/{}/people", r.s1))).form(&form).send().await.unwrap();
    assert_eq!(created.status(), 303);
    assert!(created.headers().get("location").unwrap().to_str().unwrap().starts_with("/people/"));
    let again = c.post(t.url(&format!("/org/{}/people", r.s1))).form(&form).send().await.unwrap();
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("class=\"field-error\""), "the page shows the error beside the field");
    let no_class = [("_csrf", token.as_str()), ("role", "student"), ("name", "无班级"), ("class_id", "")];
    assert_eq!(c.post(t.url(&format!("/org/{}/people", r.s1))).form(&no_class).send().await.unwrap().status(), 422);
    let west = signed_in(&t, "s3-admin").await;
    let west_token = csrf(&t, &west).await;
    let mut stranger = form.to_vec();
    stranger[0] = ("_csrf", west_token.as_str());
    stranger[5] = ("student_number", "G420000000000000078");
    assert_eq!(west.post(t.url(&format!("/org/{}/people", r.s1))).form(&stranger).send().await.unwrap().status(), 403);
});
