//! Resumable uploads. A browser asks for an upload, sends its chunks (in any order, again after a
//! dropped connection or a reload: the chunks received are kept in the database), then completes
//! it. Completion streams the chunks, in order, through SHA-256 into one file; content already
//! stored under that hash is kept once. Quotas and the file type are checked before any byte is
//! stored, and the content is sniffed as soon as the first chunk arrives.

pub mod http;
pub mod store;

use crate::sniff::{self, Format, Refusal};
use bytes::Bytes;
use futures_util::StreamExt;
use kernel::auth::{Actor, Role};
use kernel::error::FieldError;
use kernel::storage::StorageError;
use kernel::{App, AppError};
use sha2::{Digest, Sha256};
use store::{Blob, NewUpload, UploadRow, Usage};

const MIB: i64 = 1024 * 1024;

/// People who add to the library: teaching and bureau staff, not students or parents.
pub fn may_contribute(actor: &Actor) -> bool {
    !matches!(actor.role, Role::Student | Role::Parent | Role::Auditor)
}

/// The state of an upload as the browser needs it to continue.
#[derive(Debug, serde::Serialize)]
pub struct UploadState {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
    pub chunk_size: i64,
    pub chunks: i64,
    pub received: Vec<i64>,
    pub status: String,
    pub format: Option<String>,
}

/// A file type refused, as a field error with the reason in the user's language.
pub fn refusal_error(field: &str, refusal: &Refusal) -> FieldError {
    match refusal {
        Refusal::Empty => FieldError::new(field, "library-error-empty"),
        Refusal::Executable => FieldError::new(field, "library-error-executable"),
        Refusal::UnknownExtension { extension } | Refusal::ActiveContent { extension } => {
            FieldError::new(field, "library-error-file-type").arg("extension", if extension.is_empty() { "—" } else { extension })
        }
        Refusal::Mismatch { declared, found } => {
            FieldError::new(field, "library-error-mismatch").arg("declared", declared).arg("found", found.unwrap_or("?"))
        }
    }
}

/// Refuses a file before any byte is stored: wrong name, empty, over the limit, or over a quota.
/// What each unit takes up, remembered for a minute: summing a whole school's files for every
/// hand-in at a deadline would cost more than the hand-in. Bytes admitted meanwhile are added, so
/// a burst of uploads cannot slip past the quota; deletions show within the minute.
#[derive(Default)]
pub struct UnitUsage {
    entries: std::sync::Mutex<std::collections::HashMap<i64, (std::time::Instant, i64)>>,
}

impl UnitUsage {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

    fn get(&self, unit_id: i64) -> Option<i64> {
        let entries = self.entries.lock().expect("lock poisoned");
        entries.get(&unit_id).filter(|(at, _)| at.elapsed() < Self::FRESH).map(|(_, bytes)| *bytes)
    }

    fn put(&self, unit_id: i64, bytes: i64) {
        self.entries.lock().expect("lock poisoned").insert(unit_id, (std::time::Instant::now(), bytes));
    }

    fn add(&self, unit_id: i64, bytes: i64) {
        if let Some(e) = self.entries.lock().expect("lock poisoned").get_mut(&unit_id) {
            e.1 += bytes;
        }
    }
}

async fn unit_usage(app: &App, unit_id: i64) -> Result<i64, kernel::db::DbError> {
    let cache = app.part::<UnitUsage>();
    if let Some(bytes) = cache.and_then(|c| c.get(unit_id)) {
        return Ok(bytes);
    }
    let bytes = store::usage(&app.db, Usage::Unit, unit_id).await?;
    if let Some(c) = cache {
        c.put(unit_id, bytes);
    }
    Ok(bytes)
}

/// Refuses `size` more bytes when they would take the person or their unit over its quota.
pub(crate) async fn admit_quota(app: &App, actor: &Actor, field: &str, size: i64) -> Result<(), AppError> {
    let limits = &app.config.library;
    let (mine, unit) = tokio::try_join!(store::usage(&app.db, Usage::Owner, actor.person_id), unit_usage(app, actor.unit_id))?;
    let user_quota = limits.user_quota_mb as i64 * MIB;
    if mine + size > user_quota {
        return Err(AppError::Invalid(vec![
            FieldError::new(field, "library-error-user-quota").arg("quota", limits.user_quota_mb).arg("used", mine / MIB),
        ]));
    }
    if unit + size > limits.unit_quota_mb as i64 * MIB {
        return Err(AppError::Invalid(vec![
            FieldError::new(field, "library-error-unit-quota").arg("quota", limits.unit_quota_mb),
        ]));
    }
    if let Some(c) = app.part::<UnitUsage>() {
        c.add(actor.unit_id, size);
    }
    Ok(())
}

async fn admit(app: &App, actor: &Actor, file_name: &str, size: i64) -> Result<(), AppError> {
    let name = file_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("file", "library-error-file-name"));
    }
    if size <= 0 {
        return Err(AppError::Invalid(vec![refusal_error("file", &Refusal::Empty)]));
    }
    // The name alone already rules out executables and unknown types.
    if let Err(r @ (Refusal::Executable | Refusal::UnknownExtension { .. } | Refusal::ActiveContent { .. })) =
        sniff::sniff(name, size as u64, b"")
    {
        return Err(AppError::Invalid(vec![refusal_error("file", &r)]));
    }
    let limits = &app.config.library;
    let max = limits.max_file_mb as i64 * MIB;
    if size > max {
        return Err(AppError::Invalid(vec![
            FieldError::new("file", "library-error-file-too-large").arg("max", limits.max_file_mb),
        ]));
    }
    admit_quota(app, actor, "file", size).await
}

/// Opens an upload of `size` bytes.
pub async fn start(app: &App, actor: &Actor, file_name: &str, size: i64) -> Result<UploadState, AppError> {
    if !may_contribute(actor) {
        return Err(AppError::Forbidden);
    }
    admit(app, actor, file_name, size).await?;
    let limits = &app.config.library;
    let chunk_size = limits.chunk_mb as i64 * MIB;
    let expires_at = kernel::now() + limits.upload_expiry_hours * 3600;
    let mut tx = app.db.begin().await?;
    let new = NewUpload {
        owner_id: actor.person_id,
        unit_id: actor.unit_id,
        file_name: file_name.trim(),
        size,
        chunk_size,
        expires_at,
    };
    let id = store::create(&mut tx, &new).await?;
    tx.commit().await?;
    state(app, actor, id).await
}

/// An upload of the actor's own; others' are not found, so ids cannot be probed.
async fn own(app: &App, actor: &Actor, id: i64) -> Result<UploadRow, AppError> {
    match store::upload(&app.db, id).await? {
        Some(u) if u.owner_id == actor.person_id => Ok(u),
        _ => Err(AppError::NotFound),
    }
}

pub async fn state(app: &App, actor: &Actor, id: i64) -> Result<UploadState, AppError> {
    let u = own(app, actor, id).await?;
    let received = store::received(&app.db, id).await?;
    let format = match &u.blob_sha256 {
        Some(sha) => store::blob(&app.db, sha).await?.map(|b| b.format),
        None => None,
    };
    Ok(UploadState {
        id,
        chunks: u.chunks(),
        file_name: u.file_name,
        size: u.size,
        chunk_size: u.chunk_size,
        received,
        status: u.status,
        format,
    })
}

fn chunk_key(upload_id: i64, idx: i64) -> String {
    format!("uploads/{upload_id}/{idx:06}")
}

/// The assembled file of an upload (on a local store, also where its chunks are written).
fn whole_key(upload_id: i64) -> String {
    format!("uploads/{upload_id}/whole")
}

pub(crate) fn blob_key(sha256: &str) -> String {
    format!("blobs/{}/{}/{sha256}", &sha256[..2], &sha256[2..4])
}

/// Stores chunk `idx`. `sha256` (hex), when the client sends it, must match the bytes: a chunk
/// damaged on the way is refused and sent again.
pub async fn put_chunk(
    app: &App,
    actor: &Actor,
    id: i64,
    idx: i64,
    body: Bytes,
    sha256: Option<&str>,
) -> Result<usize, AppError> {
    let u = own(app, actor, id).await?;
    if u.status != "receiving" {
        return Err(AppError::invalid("upload", "library-error-upload-closed"));
    }
    if idx < 0 || idx >= u.chunks() {
        return Err(AppError::invalid("chunk", "library-error-chunk-index"));
    }
    if body.len() as i64 != u.chunk_len(idx) {
        return Err(AppError::Invalid(vec![
            FieldError::new("chunk", "library-error-chunk-size").arg("expected", u.chunk_len(idx)).arg("got", body.len()),
        ]));
    }
    let digest = hex::encode(Sha256::digest(&body));
    if sha256.is_some_and(|s| !s.eq_ignore_ascii_case(&digest)) {
        return Err(AppError::invalid("chunk", "library-error-chunk-hash"));
    }
    if idx == 0 {
        // The first bytes tell the type: an executable or a mismatch is refused before it is kept.
        let head = &body[..body.len().min(sniff::HEAD_BYTES)];
        sniff::sniff(&u.file_name, u.size as u64, head).map_err(|r| AppError::Invalid(vec![refusal_error("file", &r)]))?;
    }
    if app.storage.writes_in_place() {
        // Straight into the final file at its offset: completing then only reads and hashes.
        let offset = (idx * u.chunk_size) as u64;
        app.storage.write_at(&whole_key(id), offset, body).await.map_err(storage_error)?;
    } else {
        app.storage.put(&chunk_key(id, idx), body).await.map_err(storage_error)?;
    }
    store::record_chunk(&app.db, id, idx, u.chunk_len(idx), &digest).await?;
    Ok(store::received(&app.db, id).await?.len())
}

pub(crate) fn storage_error(e: StorageError) -> AppError {
    tracing::error!(error = %e, "file storage failed");
    AppError::Unavailable
}

/// Joins the chunks into one stored file, once: a second call on a complete upload answers the same.
pub async fn complete(app: &App, actor: &Actor, id: i64) -> Result<Blob, AppError> {
    let u = own(app, actor, id).await?;
    if u.status == "complete" {
        let sha = u.blob_sha256.as_deref().unwrap_or_default();
        return store::blob(&app.db, sha).await?.ok_or(AppError::NotFound);
    }
    let received = store::received(&app.db, id).await?;
    if (received.len() as i64) < u.chunks() {
        return Err(AppError::Invalid(vec![
            FieldError::new("upload", "library-error-chunks-missing").arg("missing", u.chunks() - received.len() as i64),
        ]));
    }
    if !store::transition(&app.db, id, "receiving", "assembling").await? {
        return Err(AppError::invalid("upload", "library-error-upload-busy"));
    }
    let assembled = if app.storage.writes_in_place() { hash_in_place(app, &u).await } else { assemble(app, &u).await };
    match assembled {
        Ok(blob) => {
            store::complete(&app.db, id, &blob).await?;
            for idx in (0..u.chunks()).filter(|_| !app.storage.writes_in_place()) {
                if let Err(e) = app.storage.delete(&chunk_key(id, idx)).await {
                    tracing::warn!(error = %e, upload = id, "could not delete an upload chunk");
                }
            }
            Ok(blob)
        }
        Err(e) => {
            store::transition(&app.db, id, "assembling", "receiving").await?;
            Err(e)
        }
    }
}

/// Streams the chunks in order into `uploads/{id}/whole` while hashing them, then moves the file
/// under its hash unless that content is already stored.
async fn assemble(app: &App, u: &UploadRow) -> Result<Blob, AppError> {
    let whole = whole_key(u.id);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, StorageError>>(4);
    let storage = app.storage.clone();
    let (id, chunks) = (u.id, u.chunks());
    let reader = tokio::spawn(async move {
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
        for idx in 0..chunks {
            let mut body = match storage.get(&chunk_key(id, idx), None).await {
                Ok(d) => d.body,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return None;
                }
            };
            while let Some(part) = body.next().await {
                if let Ok(bytes) = &part {
                    hasher.update(bytes);
                    let room = sniff::HEAD_BYTES - head.len();
                    head.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                let failed = part.is_err();
                if tx.send(part).await.is_err() || failed {
                    return None;
                }
            }
        }
        Some((hex::encode(hasher.finalize()), head))
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let written = app.storage.put_stream(&whole, Box::pin(stream)).await.map_err(storage_error)?;
    let Some((sha256, head)) = reader.await.map_err(AppError::internal)? else {
        let _ = app.storage.delete(&whole).await;
        return Err(AppError::Unavailable);
    };
    if written != u.size as u64 {
        let _ = app.storage.delete(&whole).await;
        return Err(AppError::internal(format!("upload {} assembled {written} of {} bytes", u.id, u.size)));
    }
    let format = match sniff::sniff(&u.file_name, written, &head) {
        Ok(f) => f,
        Err(r) => {
            let _ = app.storage.delete(&whole).await;
            return Err(AppError::Invalid(vec![refusal_error("file", &r)]));
        }
    };
    keep(app, &whole, sha256, written, format).await
}

/// On a local store the chunks already make up the file: read it once to hash it and check its
/// type. A refused file stays where it is until the upload expires (its chunks are recorded).
async fn hash_in_place(app: &App, u: &UploadRow) -> Result<Blob, AppError> {
    let whole = whole_key(u.id);
    let state = std::sync::Arc::new(std::sync::Mutex::new((Sha256::new(), Vec::with_capacity(sniff::HEAD_BYTES))));
    let visiting = state.clone();
    let read = app
        .storage
        .scan(&whole, move |bytes| {
            let mut s = visiting.lock().expect("lock poisoned");
            s.0.update(bytes);
            let room = sniff::HEAD_BYTES - s.1.len();
            s.1.extend_from_slice(&bytes[..bytes.len().min(room)]);
        })
        .await
        .map_err(storage_error)?;
    let (hasher, head) = std::mem::take(&mut *state.lock().expect("lock poisoned"));
    if read != u.size as u64 {
        return Err(AppError::internal(format!("upload {} holds {read} of {} bytes", u.id, u.size)));
    }
    let format = sniff::sniff(&u.file_name, read, &head).map_err(|r| AppError::Invalid(vec![refusal_error("file", &r)]))?;
    keep(app, &whole, hex::encode(hasher.finalize()), read, format).await
}

/// Keeps the file at `staged` as the blob `sha256`, or drops it when that content is already stored.
async fn keep(app: &App, staged: &str, sha256: String, size: u64, format: Format) -> Result<Blob, AppError> {
    if let Some(existing) = store::blob(&app.db, &sha256).await? {
        app.storage.delete(staged).await.map_err(storage_error)?;
        return Ok(existing);
    }
    let key = blob_key(&sha256);
    app.storage.rename(staged, &key).await.map_err(storage_error)?;
    Ok(Blob { sha256, size: size as i64, format: format.id.to_string(), mime: format.mime.to_string(), storage_key: key })
}

/// Stores a whole file already on this machine (a form post without JavaScript, demo content) as
/// a complete upload, with the same checks as the chunked path.
pub async fn store_file(app: &App, actor: &Actor, file_name: &str, path: &std::path::Path) -> Result<(i64, Blob), AppError> {
    if !may_contribute(actor) {
        return Err(AppError::Forbidden);
    }
    let size = tokio::fs::metadata(path).await.map_err(AppError::internal)?.len() as i64;
    admit(app, actor, file_name, size).await?;
    let (sha256, head) = hash_file(path).await.map_err(AppError::internal)?;
    let format = sniff::sniff(file_name, size as u64, &head).map_err(|r| AppError::Invalid(vec![refusal_error("file", &r)]))?;
    let limits = &app.config.library;
    let mut tx = app.db.begin().await?;
    let new = NewUpload {
        owner_id: actor.person_id,
        unit_id: actor.unit_id,
        file_name: file_name.trim(),
        size,
        chunk_size: size,
        expires_at: kernel::now() + limits.upload_expiry_hours * 3600,
    };
    let id = store::create(&mut tx, &new).await?;
    tx.commit().await?;
    let blob = match store::blob(&app.db, &sha256).await? {
        Some(existing) => existing,
        None => {
            let staged = format!("uploads/{id}/whole");
            app.storage.put_file(&staged, path).await.map_err(storage_error)?;
            keep(app, &staged, sha256, size as u64, format).await?
        }
    };
    store::complete(&app.db, id, &blob).await?;
    Ok((id, blob))
}

async fn hash_file(path: &std::path::Path) -> std::io::Result<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if head.len() < sniff::HEAD_BYTES {
            head.extend_from_slice(&buf[..n.min(sniff::HEAD_BYTES - head.len())]);
        }
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), head))
}

/// Deletes expired uploads and their chunks, and releases uploads a dead process left assembling.
pub async fn housekeeping(app: &App) -> Result<u64, AppError> {
    store::release_stuck(&app.db, kernel::now() - 15 * 60).await?;
    let expired = store::expired(&app.db, kernel::now()).await?;
    for (id, _) in &expired {
        if let Some(u) = store::upload(&app.db, *id).await? {
            for idx in 0..u.chunks() {
                app.storage.delete(&chunk_key(*id, idx)).await.map_err(storage_error)?;
            }
            app.storage.delete(&whole_key(*id)).await.map_err(storage_error)?;
        }
        store::delete(&app.db, *id).await?;
    }
    Ok(expired.len() as u64)
}
