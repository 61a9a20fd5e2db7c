use crate::fixture::{PASSWORD, region, signed_in};
use crate::harness::db_test;
use serde_json::{Value, json};

db_test!(logins_and_admin_writes_are_audited_per_scope, |t| {
    let r = region(&t).await;
    let fail = t
        .client()
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({ "login": "s1-admin", "password": "wrong-wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(fail.status(), 401);
    let s1 = signed_in(&t, "s1-admin").await;
    let body = json!({ "name": "东区第一小学", "code": "2142990101", "school_type": "211", "urban_rural": "112" });
    assert_eq!(s1.patch(t.url(&format!("/api/v1/org-units/{}", r.s1))).json(&body).send().await.unwrap().status(), 200);
    let auditor = signed_in(&t, "auditor").await;
    let log: Value = auditor.get(t.url("/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let entries = log["entries"].as_array().unwrap();
    let update = entries.iter().find(|e| e["action"] == "org_unit_update").expect("the update is audited");
    assert!(update["before_json"].as_str().unwrap().contains("东区一小"));
    assert!(update["after_json"].as_str().unwrap().contains("东区第一小学"));
    assert!(entries.iter().any(|e| e["action"] == "login" && e["outcome"] == "failure"));
    assert!(entries.iter().any(|e| e["action"] == "login" && e["outcome"] == "success"));
    let failures: Value = auditor.get(t.url("/api/v1/audit?outcome=failure")).send().await.unwrap().json().await.unwrap();
    assert!(failures["entries"].as_array().unwrap().iter().all(|e| e["outcome"] == "failure"));
    // The west school's admin sees none of the east school's entries.
    let west = signed_in(&t, "s3-admin").await;
    let theirs: Value = west.get(t.url("/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    assert!(theirs["entries"].as_array().unwrap().iter().all(|e| e["actor_name"] != "一小管理员"));
    // Teachers are no auditors.
    let teacher = signed_in(&t, "teacher").await;
    assert_eq!(teacher.get(t.url("/api/v1/audit")).send().await.unwrap().status(), 403);
    let _ = PASSWORD;
});

db_test!(retention_purges_old_entries_only, |t| {
    region(&t).await;
    signed_in(&t, "teacher").await;
    t.app.db.execute(kernel::db::sql("UPDATE audit_log SET at = at - 200 * 86400 WHERE action = 'login'")).await.unwrap();
    signed_in(&t, "head").await;
    let purged = kernel::audit::purge(&t.app.db, 180).await.unwrap();
    assert_eq!(purged, 1);
    let (left,): (i64,) = t.app.db.fetch_one(kernel::db::sql("SELECT COUNT(*) FROM audit_log")).await.unwrap();
    assert_eq!(left, 1);
});
