//! Configuration: built-in defaults, then hanlin.toml, then HANLIN_* environment variables.
//!
//! A nested key `session.idle_minutes` is set from the environment as `HANLIN_SESSION__IDLE_MINUTES`.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("configuration file {file} is not valid TOML: {message}")]
    Syntax { file: String, message: String },
    #[error("configuration key `{key}` (from {origin}) is invalid: {message}")]
    Invalid { key: String, origin: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database, local files and generated output.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Locale for visitors who have not chosen one: `zh-CN` or `en`.
    pub default_locale: String,
    /// Take the client address from X-Forwarded-For (only behind a proxy that sets it).
    pub behind_proxy: bool,
    /// Offset from UTC used to show times, in minutes (Asia/Shanghai is +480 all year).
    pub display_utc_offset_minutes: i32,
    /// The address people reach Hanlin at, e.g. `https://edu.example.gov.cn`, for links read
    /// outside a page (the OAI-PMH base URL, record links). Without it, the request's Host.
    pub public_url: Option<String>,
    /// Largest file accepted by an upload (a province roster is about 1 GB), in MiB.
    pub max_upload_mb: u64,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub password: PasswordConfig,
    pub audit: AuditConfig,
    pub activation: ActivationConfig,
    pub storage: StorageConfig,
    pub library: LibraryConfig,
    pub classroom: ClassroomConfig,
    pub messaging: MessagingConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_minutes: i64,
    pub absolute_hours: i64,
    /// Mark cookies `Secure`; turn on whenever Hanlin is served over HTTPS.
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Failed attempts on one account before it is locked.
    pub max_failures: i64,
    pub lockout_minutes: i64,
    /// Failed attempts from one address before it is locked (schools share NAT addresses, so this is higher).
    pub max_failures_per_ip: i64,
    /// Concurrent password hashes; 0 means one per CPU core.
    pub hash_concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordProfile {
    /// OWASP ASVS 4.0.3: long passwords, no composition rules, no forced rotation.
    Asvs,
    /// 等保 2.0: shorter minimum but three character classes and periodic rotation.
    Dengbao,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub profile: PasswordProfile,
    pub min_length: usize,
    /// Days after which a password must be changed; 0 disables rotation.
    pub rotation_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    pub retention_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// A directory on this machine (one node only).
    Local,
    /// Any S3-compatible object store (several nodes share it).
    S3,
}

/// Where uploaded files are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    /// The local store's directory; `data_dir/files` when unset.
    pub path: Option<PathBuf>,
    pub s3: S3Config,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// `https://s3.example.com` (plain `http://` only for a store on a private network).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    /// Best set from the environment: `HANLIN_STORAGE__S3__SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `bucket.host/key` addressing instead of `host/bucket/key`.
    pub virtual_hosted_style: bool,
}

/// Limits of the resource library.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LibraryConfig {
    /// Largest file a resource may have, in MiB.
    pub max_file_mb: u64,
    /// What one person's resources and unfinished uploads may take up, in MiB.
    pub user_quota_mb: u64,
    /// What one school's (or bureau's) resources and unfinished uploads may take up, in MiB.
    pub unit_quota_mb: u64,
    /// Size of an upload's chunks, in MiB: what a dropped connection costs to resend.
    pub chunk_mb: u64,
    /// Hours an unfinished upload is kept before its chunks are deleted.
    pub upload_expiry_hours: i64,
    /// The OAI-PMH repository identifier, a domain name this region owns: records are named
    /// `oai:<it>:resource/<id>`, so it must not change once harvesters have seen it.
    pub oai_repository_identifier: String,
    /// Who harvesters write to about the OAI-PMH interface.
    pub oai_admin_email: String,
    /// Records (or identifiers) per OAI-PMH response before a resumption token.
    pub oai_page_size: u32,
    /// The LibreOffice command that turns office documents into PDF previews; empty: no previews
    /// (they are download only). Used only when it answers `--version`.
    pub libreoffice: String,
}

/// Homework and Q&A.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassroomConfig {
    /// Largest file attached to homework, a hand-in or a question, in MiB.
    pub max_attachment_mb: u64,
    /// Files one hand-in, assignment or question may carry.
    pub max_attachments: usize,
    /// The 双减 guard: minutes of homework a class may have due on one day, by stage and grade.
    /// A class no limit names has none.
    pub load_limits: Vec<LoadLimit>,
    /// Timetables: the most lessons one teacher may have in a week, over all their classes; a
    /// timetable that would put a teacher above it shows a clash and cannot be published.
    pub max_weekly_lessons: i64,
}

/// Daily homework minutes allowed for grades `from_grade..=to_grade` of `stage` (0: no written homework).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LoadLimit {
    pub stage: String,
    pub from_grade: i64,
    pub to_grade: i64,
    pub minutes: i64,
}

impl ClassroomConfig {
    /// The limit for a class in `grade` (within its stage) of `stage`.
    pub fn load_limit(&self, stage: &str, grade: i64) -> Option<i64> {
        self.load_limits.iter().find(|l| l.stage == stage && (l.from_grade..=l.to_grade).contains(&grade)).map(|l| l.minutes)
    }
}

impl Default for ClassroomConfig {
    /// The 2021 双减 policy: no written homework in grades 1–2, at most 60 minutes a day in grades
    /// 3–6 and 90 in junior secondary.
    fn default() -> Self {
        let limit = |stage: &str, from_grade, to_grade, minutes| LoadLimit { stage: stage.into(), from_grade, to_grade, minutes };
        ClassroomConfig {
            max_attachment_mb: 20,
            max_attachments: 9,
            load_limits: vec![limit("primary", 1, 2, 0), limit("primary", 3, 6, 60), limit("junior", 1, 3, 90)],
            max_weekly_lessons: 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagingConfig {
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// How long after sending a sender may recall a message, in seconds.
    pub recall_seconds: i64,
    /// Messages one person may send in a minute, over all conversations, before a pause is asked for.
    pub messages_per_minute: u32,
    /// Messages older than this many days are deleted, with their files' links; 0 keeps them.
    pub retention_days: i64,
    /// Who may start a direct message with whom. Teachers may always write to their classes'
    /// students and parents and to colleagues of their school.
    pub direct: DirectPolicy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectPolicy {
    pub student_to_teachers: bool,
    pub student_to_classmates: bool,
    pub parent_to_teachers: bool,
    /// Parents of the same class writing to each other.
    pub parent_to_parents: bool,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        MessagingConfig {
            max_message_chars: 2000,
            recall_seconds: 120,
            messages_per_minute: 30,
            retention_days: 730,
            direct: DirectPolicy::default(),
        }
    }
}

impl Default for DirectPolicy {
    fn default() -> Self {
        DirectPolicy {
            student_to_teachers: true,
            student_to_classmates: true,
            parent_to_teachers: true,
            parent_to_parents: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivationConfig {
    /// Days an activation code (the first-login code on printed slips) stays valid.
    pub code_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            default_locale: "zh-CN".into(),
            behind_proxy: false,
            display_utc_offset_minutes: 480,
            max_upload_mb: 2048,
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            password: PasswordConfig::default(),
            audit: AuditConfig::default(),
            activation: ActivationConfig::default(),
            storage: StorageConfig::default(),
            library: LibraryConfig::default(),
            classroom: ClassroomConfig::default(),
            messaging: MessagingConfig::default(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle_minutes: 30, absolute_hours: 12, secure_cookies: false }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig { max_failures: 5, lockout_minutes: 15, max_failures_per_ip: 100, hash_concurrency: 0 }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig { profile: PasswordProfile::Asvs, min_length: 12, rotation_days: 0 }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig { retention_days: 180 }
    }
}

impl Default for LibraryConfig {
    fn default() -> Self {
        LibraryConfig {
            max_file_mb: 4096,
            user_quota_mb: 20 * 1024,
            unit_quota_mb: 1024 * 1024,
            chunk_mb: 8,
            upload_expiry_hours: 48,
            oai_repository_identifier: "hanlin.localhost".into(),
            oai_admin_email: "admin@hanlin.localhost".into(),
            oai_page_size: 100,
            libreoffice: "soffice".into(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { backend: StorageBackend::Local, path: None, s3: S3Config::default() }
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: String::new(),
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            virtual_hosted_style: false,
        }
    }
}

/// Configuration may be logged: the secret key never is.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish()
    }
}

impl Default for ActivationConfig {
    fn default() -> Self {
        ActivationConfig { code_days: 30 }
    }
}

impl Config {
    /// Loads `file` (if given, it must exist; otherwise `./hanlin.toml` if present) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("HANLIN_")).collect();
        let (name, text) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { file: path.display().to_string(), source })?;
                (path.display().to_string(), Some(text))
            }
            None => match std::fs::read_to_string("hanlin.toml") {
                Ok(text) => ("hanlin.toml".to_string(), Some(text)),
                Err(_) => ("hanlin.toml".to_string(), None),
            },
        };
        Self::from_sources(&name, text.as_deref(), &env)
    }

    /// Merges a TOML text and `HANLIN_*` variables; errors name the key and where it came from.
    pub fn from_sources(file_name: &str, text: Option<&str>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut root = match text {
            Some(t) => {
                t.parse::<toml::Table>().map_err(|e| ConfigError::Syntax { file: file_name.into(), message: e.to_string() })?
            }
            None => toml::Table::new(),
        };
        let mut from_env = Vec::new();
        for (key, raw) in env {
            let Some(rest) = key.strip_prefix("HANLIN_") else { continue };
            // Variables for other tools (the test harness's HANLIN_TEST_*) are not configuration.
            if rest.starts_with("TEST_") || rest == "LOG" {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            set_path(&mut root, &path, env_value(raw));
            from_env.push((path.join("."), key.clone()));
        }
        let de = toml::Value::Table(root);
        serde_path_to_error::deserialize::<_, Config>(de)
            .map_err(|e| {
                let key = e.path().to_string();
                let origin = from_env
                    .iter()
                    .find(|(k, _)| key == *k || key.starts_with(&format!("{k}.")) || k.starts_with(&key))
                    .map(|(_, var)| format!("environment variable {var}"))
                    .unwrap_or_else(|| format!("file {file_name}"));
                ConfigError::Invalid { key, origin, message: e.into_inner().to_string() }
            })
            .and_then(|c: Config| c.validated(file_name))
    }

    fn validated(self, file_name: &str) -> Result<Config, ConfigError> {
        let bad = |key: &str, message: &str| ConfigError::Invalid {
            key: key.into(),
            origin: format!("file {file_name} or environment"),
            message: message.into(),
        };
        if !["zh-CN", "en"].contains(&self.default_locale.as_str()) {
            return Err(bad("default_locale", "must be \"zh-CN\" or \"en\""));
        }
        if self.session.idle_minutes < 1 || self.session.absolute_hours < 1 {
            return Err(bad("session", "idle_minutes and absolute_hours must be at least 1"));
        }
        if self.login.max_failures < 1 || self.login.lockout_minutes < 1 {
            return Err(bad("login", "max_failures and lockout_minutes must be at least 1"));
        }
        if !(1..=365).contains(&self.activation.code_days) {
            return Err(bad("activation.code_days", "must be between 1 and 365"));
        }
        if self.password.min_length < 8 {
            return Err(bad("password.min_length", "must be at least 8"));
        }
        if !(1..=64).contains(&self.library.chunk_mb) {
            return Err(bad("library.chunk_mb", "must be between 1 and 64"));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(bad("public_url", "must start with https:// or http://"));
        }
        let repository = &self.library.oai_repository_identifier;
        let label_ok = |l: &str| {
            l.starts_with(|c: char| c.is_ascii_alphabetic()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !repository.contains('.') || !repository.split('.').all(label_ok) {
            return Err(bad("library.oai_repository_identifier", "must be a domain name, e.g. edu.example.gov.cn"));
        }
        if !(1..=1000).contains(&self.library.oai_page_size) {
            return Err(bad("library.oai_page_size", "must be between 1 and 1000"));
        }
        if self.library.max_file_mb < 1 || self.library.upload_expiry_hours < 1 {
            return Err(bad("library", "max_file_mb and upload_expiry_hours must be at least 1"));
        }
        let classroom = &self.classroom;
        if !(1..=1024).contains(&classroom.max_attachment_mb) || !(1..=50).contains(&classroom.max_attachments) {
            return Err(bad("classroom", "max_attachment_mb must be 1-1024 and max_attachments 1-50"));
        }
        if let Some(l) = classroom.load_limits.iter().find(|l| l.from_grade > l.to_grade || l.minutes < 0) {
            return Err(bad(
                "classroom.load_limits",
                &format!("{} grades {}-{}: grades must ascend and minutes be 0 or more", l.stage, l.from_grade, l.to_grade),
            ));
        }
        if !(1..=60).contains(&classroom.max_weekly_lessons) {
            return Err(bad("classroom.max_weekly_lessons", "must be between 1 and 60"));
        }
        let messaging = &self.messaging;
        if !(1..=20_000).contains(&messaging.max_message_chars) {
            return Err(bad("messaging.max_message_chars", "must be between 1 and 20000"));
        }
        if !(0..=86_400).contains(&messaging.recall_seconds) {
            return Err(bad("messaging.recall_seconds", "must be between 0 and 86400"));
        }
        if messaging.messages_per_minute == 0 {
            return Err(bad("messaging.messages_per_minute", "must be at least 1"));
        }
        if messaging.retention_days < 0 {
            return Err(bad("messaging.retention_days", "must be 0 (keep) or a number of days"));
        }
        Ok(self)
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("hanlin.db").display()))
    }

    pub fn hash_concurrency(&self) -> usize {
        match self.login.hash_concurrency {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        }
    }
}

fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = raw.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(raw.to_string())
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_sources() {
        let c = Config::from_sources("hanlin.toml", None, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./data/hanlin.db");
        assert_eq!(c.session.idle_minutes, 30);
    }

    #[test]
    fn environment_overrides_file() {
        let env = vec![("HANLIN_SESSION__IDLE_MINUTES".to_string(), "5".to_string())];
        let c = Config::from_sources("x.toml", Some("[session]\nidle_minutes = 10\n"), &env).unwrap();
        assert_eq!(c.session.idle_minutes, 5);
    }

    #[test]
    fn errors_name_key_and_origin() {
        let e = Config::from_sources("x.toml", Some("listen = \"nowhere\"\n"), &[]).unwrap_err().to_string();
        assert!(e.contains("`listen`") && e.contains("file x.toml"), "{e}");
        let env = vec![("HANLIN_SESSION__IDLE_MINUTES".to_string(), "soon".to_string())];
        let e = Config::from_sources("x.toml", None, &env).unwrap_err().to_string();
        assert!(e.contains("session.idle_minutes") && e.contains("HANLIN_SESSION__IDLE_MINUTES"), "{e}");
        let e = Config::from_sources("x.toml", Some("colour = 1\n"), &[]).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }
}
