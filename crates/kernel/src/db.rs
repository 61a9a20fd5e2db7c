//! The database layer: SQLite (embedded) or PostgreSQL (cluster), chosen by the URL's scheme.
//!
//! One query style everywhere: `sql("… $1 …").bind(x)` run on a [`Db`] (reads) or a [`Tx`] (one
//! transaction per user action). The SQL is written once when both dialects accept it; where they
//! differ, the caller matches on [`Db::dialect`]. Rows decode into `#[derive(sqlx::FromRow)]` structs.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, FromRow};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A table of the elements of the JSON array bound at `$n`, each row's element in `value`
    /// (so a field of an array element is `value ->> i` in both dialects). Bulk writes send a
    /// whole chunk of rows as one such parameter.
    pub fn json_rows(self, n: usize) -> String {
        match self {
            // Both as jsonb: the text is parsed once per statement. As plain json, every `->>`
            // re-parses its row's element.
            Dialect::Sqlite => format!("jsonb_each(${n})"),
            Dialect::Postgres => format!("jsonb_array_elements(CAST(${n} AS jsonb))"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    Check,
    ForeignKey,
    NotNull,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme in {0:?}: use sqlite://PATH or postgres://HOST/DB")]
    UnknownScheme(String),
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    #[error("{kind:?} constraint {name} violated")]
    Constraint { kind: ConstraintKind, name: String },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

impl DbError {
    /// The violated constraint's name, if this error is a constraint violation.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            DbError::Constraint { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A bound value. Nulls carry their type because PostgreSQL needs it.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Float(Option<f64>),
    Date(Option<time::Date>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident, $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Arg {
                $e
            }
        }
    };
}
arg_from!(i64, v, Arg::Int(Some(v)));
arg_from!(Option<i64>, v, Arg::Int(v));
arg_from!(i32, v, Arg::Int(Some(v.into())));
arg_from!(&i64, v, Arg::Int(Some(*v)));
arg_from!(&&str, v, Arg::Text(Some(v.to_string())));
arg_from!(bool, v, Arg::Bool(Some(v)));
arg_from!(Option<bool>, v, Arg::Bool(v));
arg_from!(f64, v, Arg::Float(Some(v)));
arg_from!(Option<f64>, v, Arg::Float(v));
arg_from!(String, v, Arg::Text(Some(v)));
arg_from!(&String, v, Arg::Text(Some(v.clone())));
arg_from!(&str, v, Arg::Text(Some(v.to_string())));
arg_from!(Option<String>, v, Arg::Text(v));
arg_from!(Option<&str>, v, Arg::Text(v.map(str::to_string)));
arg_from!(time::Date, v, Arg::Date(Some(v)));
arg_from!(Option<time::Date>, v, Arg::Date(v));

/// A statement with its arguments, built by [`sql`].
#[derive(Debug, Clone)]
pub struct Query {
    sql: String,
    args: Vec<Arg>,
}

/// Starts a statement. Placeholders are `$1`, `$2`, … in both dialects.
pub fn sql(text: impl Into<String>) -> Query {
    Query { sql: text.into(), args: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Arg>) -> Query {
        self.args.push(value.into());
        self
    }

    pub fn text(&self) -> &str {
        &self.sql
    }

    /// The placeholder the next bound value takes: `$3` after two.
    pub fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    /// Appends to the statement text (a clause after an [`sql_in`] list, say).
    pub fn append(mut self, text: &str) -> Query {
        self.sql.push_str(text);
        self
    }

    /// SQLite looks up a numbered parameter's name by a linear scan, so binding n of them costs
    /// O(n²): ruinous for bulk statements with thousands. When `$1 … $n` appear once each, in
    /// order (as in multi-row inserts), they become anonymous `?`, bound by position.
    fn for_sqlite(mut self) -> Query {
        if self.args.len() < 16 {
            return self;
        }
        let bytes = self.sql.as_bytes();
        let mut out = String::with_capacity(self.sql.len());
        let (mut i, mut next, mut copied, mut in_string) = (0, 1usize, 0, false);
        while i < bytes.len() {
            match bytes[i] {
                b'\'' => in_string = !in_string,
                b'$' if !in_string => {
                    let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let n: usize = self.sql[i + 1..i + 1 + digits].parse().unwrap_or(0);
                    if n != next {
                        return self;
                    }
                    out.push_str(&self.sql[copied..i]);
                    out.push('?');
                    next += 1;
                    i += digits;
                    copied = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if next != self.args.len() + 1 {
            return self;
        }
        out.push_str(&self.sql[copied..]);
        self.sql = out;
        self
    }
}

/// A row type that decodes from both dialects.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Float(v) => q.bind(v),
                Arg::Date(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Runs a query of the given shape on any executor of the given database.
macro_rules! run {
    (all, $db:ty, $exec:expr, $q:expr) => {{
        let q = $q;
        bind_args!(sqlx::query_as::<$db, T>(AssertSqlSafe(q.sql)), q.args).fetch_all($exec).await
    }};
    (optional, $db:ty, $exec:expr, $q:expr) => {{
        let q = $q;
        bind_args!(sqlx::query_as::<$db, T>(AssertSqlSafe(q.sql)), q.args).fetch_optional($exec).await
    }};
    (execute, $db:ty, $exec:expr, $q:expr) => {{
        let q = $q;
        bind_args!(sqlx::query::<$db>(AssertSqlSafe(q.sql)), q.args).execute($exec).await.map(|r| r.rows_affected())
    }};
}

enum Pools {
    Sqlite { writer: SqlitePool, reader: SqlitePool },
    Postgres(PgPool),
}

struct Inner {
    pools: Pools,
    /// SQLite names unique violations by columns ("people.login"); this maps them to index names.
    sqlite_unique_names: std::sync::RwLock<HashMap<String, String>>,
}

/// A handle to the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl Db {
    /// Opens the database named by `url`. PostgreSQL connects lazily, so a server can start and
    /// report not-ready while the database is still unreachable; SQLite opens (and creates) its file now.
    pub async fn open(url: &str) -> Result<Db, DbError> {
        let pools = if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::BadUrl("sqlite:// needs a file path".into()));
            }
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| DbError::BadUrl(format!("cannot create {}: {e}", parent.display())))?;
            }
            crate::sqlite_memory::install();
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| DbError::BadUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-32000");
            // One writer: SQLite serialises writes anyway, and a single connection turns lock
            // contention into a fair queue in the pool instead of SQLITE_BUSY errors.
            // The writer gets a larger page cache and in-memory statement journals: a bulk import
            // inserts millions of index entries in one transaction, and spilling pages to disk
            // mid-transaction dominated its time. 128 MB keeps a million-row import under 300 MB of
            // RSS now that pass one's key maps are freed before writing (bench/RESULTS.md).
            let writer_options = options.clone().pragma("cache_size", "-131072").pragma("temp_store", "MEMORY");
            let writer = SqlitePoolOptions::new().max_connections(1).connect_with(writer_options).await.map_err(DbError::Sqlx)?;
            let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2) * 2;
            let reader = SqlitePoolOptions::new()
                .max_connections(readers as u32)
                .connect_with(options.read_only(true))
                .await
                .map_err(DbError::Sqlx)?;
            Pools::Sqlite { writer, reader }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| DbError::BadUrl(e.to_string()))?;
            let pool =
                PgPoolOptions::new().max_connections(32).acquire_timeout(Duration::from_secs(10)).connect_lazy_with(options);
            Pools::Postgres(pool)
        } else {
            let scheme = url.split("://").next().unwrap_or(url);
            return Err(DbError::UnknownScheme(scheme.to_string()));
        };
        Ok(Db { inner: Arc::new(Inner { pools, sqlite_unique_names: Default::default() }) })
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner.pools {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies the embedded migrations of this dialect.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match &self.inner.pools {
            Pools::Sqlite { writer, .. } => {
                sqlx::migrate!("../../migrations/sqlite").run(writer).await?;
                self.load_sqlite_unique_names().await?;
            }
            Pools::Postgres(pool) => {
                sqlx::migrate!("../../migrations/postgres").run(pool).await?;
            }
        }
        Ok(())
    }

    async fn load_sqlite_unique_names(&self) -> Result<(), DbError> {
        #[derive(sqlx::FromRow)]
        struct IndexColumn {
            tbl: String,
            idx: String,
            col: String,
        }
        let rows: Vec<IndexColumn> = self
            .fetch_all(sql("SELECT m.tbl_name AS tbl, m.name AS idx, i.name AS col \
                 FROM sqlite_master m, pragma_index_info(m.name) i \
                 WHERE m.type = 'index' AND m.sql LIKE 'CREATE UNIQUE%' ORDER BY m.name, i.seqno"))
            .await?;
        let mut by_index: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows {
            match by_index.last_mut() {
                Some((idx, cols)) if *idx == r.idx => cols.push(format!("{}.{}", r.tbl, r.col)),
                _ => by_index.push((r.idx, vec![format!("{}.{}", r.tbl, r.col)])),
            }
        }
        let map = by_index.into_iter().map(|(idx, cols)| (cols.join(", "), idx)).collect();
        *self.inner.sqlite_unique_names.write().expect("lock poisoned") = map;
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.fetch_optional::<(i64,)>(sql("SELECT CAST(1 AS BIGINT)")).await.is_ok()
    }

    /// Reads. On SQLite these run on the read-only pool: a write here fails, so writes that
    /// return rows go through a [`Tx`].
    pub async fn fetch_all<T: Row>(&self, q: Query) -> Result<Vec<T>, DbError> {
        let r = match &self.inner.pools {
            Pools::Sqlite { reader, .. } => run!(all, sqlx::Sqlite, reader, q.for_sqlite()),
            Pools::Postgres(pool) => run!(all, sqlx::Postgres, pool, q),
        };
        r.map_err(|e| self.map_err(e))
    }

    pub async fn fetch_optional<T: Row>(&self, q: Query) -> Result<Option<T>, DbError> {
        let r = match &self.inner.pools {
            Pools::Sqlite { reader, .. } => run!(optional, sqlx::Sqlite, reader, q.for_sqlite()),
            Pools::Postgres(pool) => run!(optional, sqlx::Postgres, pool, q),
        };
        r.map_err(|e| self.map_err(e))
    }

    pub async fn fetch_one<T: Row>(&self, q: Query) -> Result<T, DbError> {
        self.fetch_optional(q).await?.ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }

    /// A single statement outside an explicit transaction (it commits on its own).
    pub async fn execute(&self, q: Query) -> Result<u64, DbError> {
        let r = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => run!(execute, sqlx::Sqlite, writer, q.for_sqlite()),
            Pools::Postgres(pool) => run!(execute, sqlx::Postgres, pool, q),
        };
        r.map_err(|e| self.map_err(e))
    }

    /// Starts the one transaction of a user action. SQLite takes the write lock up front
    /// (BEGIN IMMEDIATE) so a read-then-write transaction never fails to upgrade.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let inner = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await.map_err(DbError::Sqlx)?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await.map_err(DbError::Sqlx)?),
        };
        Ok(Tx { inner, db: self.clone() })
    }

    /// PostgreSQL: a connection of its own that hears NOTIFY on `channel`, so nodes of a cluster can
    /// tell each other that something new is in the database. SQLite has one process: None.
    pub async fn listener(&self, channel: &str) -> Result<Option<sqlx::postgres::PgListener>, DbError> {
        match &self.inner.pools {
            Pools::Sqlite { .. } => Ok(None),
            Pools::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await.map_err(DbError::Sqlx)?;
                listener.listen(channel).await.map_err(DbError::Sqlx)?;
                Ok(Some(listener))
            }
        }
    }

    pub async fn close(&self) {
        match &self.inner.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    fn map_err(&self, e: sqlx::Error) -> DbError {
        let sqlx::Error::Database(db) = &e else { return DbError::Sqlx(e) };
        let kind = match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => ConstraintKind::Unique,
            sqlx::error::ErrorKind::CheckViolation => ConstraintKind::Check,
            sqlx::error::ErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
            sqlx::error::ErrorKind::NotNullViolation => ConstraintKind::NotNull,
            _ => return DbError::Sqlx(e),
        };
        let name = match db.constraint() {
            Some(name) => name.to_string(),
            None => {
                // SQLite: "UNIQUE constraint failed: people.login" or "CHECK constraint failed: name".
                let detail = db.message().split_once(": ").map(|(_, d)| d.trim()).unwrap_or_default();
                if kind == ConstraintKind::Unique {
                    let names = self.inner.sqlite_unique_names.read().expect("lock poisoned");
                    names.get(detail).cloned().unwrap_or_else(|| detail.to_string())
                } else {
                    detail.to_string()
                }
            }
        };
        DbError::Constraint { kind, name }
    }
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// One open transaction. Dropped without [`Tx::commit`], it rolls back: nothing is half-written.
pub struct Tx {
    inner: TxInner,
    db: Db,
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    pub async fn fetch_all<T: Row>(&mut self, q: Query) -> Result<Vec<T>, DbError> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => run!(all, sqlx::Sqlite, &mut **tx, q.for_sqlite()),
            TxInner::Postgres(tx) => run!(all, sqlx::Postgres, &mut **tx, q),
        };
        r.map_err(|e| self.db.map_err(e))
    }

    pub async fn fetch_optional<T: Row>(&mut self, q: Query) -> Result<Option<T>, DbError> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => run!(optional, sqlx::Sqlite, &mut **tx, q.for_sqlite()),
            TxInner::Postgres(tx) => run!(optional, sqlx::Postgres, &mut **tx, q),
        };
        r.map_err(|e| self.db.map_err(e))
    }

    pub async fn fetch_one<T: Row>(&mut self, q: Query) -> Result<T, DbError> {
        self.fetch_optional(q).await?.ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }

    pub async fn execute(&mut self, q: Query) -> Result<u64, DbError> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => run!(execute, sqlx::Sqlite, &mut **tx, q.for_sqlite()),
            TxInner::Postgres(tx) => run!(execute, sqlx::Postgres, &mut **tx, q),
        };
        r.map_err(|e| self.db.map_err(e))
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await,
            TxInner::Postgres(tx) => tx.commit().await,
        }
        .map_err(DbError::Sqlx)
    }
}

/// The half-open key range `[prefix, prefix+1)` that holds every materialised path under `prefix`.
/// Range scans use the path index on both databases, where LIKE would not on SQLite.
pub fn path_range(prefix: &str) -> (String, String) {
    let mut upper = prefix.to_string();
    // Paths are ASCII digits and '/', so bumping the last byte gives a tight upper bound.
    let last = upper.pop().map(|c| ((c as u8) + 1) as char).unwrap_or('\u{1}');
    upper.push(last);
    (prefix.to_string(), upper)
}

/// Placeholders for a multi-row insert: `rows` tuples of `cols` values, numbered from `$first`.
/// Chunked bulk writes use this to send hundreds of rows per statement.
pub fn values(rows: usize, cols: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(first + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// `{expr} IN (values)`: the statement `{prefix} IN (…)`, where `prefix` ends with the tested
/// expression. SQLite gets a placeholder per value. PostgreSQL gets the values as one array
/// parameter: with a placeholder each, a thousand-key lookup spends longer planning its
/// thousand constants than probing the index.
pub fn sql_in<A: Into<Arg>>(dialect: Dialect, prefix: &str, values: impl IntoIterator<Item = A>) -> Query {
    let args: Vec<Arg> = values.into_iter().map(Into::into).collect();
    if args.is_empty() {
        return sql(format!("{prefix} IN (NULL)"));
    }
    if dialect == Dialect::Postgres
        && let Some((literal, element)) = pg_array(&args)
    {
        return sql(format!("{prefix} = ANY(CAST($1 AS {element}[]))")).bind(literal);
    }
    Query { sql: format!("{prefix} IN ({})", list(args.len(), 1)), args }
}

/// PostgreSQL's text form of an array of integers or of strings, and its element type; `None`
/// for other or mixed values. Nulls are left out: `x IN (NULL)` never holds anyway.
fn pg_array(args: &[Arg]) -> Option<(String, &'static str)> {
    let mut out = String::from("{");
    let element = match args.first()? {
        Arg::Int(_) => "bigint",
        Arg::Text(_) => "text",
        _ => return None,
    };
    for a in args {
        match (a, element) {
            (Arg::Int(Some(v)), "bigint") => out.push_str(&v.to_string()),
            (Arg::Text(Some(v)), "text") => {
                out.push('"');
                for c in v.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            (Arg::Int(None), "bigint") | (Arg::Text(None), "text") => continue,
            _ => return None,
        }
        out.push(',');
    }
    if out.ends_with(',') {
        out.pop();
    }
    out.push('}');
    Some((out, element))
}

/// Placeholders for `IN (…)`: `$first, …` for `n` values.
pub fn list(n: usize, first: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_placeholders_become_positional_on_sqlite() {
        let many = |text: String| (0..20).fold(sql(text), |q, i| q.bind(i64::from(i)));
        let q = many(format!("INSERT INTO t (a, b) VALUES {}", values(10, 2, 1))).for_sqlite();
        assert!(q.text().ends_with("(?, ?), (?, ?)") && !q.text().contains('$'), "{}", q.text());
        let reused = many(format!("SELECT '$1' FROM t WHERE a = $1 OR b = $1 AND c IN ({})", list(19, 2))).for_sqlite();
        assert!(reused.text().contains("$1"), "a reused number keeps its name");
    }

    #[test]
    fn placeholders_number_on() {
        assert_eq!(values(2, 2, 3), "($3, $4), ($5, $6)");
        assert_eq!(list(3, 1), "$1, $2, $3");
    }

    #[test]
    fn path_range_covers_subtree_only() {
        let (lo, hi) = path_range("/1/5/");
        for inside in ["/1/5/", "/1/5/7/", "/1/5/99/3/"] {
            assert!(inside >= lo.as_str() && inside < hi.as_str(), "{inside}");
        }
        for outside in ["/1/50/", "/1/6/", "/1/4/9/", "/1/"] {
            assert!(!(outside >= lo.as_str() && outside < hi.as_str()), "{outside}");
        }
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let e = Db::open("mysql://localhost/x").await.err().unwrap();
        assert!(e.to_string().contains("\"mysql\""), "{e}");
    }
}
