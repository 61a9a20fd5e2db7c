use crate::fixture::{region, signed_in};
use crate::harness::db_test;
use serde_json::{Value, json};

fn day(offset_days: i64) -> String {
    (kernel::today(480) + time::Duration::days(offset_days)).to_string()
}

db_test!(the_top_administrators_keep_the_calendar_and_grades_follow_it, |t| {
    let r = region(&t).await;
    let city = signed_in(&t, "city-admin").await;
    let grade_before = city.get(t.url(&format!("/api/v1/classes/{}", r.a1))).send().await.unwrap().json::<Value>().await.unwrap()
        ["grade"]
        .clone();
    // A school year that began over a year ago and still runs: grades count from its start.
    let year = json!({ "name": "长学年", "starts_on": day(-400), "ends_on": day(30) });
    let created = city.post(t.url("/api/v1/school-years")).json(&year).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let grade_after = city.get(t.url(&format!("/api/v1/classes/{}", r.a1))).send().await.unwrap().json::<Value>().await.unwrap()
        ["grade"]
        .clone();
    assert_eq!(grade_after.as_i64().unwrap(), grade_before.as_i64().unwrap() - 1);
    let overlap = city
        .post(t.url("/api/v1/school-years"))
        .json(&json!({ "name": "重叠", "starts_on": day(0), "ends_on": day(100) }))
        .send()
        .await
        .unwrap();
    assert_eq!(overlap.status(), 422);
    let bad = city
        .post(t.url("/api/v1/school-years"))
        .json(&json!({ "name": "错", "starts_on": "2026-13-01", "ends_on": day(100) }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["details"][0]["field"], "starts_on");
    let term = json!({ "name": "第一学期", "starts_on": day(-400), "ends_on": day(-200) });
    assert_eq!(city.post(t.url(&format!("/api/v1/school-years/{id}/terms"))).json(&term).send().await.unwrap().status(), 201);
    let outside = json!({ "name": "第二学期", "starts_on": day(-100), "ends_on": day(60) });
    assert_eq!(city.post(t.url(&format!("/api/v1/school-years/{id}/terms"))).json(&outside).send().await.unwrap().status(), 422);
    // A district administrator reads the calendar but does not change it.
    let d1 = signed_in(&t, "d1-admin").await;
    let list: Value = d1.get(t.url("/api/v1/school-years")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["school_years"][0]["terms"][0]["name"], "第一学期");
    let refused = d1
        .post(t.url("/api/v1/school-years"))
        .json(&json!({ "name": "x", "starts_on": day(400), "ends_on": day(700) }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
});
