//! Files attached to homework, hand-ins and questions: small whole files sent with a form. They
//! pass the same checks as library uploads (a sensible name, content that is what its extension
//! says, the owner's and their unit's quota) and are stored once under their SHA-256. The caller
//! records an attachment inside its own transaction, so a hand-in and its photos commit together;
//! who may read one is the caller's rule, since only it knows what the file is attached to.

use crate::sniff;
use crate::uploads::store::{Blob, record_blob};
use crate::uploads::{admit_quota, blob_key, refusal_error, storage_error};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use kernel::auth::Actor;
use kernel::db::{Db, DbError, Tx, sql, sql_in};
use kernel::error::FieldError;
use kernel::{App, AppError};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub owner_id: i64,
    pub file_name: String,
    pub size: i64,
    pub format: String,
    pub mime: String,
    #[serde(skip)]
    pub blob_sha256: String,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        self.mime.starts_with("image/")
    }
}

/// A file sent with a form: its name and bytes.
pub struct File {
    pub name: String,
    pub bytes: Bytes,
}

/// The files of a form's field `field`.
pub fn files_of(form: kernel::upload::FilesForm, field: &str) -> Vec<File> {
    form.files.into_iter().filter(|f| f.field == field).map(|f| File { name: f.name, bytes: f.bytes }).collect()
}

/// Checks and stores the files sent as form field `field` (at most `classroom.max_attachments`);
/// nothing is recorded until the caller's transaction.
pub async fn store_all(app: &App, actor: &Actor, field: &str, files: Vec<File>) -> Result<Vec<Stored>, AppError> {
    let max = app.config.classroom.max_attachments;
    if files.len() > max {
        return Err(AppError::Invalid(vec![FieldError::new(field, "error-too-many-files").arg("max", max)]));
    }
    let mut stored = Vec::with_capacity(files.len());
    for f in files {
        stored.push(store(app, actor, field, &f.name, f.bytes).await?);
    }
    Ok(stored)
}

/// A file that passed the checks and is in storage, waiting to be recorded.
#[derive(Debug, Clone)]
pub struct Stored {
    file_name: String,
    blob: Blob,
}

/// Checks one file sent as form field `field` and puts its content in storage. Content already
/// stored is kept once. Nothing is recorded yet: see [`record`].
pub async fn store(app: &App, actor: &Actor, field: &str, file_name: &str, bytes: Bytes) -> Result<Stored, AppError> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(field, "library-error-file-name"));
    }
    let max_mb = app.config.classroom.max_attachment_mb;
    if bytes.len() as u64 > max_mb * 1024 * 1024 {
        return Err(AppError::Invalid(vec![FieldError::new(field, "library-error-file-too-large").arg("max", max_mb)]));
    }
    let head = &bytes[..bytes.len().min(sniff::HEAD_BYTES)];
    let format = sniff::sniff(name, bytes.len() as u64, head).map_err(|r| AppError::Invalid(vec![refusal_error(field, &r)]))?;
    admit_quota(app, actor, field, bytes.len() as i64).await?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let blob = match crate::uploads::store::blob(&app.db, &sha256).await? {
        Some(existing) => existing,
        None => {
            let key = blob_key(&sha256);
            let size = bytes.len() as i64;
            app.storage.put(&key, bytes).await.map_err(storage_error)?;
            Blob { sha256, size, format: format.id.to_string(), mime: format.mime.to_string(), storage_key: key }
        }
    };
    Ok(Stored { file_name: name.to_string(), blob })
}

impl Stored {
    /// The attachment this file becomes once recorded as `id` of `owner_id`, without reading it back.
    pub fn as_attachment(&self, id: i64, owner_id: i64) -> Attachment {
        Attachment {
            id,
            owner_id,
            file_name: self.file_name.clone(),
            size: self.blob.size,
            format: self.blob.format.clone(),
            mime: self.blob.mime.clone(),
            blob_sha256: self.blob.sha256.clone(),
        }
    }
}

/// Records a stored file as the actor's attachment, in the caller's transaction.
pub async fn record(tx: &mut Tx, actor: &Actor, stored: &Stored) -> Result<i64, DbError> {
    record_blob(tx, &stored.blob).await?;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO attachments (owner_id, unit_id, blob_sha256, file_name, size, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(actor.person_id)
            .bind(actor.unit_id)
            .bind(stored.blob.sha256.as_str())
            .bind(stored.file_name.as_str())
            .bind(stored.blob.size)
            .bind(kernel::now()),
        )
        .await?;
    Ok(id)
}

const COLUMNS: &str = "a.id, a.owner_id, a.file_name, a.size, b.format, b.mime, a.blob_sha256 \
                       FROM attachments a JOIN blobs b ON b.sha256 = a.blob_sha256";

/// The attachments with these ids, in the order given.
pub async fn many(db: &Db, ids: &[i64]) -> Result<Vec<Attachment>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Attachment> =
        db.fetch_all(sql_in(db.dialect(), &format!("SELECT {COLUMNS} WHERE a.id"), ids.iter().copied())).await?;
    Ok(ids.iter().filter_map(|id| found.iter().find(|a| a.id == *id).cloned()).collect())
}

/// The file as a response (inline when a browser shows that type; range requests answered).
pub async fn send(app: &App, attachment: &Attachment, headers: &HeaderMap, download: bool) -> Result<Response, AppError> {
    crate::resources::http::send_file(app, &attachment.blob_sha256, &attachment.file_name, headers, download).await
}
