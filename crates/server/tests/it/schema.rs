//! Both dialects' schemas must match: same tables, columns, indexes and named constraints, because
//! constraint names are how database errors become messages.

use crate::harness::db_test;
use std::collections::BTreeSet;

#[derive(sqlx::FromRow)]
struct Name {
    name: String,
}

async fn sqlite_schema() -> BTreeSet<String> {
    let dir = std::env::temp_dir().join(format!("hanlin-schema-{}", kernel::secret::random_token(6)));
    let db = kernel::db::Db::open(&format!("sqlite://{}/s.db", dir.display())).await.unwrap();
    db.migrate().await.unwrap();
    let q = |s: &str| kernel::db::sql(s.to_string());
    let mut out = BTreeSet::new();
    for t in db
        .fetch_all::<Name>(q(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        ))
        .await
        .unwrap()
    {
        out.insert(format!("table {}", t.name));
        for c in
            db.fetch_all::<Name>(kernel::db::sql("SELECT name FROM pragma_table_info($1)").bind(t.name.as_str())).await.unwrap()
        {
            out.insert(format!("column {}.{}", t.name, c.name));
        }
    }
    for i in db
        .fetch_all::<Name>(q("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"))
        .await
        .unwrap()
    {
        out.insert(format!("index {}", i.name));
    }
    for s in db
        .fetch_all::<Name>(q("SELECT sql AS name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%CONSTRAINT%'"))
        .await
        .unwrap()
    {
        for part in s.name.split("CONSTRAINT ").skip(1) {
            out.insert(format!("constraint {}", part.split_whitespace().next().unwrap()));
        }
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
    out
}

async fn postgres_schema(url: &str) -> BTreeSet<String> {
    let db = kernel::db::Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let q = |s: &str| kernel::db::sql(s.to_string());
    let mut out = BTreeSet::new();
    for t in db.fetch_all::<Name>(q("SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'")).await.unwrap() {
        out.insert(format!("table {}", t.name));
    }
    for c in db
        .fetch_all::<Name>(q("SELECT (table_name || '.' || column_name)::text AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"))
        .await
        .unwrap()
    {
        out.insert(format!("column {}", c.name));
    }
    for i in db.fetch_all::<Name>(q("SELECT indexname::text AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND tablename NOT LIKE '_sqlx%'")).await.unwrap() {
        out.insert(format!("index {}", i.name));
    }
    for c in db
        .fetch_all::<Name>(q(
            "SELECT conname::text AS name FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
        ))
        .await
        .unwrap()
    {
        out.insert(format!("constraint {}", c.name));
    }
    db.close().await;
    out
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let Some(admin) = crate::harness::pg_admin_url() else {
        eprintln!("SKIPPED: schema comparison needs HANLIN_TEST_DATABASE_URL");
        return;
    };
    let lite = sqlite_schema().await;
    assert!(lite.contains("table org_units") && lite.contains("constraint org_units_kind_check"));
    let app = crate::harness::TestApp::start(crate::harness::Backend::Postgres).await.unwrap();
    let _ = admin;
    let pg = postgres_schema(&app.app.config.database_url()).await;
    let only_lite: Vec<_> = lite.difference(&pg).collect();
    let only_pg: Vec<_> = pg.difference(&lite).collect();
    assert!(only_lite.is_empty() && only_pg.is_empty(), "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}");
}

// `sql_in` binds a PostgreSQL array literal: quotes, backslashes, commas, braces and the word
// NULL must come back as themselves, and nulls in the list must match nothing.
db_test!(in_lists_match_awkward_strings_and_integers, |t| {
    use kernel::db::{Arg, sql_in};
    let db = &t.app.db;
    let words = ["say \"hi\"", "back\\slash", "comma,{brace}", "学校 二", "NULL", ""];
    let table = "WITH t(v, n) AS (VALUES ('say \"hi\"', 1), ('back\\slash', 2), ('comma,{brace}', 3), ('学校 二', 4), \
                 ('NULL', 5), ('', 6), ('other', 7)) SELECT CAST(n AS BIGINT) AS n FROM t WHERE";
    let mut found: Vec<(i64,)> = db.fetch_all(sql_in(db.dialect(), &format!("{table} v"), words)).await.unwrap();
    found.sort();
    assert_eq!(found, (1..=6).map(|n| (n,)).collect::<Vec<_>>());
    let found: Vec<(i64,)> = db.fetch_all(sql_in(db.dialect(), &format!("{table} n"), [Arg::Int(None), 7.into()])).await.unwrap();
    assert_eq!(found, vec![(7,)]);
    let none: Vec<(i64,)> = db.fetch_all(sql_in(db.dialect(), &format!("{table} v"), [Arg::Text(None)])).await.unwrap();
    assert!(none.is_empty());
    let none: Vec<(i64,)> = db.fetch_all(sql_in(db.dialect(), &format!("{table} n"), Vec::<i64>::new())).await.unwrap();
    assert!(none.is_empty());
});
