//! Textbook catalogue nodes: a textbook is a root; its chapters and sections hang below it.

use kernel::db::{Db, DbError, Tx, path_range, sql};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Node {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub stage: String,
    pub grade: i64,
    pub subject: String,
    pub edition: String,
    pub volume: String,
    pub title: String,
    pub position: i64,
}

impl Node {
    /// Ids from the textbook down to this node.
    pub fn path_ids(&self) -> Vec<i64> {
        self.path.split('/').filter_map(|s| s.parse().ok()).collect()
    }

    pub fn depth(&self) -> usize {
        self.path_ids().len()
    }
}

const NODE: &str = "SELECT id, parent_id, path, stage, grade, subject, edition, volume, title, position FROM catalogue_nodes";

pub async fn node(db: &Db, id: i64) -> Result<Option<Node>, DbError> {
    db.fetch_optional(sql(format!("{NODE} WHERE id = $1")).bind(id)).await
}

pub async fn textbooks(db: &Db) -> Result<Vec<Node>, DbError> {
    db.fetch_all(sql(format!("{NODE} WHERE parent_id IS NULL ORDER BY stage, subject, grade, volume, edition"))).await
}

/// A textbook and everything under it, in tree order.
pub async fn tree(db: &Db, textbook: &Node) -> Result<Vec<Node>, DbError> {
    let (lo, hi) = path_range(&textbook.path);
    let mut nodes: Vec<Node> = db.fetch_all(sql(format!("{NODE} WHERE path >= $1 AND path < $2")).bind(lo).bind(hi)).await?;
    // Tree order: each node after its parent, siblings by position.
    let key = |n: &Node, all: &[Node]| -> Vec<(i64, i64)> {
        n.path_ids().iter().map(|id| (all.iter().find(|m| m.id == *id).map(|m| m.position).unwrap_or(0), *id)).collect()
    };
    let keys: Vec<(i64, Vec<(i64, i64)>)> = nodes.iter().map(|n| (n.id, key(n, &nodes))).collect();
    nodes.sort_by_key(|n| keys.iter().find(|k| k.0 == n.id).map(|k| k.1.clone()).unwrap_or_default());
    Ok(nodes)
}

/// Every chapter and section of the textbooks for a stage and subject (and grade, when given).
pub async fn chapters_for(db: &Db, stage: &str, subject: &str, grade: Option<i64>) -> Result<Vec<Node>, DbError> {
    let mut q = sql(format!("{NODE} WHERE parent_id IS NOT NULL AND stage = $1 AND subject = $2")).bind(stage).bind(subject);
    if let Some(g) = grade {
        q = q.append(" AND grade = $3").bind(g);
    }
    db.fetch_all(q.append(" ORDER BY path")).await
}

pub struct Textbook<'a> {
    pub stage: &'a str,
    pub grade: i64,
    pub subject: &'a str,
    pub edition: &'a str,
    pub volume: &'a str,
}

/// The child of `parent` (a textbook when `None`) titled `title`, created at the end if absent.
pub async fn ensure(tx: &mut Tx, parent: Option<&Node>, book: &Textbook<'_>, title: &str) -> Result<(Node, bool), DbError> {
    let found: Option<Node> = match parent {
        Some(p) => tx.fetch_optional(sql(format!("{NODE} WHERE parent_id = $1 AND title = $2")).bind(p.id).bind(title)).await?,
        None => {
            tx.fetch_optional(
                sql(format!(
                    "{NODE} WHERE parent_id IS NULL AND stage = $1 AND grade = $2 AND subject = $3 AND edition = $4 AND volume = $5"
                ))
                .bind(book.stage)
                .bind(book.grade)
                .bind(book.subject)
                .bind(book.edition)
                .bind(book.volume),
            )
            .await?
        }
    };
    if let Some(n) = found {
        return Ok((n, false));
    }
    let parent_id = parent.map(|p| p.id);
    let (position,): (i64,) = tx
        .fetch_one(
            sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM catalogue_nodes WHERE parent_id = $1 OR ($1 IS NULL AND parent_id IS NULL)",
            )
            .bind(parent_id),
        )
        .await?;
    // The path needs the new id: insert with a unique placeholder, then set it.
    let placeholder = format!("new-{}", kernel::secret::random_token(12));
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO catalogue_nodes (parent_id, path, stage, grade, subject, edition, volume, title, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(parent_id)
            .bind(placeholder)
            .bind(book.stage)
            .bind(book.grade)
            .bind(book.subject)
            .bind(book.edition)
            .bind(book.volume)
            .bind(title)
            .bind(position),
        )
        .await?;
    let path = format!("{}{id}/", parent.map(|p| p.path.as_str()).unwrap_or("/"));
    tx.execute(sql("UPDATE catalogue_nodes SET path = $2 WHERE id = $1").bind(id).bind(path.as_str())).await?;
    let node = Node {
        id,
        parent_id,
        path,
        stage: book.stage.into(),
        grade: book.grade,
        subject: book.subject.into(),
        edition: book.edition.into(),
        volume: book.volume.into(),
        title: title.into(),
        position,
    };
    Ok((node, true))
}

pub async fn rename(tx: &mut Tx, id: i64, title: &str) -> Result<u64, DbError> {
    tx.execute(sql("UPDATE catalogue_nodes SET title = $2 WHERE id = $1").bind(id).bind(title)).await
}

/// Removes a node with nothing under it and no resource on it; false otherwise.
pub async fn delete_leaf(tx: &mut Tx, id: i64) -> Result<bool, DbError> {
    let n = tx
        .execute(
            sql("DELETE FROM catalogue_nodes WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM catalogue_nodes c WHERE c.parent_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.chapter_id = $1)")
            .bind(id),
        )
        .await?;
    Ok(n == 1)
}
