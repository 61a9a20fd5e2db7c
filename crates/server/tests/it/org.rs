use crate::fixture::{csrf, region, signed_in};
use crate::harness::db_test;
use serde_json::{Value, json};

db_test!(a_district_admin_sees_their_district_only, |t| {
    let r = region(&t).await;
    let c = signed_in(&t, "d1-admin").await;
    let own: Value = c.get(t.url(&format!("/api/v1/org-units/{}", r.s1))).send().await.unwrap().json().await.unwrap();
    assert_eq!(own["name"], "东区一小");
    assert_eq!(own["counts"]["students"], 2);
    for id in [r.s3, r.d2, r.city] {
        let other = c.get(t.url(&format!("/api/v1/org-units/{id}"))).send().await.unwrap();
        assert!(other.status() == 403 || other.status() == 404, "{id}: {}", other.status());
        let body = other.text().await.unwrap();
        assert!(!body.contains("西区一小"), "no data of another district leaks");
    }
    let children: Value =
        c.get(t.url(&format!("/api/v1/org-units/{}/children", r.d1))).send().await.unwrap().json().await.unwrap();
    assert_eq!(children["children"].as_array().unwrap().len(), 2);
    assert_eq!(c.get(t.url(&format!("/api/v1/org-units/{}/children", r.d2))).send().await.unwrap().status(), 403);
    assert_eq!(c.get(t.url("/api/v1/org-units/999999")).send().await.unwrap().status(), 404);
});

db_test!(school_admins_and_teachers_cannot_manage_units, |t| {
    let r = region(&t).await;
    let body = json!({ "name": "新名字", "code": "2142990101", "school_type": "211", "urban_rural": "111" });
    let admin = signed_in(&t, "s1-admin").await;
    assert_eq!(admin.patch(t.url(&format!("/api/v1/org-units/{}", r.s1))).json(&body).send().await.unwrap().status(), 200);
    assert_eq!(admin.patch(t.url(&format!("/api/v1/org-units/{}", r.s3))).json(&body).send().await.unwrap().status(), 403);
    let teacher = signed_in(&t, "teacher").await;
    assert_eq!(teacher.patch(t.url(&format!("/api/v1/org-units/{}", r.s1))).json(&body).send().await.unwrap().status(), 403);
    assert_eq!(teacher.get(t.url(&format!("/api/v1/org-units/{}", r.s1))).send().await.unwrap().status(), 200);
    assert_eq!(teacher.get(t.url(&format!("/api/v1/org-units/{}", r.s2))).send().await.unwrap().status(), 403);
});

db_test!(units_are_validated_and_codes_unique, |t| {
    let r = region(&t).await;
    let c = signed_in(&t, "d1-admin").await;
    let bad = c
        .post(t.url("/api/v1/org-units"))
        .header("accept-language", "en")
        .json(&json!({ "parent_id": r.d1, "kind": "school", "name": "三小", "code": "12345", "school_type": "999", "urban_rural": "111" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"code") && fields.contains(&"school_type"), "{body}");
    let dup = c
        .post(t.url("/api/v1/org-units"))
        .json(&json!({ "parent_id": r.d1, "kind": "school", "name": "三小", "code": "2142990201", "school_type": "211", "urban_rural": "111" }))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 422, "the code of a school in another district is taken");
    let body: Value = dup.json().await.unwrap();
    assert_eq!(body["details"][0]["field"], "code");
    let wrong_place = c
        .post(t.url("/api/v1/org-units"))
        .json(&json!({ "parent_id": r.s1, "kind": "district", "name": "错区", "code": "429909" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_place.status(), 422);
    let html = c
        .post(t.url("/api/v1/org-units"))
        .json(&json!({ "parent_id": r.d1, "kind": "school", "name": "<script>alert(1)</script>", "code": "2142990103", "school_type": "211", "urban_rural": "111" }))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 201);
    let id = html.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let page = c.get(t.url(&format!("/org/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        !page.contains("<script>alert(1)</script>") && (page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;")),
        "names are escaped"
    );
    // Nothing of a refused write is left behind.
    let (n,): (i64,) = t.app.db.fetch_one(kernel::db::sql("SELECT COUNT(*) FROM org_units WHERE name = '三小'")).await.unwrap();
    assert_eq!(n, 0);
});

db_test!(moving_a_school_moves_everything_under_it, |t| {
    let r = region(&t).await;
    let d1 = signed_in(&t, "d1-admin").await;
    let refused =
        d1.post(t.url(&format!("/api/v1/org-units/{}/move", r.s2))).json(&json!({ "parent_id": r.d2 })).send().await.unwrap();
    assert_eq!(refused.status(), 403, "a district admin cannot move a school out of their district");
    let city = signed_in(&t, "city-admin").await;
    let moved =
        city.post(t.url(&format!("/api/v1/org-units/{}/move", r.s1))).json(&json!({ "parent_id": r.d2 })).send().await.unwrap();
    assert_eq!(moved.status(), 200);
    let d2_counts: Value = city.get(t.url(&format!("/api/v1/org-units/{}", r.d2))).send().await.unwrap().json().await.unwrap();
    assert_eq!(d2_counts["counts"]["schools"], 2);
    assert_eq!(d2_counts["counts"]["students"], 3);
    // The school's people follow: the east admin loses it, the west admin gains it.
    t.app.actors.forget_person(0);
    assert_eq!(d1.get(t.url(&format!("/api/v1/org-units/{}", r.s1))).send().await.unwrap().status(), 403);
    let d2 = signed_in(&t, "d2-admin").await;
    assert_eq!(d2.get(t.url(&format!("/api/v1/org-units/{}", r.s1))).send().await.unwrap().status(), 200);
    let into_self =
        city.post(t.url(&format!("/api/v1/org-units/{}/move", r.d2))).json(&json!({ "parent_id": r.s1 })).send().await.unwrap();
    assert_eq!(into_self.status(), 422);
});

db_test!(forms_need_their_csrf_token, |t| {
    let r = region(&t).await;
    let c = signed_in(&t, "s1-admin").await;
    let form = [("name", "改过的名字"), ("code", "2142990101"), ("school_type", "211"), ("urban_rural", "111")];
    let without = c.post(t.url(&format!("/org/{}/edit", r.s1))).form(&form).send().await.unwrap();
    assert_eq!(without.status(), 403);
    let token = csrf(&t, &c).await;
    let mut with = form.to_vec();
    with.push(("_csrf", token.as_str()));
    let ok = c.post(t.url(&format!("/org/{}/edit", r.s1))).form(&with).send().await.unwrap();
    assert_eq!(ok.status(), 303);
    let other = c.post(t.url(&format!("/org/{}/edit", r.s3))).form(&with).send().await.unwrap();
    assert_eq!(other.status(), 403, "a neighbouring school is refused");
});

db_test!(school_roster_counts_are_recomputed_per_school_from_the_roster, |t| {
    let r = region(&t).await;
    let figures = |school: i64| {
        let db = t.app.db.clone();
        async move {
            let row: (i64, i64, i64, i64, i64, i64, i64) = db
                .fetch_one(
                    kernel::db::sql(
                        "SELECT teachers, students, students_placed, parents, administrative_classes, accounts, activated \
                         FROM school_roster_counts WHERE school_id = $1",
                    )
                    .bind(school),
                )
                .await
                .unwrap();
            row
        }
    };
    // s1: two teachers (one also head teacher), two placed students, one parent, two current
    // administrative classes; five active accounts, none activated yet. s2 has only a class.
    assert_eq!(figures(r.s1).await, (2, 2, 2, 1, 2, 5, 0));
    assert_eq!(figures(r.s2).await, (0, 0, 0, 0, 1, 0, 0));
    assert_eq!(figures(r.s3).await, (0, 1, 1, 0, 1, 1, 0));
    // A sign-in activates the parent's account: s1's figures follow, s3's do not move.
    signed_in(&t, "parent").await;
    assert_eq!(figures(r.s1).await, (2, 2, 2, 1, 2, 5, 1));
    assert_eq!(figures(r.s3).await, (0, 1, 1, 0, 1, 1, 0));
});

db_test!(role_assignments_and_guardianships_refuse_missing_references, |t| {
    let r = region(&t).await;
    let fk = |e: kernel::db::DbError| {
        assert!(matches!(e, kernel::db::DbError::Constraint { kind: kernel::db::ConstraintKind::ForeignKey, .. }), "{e:?}");
    };
    let assign = |person: i64, unit: i64, class: Option<i64>| {
        kernel::db::sql(
            "INSERT INTO role_assignments (person_id, role, unit_id, class_id, starts_on, created_at) \
             VALUES ($1, 'student', $2, $3, '2026-09-01', 0)",
        )
        .bind(person)
        .bind(unit)
        .bind(class)
    };
    let db = &t.app.db;
    db.execute(assign(r.student, r.s1, Some(r.a2))).await.expect("existing person, unit and class");
    let missing_person = db.execute(assign(999_999, r.s1, Some(r.a1))).await.unwrap_err();
    if db.dialect() == kernel::db::Dialect::Postgres {
        // Checked per statement by migration 0003's triggers, not by a per-row foreign key.
        assert_eq!(missing_person.constraint(), Some("role_assignments_references"));
    }
    fk(missing_person);
    fk(db.execute(assign(r.student, 999_999, None)).await.unwrap_err());
    fk(db.execute(assign(r.student, r.s1, Some(999_999))).await.unwrap_err());
    let update = kernel::db::sql("UPDATE role_assignments SET class_id = 999999 WHERE person_id = $1").bind(r.student);
    fk(db.execute(update).await.unwrap_err());
    let link = |parent: i64, student: i64| {
        kernel::db::sql("INSERT INTO guardianships (parent_id, student_id, relation, created_at) VALUES ($1, $2, 'mother', 0)")
            .bind(parent)
            .bind(student)
    };
    fk(db.execute(link(999_999, r.student)).await.unwrap_err());
    fk(db.execute(link(r.parent, 999_999)).await.unwrap_err());
    // Referenced rows cannot be deleted; nothing was half-written by the refused statements.
    fk(db.execute(kernel::db::sql("DELETE FROM people WHERE id = $1").bind(r.parent)).await.unwrap_err());
    fk(db.execute(kernel::db::sql("DELETE FROM classes WHERE id = $1").bind(r.a1)).await.unwrap_err());
    let (n,): (i64,) = db
        .fetch_one(kernel::db::sql("SELECT COUNT(*) FROM role_assignments WHERE person_id = $1").bind(r.student))
        .await
        .unwrap();
    assert_eq!(n, 2);
});
