use crate::fixture::{region, signed_in};
use crate::harness::db_test;
use serde_json::{Value, json};

db_test!(teachers_students_and_parents_see_their_own, |t| {
    let r = region(&t).await;
    let teacher = signed_in(&t, "teacher").await;
    assert_eq!(teacher.get(t.url(&format!("/api/v1/classes/{}", r.a1))).send().await.unwrap().status(), 200);
    assert_eq!(teacher.get(t.url(&format!("/api/v1/classes/{}", r.a2))).send().await.unwrap().status(), 403);
    assert_eq!(teacher.get(t.url(&format!("/api/v1/people/{}", r.student))).send().await.unwrap().status(), 200);
    assert_eq!(teacher.get(t.url(&format!("/api/v1/people/{}", r.other_student))).send().await.unwrap().status(), 403);
    assert_eq!(
        teacher.get(t.url(&format!("/api/v1/people/{}", r.parent))).send().await.unwrap().status(),
        200,
        "a student's parent"
    );
    let parent = signed_in(&t, "parent").await;
    let child: Value = parent.get(t.url(&format!("/api/v1/people/{}", r.student))).send().await.unwrap().json().await.unwrap();
    assert_eq!(child["person"]["name"], "张小明");
    assert!(child["person"].get("phone").is_none(), "phone numbers are never sent");
    assert_eq!(parent.get(t.url(&format!("/api/v1/people/{}", r.other_student))).send().await.unwrap().status(), 403);
    assert_eq!(parent.get(t.url(&format!("/api/v1/classes/{}", r.a1))).send().await.unwrap().status(), 200);
    // On the class's page only the pages the parent may open are links: the child's, not the teacher's.
    let page = parent.get(t.url(&format!("/classes/{}", r.a1))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("href=\"/people/{}\"", r.student)), "the child is a link");
    assert!(page.contains("王老师") && !page.contains(&format!("href=\"/people/{}\"", r.teacher)), "the teacher is not");
    let student = signed_in(&t, "student").await;
    assert_eq!(student.get(t.url(&format!("/api/v1/people/{}", r.other_student))).send().await.unwrap().status(), 403);
    assert_eq!(student.get(t.url("/api/v1/people")).send().await.unwrap().status(), 403);
    let west = signed_in(&t, "s3-admin").await;
    assert_eq!(west.get(t.url(&format!("/api/v1/people/{}", r.student))).send().await.unwrap().status(), 403);
    assert_eq!(west.get(t.url(&format!("/api/v1/classes/{}", r.a1))).send().await.unwrap().status(), 403);
});

db_test!(classes_are_created_in_scope_with_grades_from_entry_year, |t| {
    let r = region(&t).await;
    let year = directory::codes::school_year_of(kernel::today(480));
    let admin = signed_in(&t, "s1-admin").await;
    let created = admin
        .post(t.url(&format!("/api/v1/org-units/{}/classes", r.s1)))
        .json(&json!({ "stage": "primary", "entry_year": year - 3, "number": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let class: Value = admin.get(t.url(&format!("/api/v1/classes/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(class["grade"], 4);
    assert_eq!(class["name"], "四年级1班");
    let dup = admin
        .post(t.url(&format!("/api/v1/org-units/{}/classes", r.s1)))
        .json(&json!({ "stage": "primary", "entry_year": year - 3, "number": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 422);
    let wrong_stage = admin
        .post(t.url(&format!("/api/v1/org-units/{}/classes", r.s1)))
        .json(&json!({ "stage": "senior", "entry_year": year, "number": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_stage.status(), 422, "a primary school has no senior classes");
    let other = admin
        .post(t.url(&format!("/api/v1/org-units/{}/classes", r.s3)))
        .json(&json!({ "stage": "primary", "entry_year": year, "number": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
});

db_test!(a_student_who_changes_class_keeps_history, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let moved = admin
        .post(t.url(&format!("/api/v1/people/{}/class", r.student)))
        .json(&json!({ "class_id": r.a2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let person: Value = admin.get(t.url(&format!("/api/v1/people/{}", r.student))).send().await.unwrap().json().await.unwrap();
    let assignments = person["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 2, "the old class stays as history");
    assert!(assignments.iter().any(|a| a["class_id"] == r.a1 && !a["ends_on"].is_null()));
    assert!(assignments.iter().any(|a| a["class_id"] == r.a2 && a["ends_on"].is_null()));
    // The teacher of the old class no longer reaches the student.
    let teacher = signed_in(&t, "teacher").await;
    assert_eq!(teacher.get(t.url(&format!("/api/v1/people/{}", r.student))).send().await.unwrap().status(), 403);
    let west = signed_in(&t, "s3-admin").await;
    let refused =
        west.post(t.url(&format!("/api/v1/people/{}/class", r.student))).json(&json!({ "class_id": r.c1 })).send().await.unwrap();
    assert_eq!(refused.status(), 403);
});

db_test!(head_teachers_are_assigned_by_the_school, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let ok = admin
        .post(t.url(&format!("/api/v1/classes/{}/teachers", r.a1)))
        .json(&json!({ "person_id": r.teacher, "head": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let teacher = signed_in(&t, "teacher").await;
    let me: Value = teacher.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"]["role"], "head_teacher");
    assert_eq!(me["role"]["head_class_ids"], json!([r.a1]));
    let not_teacher = admin
        .post(t.url(&format!("/api/v1/classes/{}/teachers", r.a1)))
        .json(&json!({ "person_id": r.parent, "subject": "数学" }))
        .send()
        .await
        .unwrap();
    assert_eq!(not_teacher.status(), 422);
    let west = signed_in(&t, "s3-admin").await;
    let refused = west
        .post(t.url(&format!("/api/v1/classes/{}/teachers", r.a1)))
        .json(&json!({ "person_id": r.teacher, "subject": "数学" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
});

db_test!(admins_create_people_in_scope, |t| {
    let r = region(&t).await;
    let admin = signed_in(&t, "s1-admin").await;
    let body = json!({ "name": "新同学", "gender": "female", "student_number": "G420000000000000009", "role": "student", "unit_id": r.s1, "class_id": r.a1 });
    assert_eq!(admin.post(t.url("/api/v1/people")).json(&body).send().await.unwrap().status(), 201);
    let again = admin.post(t.url("/api/v1/people")).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 422);
    assert_eq!(again.json::<Value>().await.unwrap()["details"][0]["field"], "student_number");
    let west = json!({ "name": "外校", "role": "student", "unit_id": r.s3, "class_id": r.c1 });
    assert_eq!(admin.post(t.url("/api/v1/people")).json(&west).send().await.unwrap().status(), 403);
    let list: Value = admin.get(t.url("/api/v1/people?role=student")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = list["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"新同学") && !names.contains(&"钱小军"), "{names:?}");
});
