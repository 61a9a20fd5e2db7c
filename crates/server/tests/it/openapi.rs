//! The OpenAPI document is a public contract: a snapshot shows every change to it in review, and
//! every documented operation must be routed.
//! Update the snapshot with `HANLIN_TEST_UPDATE_SNAPSHOTS=1 cargo nextest run -p server openapi`.

use crate::harness::{Backend, TestApp};
use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[tokio::test]
async fn openapi_document_matches_snapshot() {
    let t = TestApp::start(Backend::Sqlite).await.unwrap();
    let doc: Value = t.client().get(t.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("HANLIN_TEST_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let expected = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(pretty == expected, "the OpenAPI document changed; review it and update the snapshot (see this file's header)");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let t = TestApp::start(Backend::Sqlite).await.unwrap();
    let doc: Value = t.client().get(t.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/me") && paths.contains_key("/api/v1/auth/login"));
    let c = t.client();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = t.url(&path.replace("{id}", "1"));
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c.request(m, url).header("content-type", "application/json").body("{}").send().await.unwrap();
            // Anonymous calls reach the handler (401, or 422 for the login body), never the 404 fallback.
            assert_ne!(r.status(), 404, "{method} {path} is documented but not routed");
        }
    }
}
