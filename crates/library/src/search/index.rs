//! Full-text index of the resource library: tantivy, with jieba word segmentation for Chinese.
//!
//! Text. Titles, keywords, descriptions and authors are segmented by jieba in *search mode* at
//! index time: every word is indexed together with the dictionary words inside it (勾股定理 also
//! yields 定理), with positions counted in characters. Queries are segmented in *default mode*
//! (whole words only) and every word becomes a term on each text field (title and keywords
//! boosted), the terms OR-ed and a repeated word counted once. A query word therefore hits
//! documents containing that word, never ones merely sharing its characters (勾股定理 does not
//! match 股票). When the query has two words or more, a boosted, near-exact phrase on the title
//! lifts documents whose title says exactly that. Only double quotes keep a meaning (an exact
//! phrase); all other syntax is treated as text, so no input can make a search fail. The query is
//! built directly rather than through tantivy's `QueryParser`, which would turn an unspaced
//! Chinese run into one phrase that must match whole, and which must see the terms one by one to
//! restrict them (below).
//!
//! Facets. Every facet is a raw string fast field (a dictionary-encoded column: per segment, a
//! term ordinal per document), also indexed for filtering. One custom collector makes a single
//! pass over the matches: it counts them, keeps the best `offset + limit` in a heap and, for all
//! ten facets at once, bumps a counter indexed by the document's ordinal. Matches are buffered so
//! the columns are read a block at a time. Ordinals become strings only at the end, in one ordered
//! walk of each segment's dictionary. A match thus costs ten column reads and ten increments, no
//! hashing and no strings, where ten aggregations would each pass over all the matches again.
//! Counts cover the final result set, every filter applied. tantivy's hierarchical facet fields
//! were not used: the chapter path needs "filter on any ancestor, count the deepest node", which
//! two plain fields (every node indexed, the last one as a column) express directly.
//!
//! Filters. Visibility and facet filters are evaluated first, per segment, into one bitset of the
//! allowed documents (read from the filter terms' postings), and every term and phrase of the text
//! is restricted to that set *before* the terms are OR-ed and scored. A common word (课件) is in a
//! quarter of the index while a teacher sees a tenth of it; as a `Must` clause beside the text,
//! the filter left tantivy's union scoring every document holding the word, visible or not, and
//! seeking it once per visible document. Filters add nothing to the score. Without text, the
//! allowed set itself is the result. A filter term that many documents hold (the province's
//! scope, a subject) is kept as a bitset per segment rather than read from its postings again.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::NoMergePolicy;
use tantivy::postings::SegmentPostings;
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query, Scorer, TermQuery, Weight,
};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{
    COLLECT_BLOCK_BUFFER_LEN, DocId, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, SearcherGeneration,
    SegmentOrdinal, SegmentReader, TERMINATED, TantivyDocument, TantivyError, Term, Warmer,
};
use tantivy_jieba::{JiebaTokenStream, JiebaTokenizer};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] TantivyError),
    #[error("search index I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// One resource as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct IndexedResource {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub authors: Vec<String>,
    pub stage: String,
    pub grade: Option<i64>,
    pub subject: String,
    pub edition: String,
    pub volume: String,
    /// Textbook catalogue node ids from the textbook down to the chapter/section, e.g. [12, 40, 41]
    pub chapter_path: Vec<i64>,
    pub resource_type: String,
    pub format: String,
    /// Highest publication level: school|district|city|province.
    pub level: String,
    pub licence: String,
    /// Org-tree materialised paths at which the resource is published, e.g. ["/1/2/9/"] (school)
    /// or ["/1/2/9/", "/1/2/"] after a recommendation up. A viewer whose own path starts with one
    /// of these may see it.
    pub scope_paths: Vec<String>,
    /// Unix seconds.
    pub published_at: i64,
    /// Views + downloads.
    pub uses: i64,
    /// 0 when unrated.
    pub rating: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Stage,
    Grade,
    Subject,
    Edition,
    Volume,
    Chapter,
    ResourceType,
    Format,
    Level,
    Licence,
}

impl Facet {
    pub const ALL: [Facet; 10] = [
        Facet::Stage,
        Facet::Grade,
        Facet::Subject,
        Facet::Edition,
        Facet::Volume,
        Facet::Chapter,
        Facet::ResourceType,
        Facet::Format,
        Facet::Level,
        Facet::Licence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Stage => "stage",
            Facet::Grade => "grade",
            Facet::Subject => "subject",
            Facet::Edition => "edition",
            Facet::Volume => "volume",
            Facet::Chapter => "chapter",
            Facet::ResourceType => "type",
            Facet::Format => "format",
            Facet::Level => "level",
            Facet::Licence => "licence",
        }
    }

    pub fn parse(s: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The fast column counted for this facet. Chapter filters on every node of the path (field
    /// `chapter`) but counts only the deepest one, kept in a column of its own.
    fn column(self) -> &'static str {
        match self {
            Facet::Chapter => CHAPTER_LEAF,
            other => other.as_str(),
        }
    }
}

/// Every order breaks ties by id, the larger (more recently created) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
    MostUsed,
    Rating,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Free text; empty = match all (then Relevance sorts by newest).
    pub text: String,
    /// AND across facets, OR within one facet. Grade values are decimal strings; a Chapter value
    /// is a node id as a decimal string and matches the node and everything under it.
    pub filters: Vec<(Facet, String)>,
    /// The viewer's ancestor paths including its own, e.g. ["/1/", "/1/2/", "/1/2/9/"]; a
    /// document matches if any of its scope_paths equals one of these. Empty = sees nothing.
    pub visible_in: Vec<String>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Every facet, each value with its count, most frequent first; computed over all matching
    /// visible documents, ignoring pagination.
    pub facets: BTreeMap<Facet, Vec<(String, u64)>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: i64,
    /// Relevance score; 0 when the results are sorted by a field.
    pub score: f32,
}

const JIEBA: &str = "jieba";
const CHAPTER_LEAF: &str = "chapter_leaf";
/// Longer "words" are base64, URLs and the like: noise for search, costly in the term dictionary.
const MAX_TOKEN_BYTES: usize = 64;
/// Caps the work one pasted essay can cause; a title-sized query is far below it.
const MAX_QUERY_WORDS: usize = 32;
const TITLE_BOOST: Score = 3.0;
const KEYWORDS_BOOST: Score = 2.0;
/// Weight of the title phrase on top of the per-word scores; large enough that an exact title
/// match beats a document that merely repeats the words.
const TITLE_PHRASE_BOOST: Score = 4.0;
/// Title positions count characters: a slop of 1 lets the phrase span a space ("勾股定理 证明").
const TITLE_PHRASE_SLOP: u32 = 1;
/// Function words left out of the OR-ed query (they would match nearly everything); they still
/// take part in the title phrase.
const STOP_WORDS: [&str; 16] = ["的", "地", "得", "了", "着", "和", "与", "及", "或", "是", "在", "之", "等", "吗", "呢", "吧"];
/// A filter term held by at least 1/64 of a segment's documents is kept as a bitset: with at least
/// one document per 64-bit word, OR-ing the kept words costs less than decoding the postings again.
const COMMON_TERM_SHARE: u64 = 64;
/// Bitsets kept at most (each an eighth of a byte per document of its segment).
const MAX_COMMON_TERMS: usize = 1024;
const WRITER_HEAP: usize = 64 << 20;
const REBUILD_HEAP: usize = 256 << 20;
const PROGRESS_EVERY: u64 = 10_000;

#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    /// `None` only after a rebuild or a failed write; the next write opens a fresh writer.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    /// Also the reader's warmer, which holds it weakly.
    common_terms: Arc<CommonTerms>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    keywords: Field,
    description: Field,
    authors: Field,
    /// Filter field of each facet, in `Facet::ALL` order.
    facets: [Field; 10],
    chapter_leaf: Field,
    scope: Field,
    published_at: Field,
    uses: Field,
    rating: Field,
}

impl Fields {
    fn facet(&self, facet: Facet) -> Field {
        self.facets[facet as usize]
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(JIEBA).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_i64_field("id", INDEXED | FAST),
        title: b.add_text_field("title", text.clone()),
        keywords: b.add_text_field("keywords", text.clone()),
        description: b.add_text_field("description", text.clone()),
        authors: b.add_text_field("authors", text),
        // Chapter's filter field holds every node of the path and needs no column.
        facets: Facet::ALL.map(|f| b.add_text_field(f.as_str(), if f == Facet::Chapter { STRING } else { STRING | FAST })),
        chapter_leaf: b.add_text_field(CHAPTER_LEAF, FAST),
        scope: b.add_text_field("scope", STRING),
        published_at: b.add_i64_field("published_at", FAST),
        uses: b.add_i64_field("uses", FAST),
        rating: b.add_f64_field("rating", FAST),
    };
    (b.build(), fields)
}

/// Search mode for documents (words plus the words inside them), default mode for queries.
fn analyzer(search_mode: bool) -> TextAnalyzer {
    TextAnalyzer::builder(Words(JiebaTokenizer::with_search_mode(search_mode)))
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .build()
}

/// Jieba returns punctuation and spaces as tokens too; they mean nothing to a search, so they are
/// dropped. Positions are character offsets, so phrases still line up without them.
#[derive(Clone)]
struct Words(JiebaTokenizer);

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream<JiebaTokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordStream(self.0.token_stream(text))
    }
}

struct WordStream<S>(S);

impl<S: TokenStream> TokenStream for WordStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    analyzer.token_stream(text).process(&mut |t| out.push(t.text.clone()));
    out
}

impl SearchIndex {
    /// Opens (creating if absent) the index in `dir`; `None` = in memory (tests). Registers the
    /// jieba tokenizer.
    pub fn open(dir: Option<&Path>) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let directory = MmapDirectory::open(dir).map_err(TantivyError::from)?;
                Index::open_or_create(directory, schema.clone())?
            }
            None => Index::create_in_ram(schema.clone()),
        };
        index.tokenizers().register(JIEBA, analyzer(true));
        let common_terms = Arc::new(CommonTerms::default());
        let warmer: Weak<dyn Warmer> = Arc::downgrade(&common_terms) as Weak<dyn Warmer>;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).warmers(vec![warmer]).try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        Ok(SearchIndex { inner: Arc::new(Inner { index, reader, writer: Mutex::new(Some(writer)), fields, common_terms }) })
    }

    /// Adds or replaces these resources (delete by id term, then add) and commits; searchable
    /// when this returns.
    pub fn upsert(&self, docs: &[IndexedResource]) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.write(|writer, fields| {
            for doc in docs {
                writer.delete_term(Term::from_field_i64(fields.id, doc.id));
                writer.add_document(fields.document(doc))?;
            }
            Ok(())
        })
    }

    /// Removes resources by id and commits.
    pub fn remove(&self, ids: &[i64]) -> Result<(), SearchError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(|writer, fields| {
            for &id in ids {
                writer.delete_term(Term::from_field_i64(fields.id, id));
            }
            Ok(())
        })
    }

    /// Replaces the whole index with these documents, committing once at the end: until then
    /// searches see the old index, and a failure before the commit leaves it untouched. Writes
    /// wait meanwhile (the replacement would drop them). Reports the number of documents added
    /// every 10,000 and once at the end.
    pub fn rebuild(
        &self,
        docs: impl Iterator<Item = IndexedResource>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, SearchError> {
        let mut slot = self.lock_writer();
        // An index has one writer at a time: the everyday one (small heap, one thread) makes way
        // for a bulk one; the next write reopens it.
        *slot = None;
        let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(8);
        let mut writer: IndexWriter = self.inner.index.writer_with_num_threads(threads, REBUILD_HEAP)?;
        // Segments are merged once, all together, at the end; a merge started on its own meanwhile
        // would only redo part of that work (and hold segments the final merge needs).
        writer.set_merge_policy(Box::new(NoMergePolicy));
        writer.delete_all_documents()?;
        let mut count = 0;
        for doc in docs {
            writer.add_document(self.inner.fields.document(&doc))?;
            count += 1;
            if count % PROGRESS_EVERY == 0 {
                progress(count);
            }
        }
        writer.commit()?;
        self.inner.reader.reload()?;
        // One segment is searched faster than several (each costs a fixed share of every query),
        // and the merge is cheap next to the indexing just done.
        let segments = self.inner.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        self.inner.reader.reload()?;
        if count % PROGRESS_EVERY != 0 {
            progress(count);
        }
        Ok(count)
    }

    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let fields = &self.inner.fields;
        let empty = || SearchResults { facets: Facet::ALL.map(|f| (f, Vec::new())).into(), ..SearchResults::default() };
        if q.visible_in.is_empty() {
            return Ok(empty());
        }
        let visible: Vec<Term> = q.visible_in.iter().map(|p| Term::from_field_text(fields.scope, p)).collect();
        let mut by_facet: BTreeMap<Facet, Vec<Term>> = BTreeMap::new();
        for (facet, value) in &q.filters {
            by_facet.entry(*facet).or_default().push(fields.filter_term(*facet, value));
        }
        let searcher = self.inner.reader.searcher();
        let allowed = Allowed::compute(&searcher, &self.inner.common_terms, &visible, by_facet.values())?;
        let leaves = self.text_leaves(&q.text);
        // Without text there is no relevance to rank by.
        let sort = if q.sort == Sort::Relevance && leaves.is_empty() { Sort::Newest } else { q.sort };
        let query: Box<dyn Query> = if leaves.is_empty() {
            Box::new(AllowedQuery(allowed))
        } else {
            let restricted = leaves.into_iter().map(|leaf| -> (Occur, Box<dyn Query>) {
                (Occur::Should, Box::new(Restricted { leaf, allowed: allowed.clone() }))
            });
            Box::new(BooleanQuery::new(restricted.collect()))
        };

        let collector = Collect { sort, keep: q.offset.saturating_add(q.limit), fields: *fields };
        let (total, ranked, facets) = searcher.search(&query, &collector)?;
        let mut results = empty();
        results.total = total as usize;
        results.hits = ranked.into_iter().skip(q.offset).take(q.limit).map(|c| Hit { id: c.id, score: c.score }).collect();
        results.facets.extend(facets);
        Ok(results)
    }

    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The user's text as the leaves of an OR (see the module comment): each word or quoted phrase
    /// on each text field, with the field's boost, and the title phrase. Empty when it holds no word.
    fn text_leaves(&self, text: &str) -> Vec<Box<dyn Query>> {
        let mut analyzer = analyzer(false);
        let parts: Vec<&str> = text.split('"').collect();
        let mut free = Vec::new();
        let mut phrases = Vec::new();
        let mut sequence = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            // Odd parts lie between quotes, unless the last quote is unbalanced.
            let quoted = i % 2 == 1 && (parts.len() % 2 == 1 || i + 1 < parts.len());
            let part_words = words(&mut analyzer, part);
            if quoted && part_words.len() > 1 {
                phrases.push(part.to_string());
            } else {
                free.extend(part_words.iter().cloned());
            }
            sequence.extend(part_words);
        }
        sequence.truncate(MAX_QUERY_WORDS);
        let content: Vec<String> = free.iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).cloned().collect();
        // Only function words: search for them rather than for nothing.
        let mut free = if content.is_empty() && phrases.is_empty() { free } else { content };
        free.truncate(MAX_QUERY_WORDS);

        let fields = &self.inner.fields;
        let boosted =
            [(fields.title, TITLE_BOOST), (fields.keywords, KEYWORDS_BOOST), (fields.description, 1.0), (fields.authors, 1.0)];
        let mut leaves: Vec<Box<dyn Query>> = Vec::new();
        let mut literals: Vec<&String> = free.iter().chain(&phrases).collect();
        // A repeated word counts once, not twice (as the query parser used to do).
        let mut seen = HashSet::new();
        literals.retain(|l| seen.insert(*l));
        for literal in literals {
            // Tokenised again as a whole: a word stays one term, a phrase becomes its words at their
            // positions.
            let mut tokens = Vec::new();
            analyzer.token_stream(literal).process(&mut |t| tokens.push((t.position, t.text.clone())));
            for (field, boost) in boosted {
                let leaf: Box<dyn Query> = match &tokens[..] {
                    [] => continue,
                    [(_, word)] => Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs)),
                    _ => Box::new(PhraseQuery::new_with_offset(
                        tokens.iter().map(|(position, word)| (*position, Term::from_field_text(field, word))).collect(),
                    )),
                };
                leaves.push(if boost == 1.0 { leaf } else { Box::new(BoostQuery::new(leaf, boost)) });
            }
        }
        if sequence.len() >= 2 && !leaves.is_empty() {
            let mut offset = 0;
            let terms = sequence
                .iter()
                .map(|w| {
                    let term = (offset, Term::from_field_text(fields.title, w));
                    offset += w.chars().count();
                    term
                })
                .collect();
            let phrase = PhraseQuery::new_with_offset_and_slop(terms, TITLE_PHRASE_SLOP);
            leaves.push(Box::new(BoostQuery::new(Box::new(phrase), TITLE_PHRASE_BOOST)));
        }
        leaves
    }

    /// Runs `ops` on the writer and commits; on failure the writer is dropped with whatever it
    /// had not committed, and the next write opens a fresh one.
    fn write(&self, ops: impl FnOnce(&mut IndexWriter, &Fields) -> Result<(), TantivyError>) -> Result<(), SearchError> {
        let mut slot = self.lock_writer();
        let writer = match &mut *slot {
            Some(writer) => writer,
            empty => empty.insert(self.inner.index.writer_with_num_threads(1, WRITER_HEAP)?),
        };
        let result = ops(writer, &self.inner.fields).and_then(|()| writer.commit());
        if result.is_err() {
            *slot = None;
        }
        result?;
        self.inner.reader.reload()?;
        Ok(())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Option<IndexWriter>> {
        self.inner.writer.lock().unwrap_or_else(|poisoned| {
            // A panic mid-batch may have left uncommitted operations: drop them with the writer.
            let mut slot = poisoned.into_inner();
            *slot = None;
            self.inner.writer.clear_poison();
            slot
        })
    }
}

impl Fields {
    fn document(&self, r: &IndexedResource) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_i64(self.id, r.id);
        doc.add_text(self.title, &r.title);
        doc.add_text(self.description, &r.description);
        for keyword in &r.keywords {
            doc.add_text(self.keywords, keyword);
        }
        for author in &r.authors {
            doc.add_text(self.authors, author);
        }
        let strings = [
            (Facet::Stage, &r.stage),
            (Facet::Subject, &r.subject),
            (Facet::Edition, &r.edition),
            (Facet::Volume, &r.volume),
            (Facet::ResourceType, &r.resource_type),
            (Facet::Format, &r.format),
            (Facet::Level, &r.level),
            (Facet::Licence, &r.licence),
        ];
        // An empty value is "not set": it gets no term and is not counted.
        for (facet, value) in strings.into_iter().filter(|(_, v)| !v.is_empty()) {
            doc.add_text(self.facet(facet), value);
        }
        if let Some(grade) = r.grade {
            doc.add_text(self.facet(Facet::Grade), grade.to_string());
        }
        for node in &r.chapter_path {
            doc.add_text(self.facet(Facet::Chapter), node.to_string());
        }
        if let Some(leaf) = r.chapter_path.last() {
            doc.add_text(self.chapter_leaf, leaf.to_string());
        }
        for path in &r.scope_paths {
            doc.add_text(self.scope, path);
        }
        doc.add_i64(self.published_at, r.published_at);
        doc.add_i64(self.uses, r.uses);
        doc.add_f64(self.rating, r.rating);
        doc
    }

    fn filter_term(&self, facet: Facet, value: &str) -> Term {
        let field = self.facet(facet);
        if matches!(facet, Facet::Grade | Facet::Chapter) {
            // Normalised, so "07" finds grade 7; a value that is no number matches nothing.
            if let Ok(number) = value.trim().parse::<i64>() {
                return Term::from_field_text(field, &number.to_string());
            }
        }
        Term::from_field_text(field, value)
    }
}

/// The documents a query may return, per segment of one searcher: visible to the viewer and
/// passing every facet filter. Computed once per query, before any text is matched.
#[derive(Debug)]
struct Allowed {
    segments: Vec<(SegmentId, Arc<Bits>)>,
}

impl Allowed {
    /// Any of `visible`, and for each group any of its terms.
    fn compute<'a>(
        searcher: &Searcher,
        common: &CommonTerms,
        visible: &[Term],
        groups: impl Iterator<Item = &'a Vec<Term>> + Clone,
    ) -> tantivy::Result<Arc<Allowed>> {
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let mut bits = Bits::any_of(segment, common, visible)?;
            for group in groups.clone() {
                if bits.count == 0 {
                    break;
                }
                bits.keep(&Bits::any_of(segment, common, group)?);
            }
            segments.push((segment.segment_id(), Arc::new(bits)));
        }
        Ok(Arc::new(Allowed { segments }))
    }

    fn segment(&self, segment: &SegmentReader) -> Arc<Bits> {
        let id = segment.segment_id();
        // Always found: the query runs on the searcher the set was computed with.
        self.segments.iter().find(|(s, _)| *s == id).map_or_else(|| Arc::new(Bits::default()), |(_, bits)| bits.clone())
    }
}

/// A set of a segment's documents, one bit each.
#[derive(Debug, Default)]
struct Bits {
    words: Vec<u64>,
    count: u32,
}

impl Bits {
    /// The documents holding any of these terms.
    fn any_of(segment: &SegmentReader, common: &CommonTerms, terms: &[Term]) -> tantivy::Result<Bits> {
        let max_doc = segment.max_doc();
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for term in terms {
            let inverted = segment.inverted_index(term.field())?;
            let Some(info) = inverted.get_term_info(term)? else { continue };
            let postings = || inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic);
            if u64::from(info.doc_freq) * COMMON_TERM_SHARE >= u64::from(max_doc) {
                let common = common.get(segment, term, || {
                    let mut own = vec![0u64; words.len()];
                    set_all(&mut postings()?, &mut own);
                    Ok(own)
                })?;
                for (w, c) in words.iter_mut().zip(common.iter()) {
                    *w |= c;
                }
            } else {
                set_all(&mut postings()?, &mut words);
            }
        }
        let count = words.iter().map(|w| w.count_ones()).sum();
        Ok(Bits { words, count })
    }

    /// Keeps only the documents also in `other`.
    fn keep(&mut self, other: &Bits) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w &= o;
        }
        self.count = self.words.iter().map(|w| w.count_ones()).sum();
    }

    fn contains(&self, doc: DocId) -> bool {
        self.words.get(doc as usize / 64).is_some_and(|w| w >> (doc % 64) & 1 == 1)
    }

    /// The first document from `doc` on, or `TERMINATED`.
    fn next_from(&self, doc: DocId) -> DocId {
        let mut i = doc as usize / 64;
        let Some(first) = self.words.get(i) else { return TERMINATED };
        let mut word = first & (u64::MAX << (doc % 64));
        loop {
            if word != 0 {
                return (i * 64) as DocId + word.trailing_zeros();
            }
            i += 1;
            match self.words.get(i) {
                Some(next) => word = *next,
                None => return TERMINATED,
            }
        }
    }
}

/// Adds the postings' documents to the bitset `words`.
fn set_all(postings: &mut SegmentPostings, words: &mut [u64]) {
    let mut doc = postings.doc();
    while doc != TERMINATED {
        words[doc as usize / 64] |= 1 << (doc % 64);
        doc = postings.advance();
    }
}

/// One leaf of the text (a word or phrase on one field) restricted to the allowed documents, so
/// that the OR of the leaves never scores a document the viewer may not see: a common word matches
/// a large share of the index, the viewer sees a small one.
#[derive(Debug)]
struct Restricted {
    leaf: Box<dyn Query>,
    allowed: Arc<Allowed>,
}

impl Clone for Restricted {
    fn clone(&self) -> Self {
        Restricted { leaf: self.leaf.box_clone(), allowed: self.allowed.clone() }
    }
}

impl Query for Restricted {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RestrictedWeight { leaf: self.leaf.weight(scoring)?, allowed: self.allowed.clone() }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.leaf.query_terms(visitor);
    }
}

struct RestrictedWeight {
    leaf: Box<dyn Weight>,
    allowed: Arc<Allowed>,
}

impl Weight for RestrictedWeight {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let bits = self.allowed.segment(segment);
        let mut scorer = RestrictedScorer { leaf: self.leaf.scorer(segment, boost)?, bits };
        let doc = scorer.leaf.doc();
        scorer.align(doc);
        Ok(Box::new(scorer))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !self.allowed.segment(segment).contains(doc) {
            return Err(TantivyError::InvalidArgument(format!("document {doc} is not allowed")));
        }
        self.leaf.explain(segment, doc)
    }
}

struct RestrictedScorer {
    leaf: Box<dyn Scorer>,
    bits: Arc<Bits>,
}

impl RestrictedScorer {
    /// From the leaf's `doc` on, the first document that is also allowed. Stepping through the
    /// leaf was measured faster than seeking it to the next allowed document: most gaps are short.
    fn align(&mut self, mut doc: DocId) -> DocId {
        while doc != TERMINATED && !self.bits.contains(doc) {
            doc = self.leaf.advance();
        }
        doc
    }
}

impl DocSet for RestrictedScorer {
    fn advance(&mut self) -> DocId {
        let doc = self.leaf.advance();
        self.align(doc)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let doc = self.leaf.seek(target);
        self.align(doc)
    }

    fn doc(&self) -> DocId {
        self.leaf.doc()
    }

    fn size_hint(&self) -> u32 {
        self.leaf.size_hint().min(self.bits.count)
    }
}

impl Scorer for RestrictedScorer {
    fn score(&mut self) -> Score {
        self.leaf.score()
    }
}

/// All the allowed documents, each with a score of zero: a search without text.
#[derive(Clone, Debug)]
struct AllowedQuery(Arc<Allowed>);

impl Query for AllowedQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AllowedWeight(self.0.clone())))
    }
}

struct AllowedWeight(Arc<Allowed>);

impl Weight for AllowedWeight {
    fn scorer(&self, segment: &SegmentReader, _: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let bits = self.0.segment(segment);
        Ok(Box::new(AllowedScorer { doc: bits.next_from(0), bits }))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !self.0.segment(segment).contains(doc) {
            return Err(TantivyError::InvalidArgument(format!("document {doc} is not allowed")));
        }
        Ok(Explanation::new("allowed", 0.0))
    }
}

struct AllowedScorer {
    bits: Arc<Bits>,
    doc: DocId,
}

impl DocSet for AllowedScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.bits.next_from(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc != TERMINATED && target > self.doc {
            self.doc = self.bits.next_from(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.bits.count
    }
}

impl Scorer for AllowedScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

/// A ranked hit. `key` maps the sort value to u64 preserving its order, so one heap serves all
/// sorts.
#[derive(Clone, Copy)]
struct Ranked {
    key: u64,
    id: i64,
    score: Score,
}

impl Ranked {
    fn rank(&self) -> (u64, i64) {
        (self.key, self.id)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Order-preserving maps to u64: floats by flipping their sign bit (negatives: all bits), signed
/// integers by flipping theirs.
fn f64_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

fn i64_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// The single pass over the matches: total, top hits and all facet counts (module comment).
struct Collect {
    sort: Sort,
    /// offset + limit: the hits any page up to this one needs.
    keep: usize,
    fields: Fields,
}

enum SortColumn {
    Score,
    I64(Column<i64>),
    F64(Column<f64>),
}

impl SortColumn {
    fn key(&self, doc: DocId, score: Score) -> u64 {
        match self {
            SortColumn::Score => f64_key(f64::from(score)),
            SortColumn::I64(c) => i64_key(c.first(doc).unwrap_or(i64::MIN)),
            SortColumn::F64(c) => f64_key(c.first(doc).unwrap_or(f64::NEG_INFINITY)),
        }
    }
}

struct Top {
    keep: usize,
    ids: Column<i64>,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl Top {
    fn offer(&mut self, doc: DocId, key: u64, score: Score) {
        if self.keep == 0 {
            return;
        }
        let full = self.heap.len() == self.keep;
        // Most documents lose on the key alone; only the others need their id read.
        if full && self.heap.peek().is_some_and(|worst| key < worst.0.key) {
            return;
        }
        let candidate = Ranked { key, id: self.ids.first(doc).unwrap_or_default(), score };
        if !full {
            self.heap.push(Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate > worst.0
        {
            *worst = Reverse(candidate);
        }
    }
}

struct FacetCount {
    facet: Facet,
    column: StrColumn,
    counts: Vec<u64>,
}

struct SegmentCollect {
    total: u64,
    sort: SortColumn,
    top: Top,
    facets: Vec<FacetCount>,
    /// Matches wait here until a block is full: columns are read a block at a time, which costs
    /// far less per document than one read each.
    docs: Vec<DocId>,
    scores: Vec<Score>,
    ords: Vec<Option<u64>>,
}

impl SegmentCollect {
    fn flush(&mut self) {
        self.total += self.docs.len() as u64;
        for facet in &mut self.facets {
            self.ords.clear();
            self.ords.resize(self.docs.len(), None);
            facet.column.ords().first_vals(&self.docs, &mut self.ords);
            for ord in self.ords.iter().flatten() {
                facet.counts[*ord as usize] += 1;
            }
        }
        for (&doc, &score) in self.docs.iter().zip(&self.scores) {
            self.top.offer(doc, self.sort.key(doc, score), score);
        }
        self.docs.clear();
        self.scores.clear();
    }
}

struct SegmentFruit {
    total: u64,
    top: Vec<Ranked>,
    facets: Vec<FacetCount>,
}

impl Collector for Collect {
    type Fruit = (u64, Vec<Ranked>, Vec<(Facet, Vec<(String, u64)>)>);
    type Child = SegmentCollect;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentCollect> {
        let columns = segment.fast_fields();
        let sort = match self.sort {
            Sort::Relevance => SortColumn::Score,
            Sort::Newest => SortColumn::I64(columns.i64(field_name(segment, self.fields.published_at))?),
            Sort::MostUsed => SortColumn::I64(columns.i64(field_name(segment, self.fields.uses))?),
            Sort::Rating => SortColumn::F64(columns.f64(field_name(segment, self.fields.rating))?),
        };
        let mut facets = Vec::new();
        for facet in Facet::ALL {
            // A segment where no document has the facet has no column for it.
            if let Some(column) = columns.str(facet.column())? {
                facets.push(FacetCount { facet, counts: vec![0; column.num_terms()], column });
            }
        }
        let ids = columns.i64(field_name(segment, self.fields.id))?;
        Ok(SegmentCollect {
            total: 0,
            sort,
            top: Top { keep: self.keep, ids, heap: BinaryHeap::new() },
            facets,
            docs: Vec::with_capacity(2 * COLLECT_BLOCK_BUFFER_LEN),
            scores: Vec::with_capacity(2 * COLLECT_BLOCK_BUFFER_LEN),
            ords: Vec::with_capacity(2 * COLLECT_BLOCK_BUFFER_LEN),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, segments: Vec<SegmentFruit>) -> tantivy::Result<Self::Fruit> {
        let mut total = 0;
        let mut top = Vec::new();
        let mut values: BTreeMap<Facet, Vec<(String, u64)>> = BTreeMap::new();
        for segment in segments {
            total += segment.total;
            top.extend(segment.top);
            for facet in segment.facets {
                let (ords, counts): (Vec<u64>, Vec<u64>) =
                    facet.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(o, &n)| (o as u64, n)).unzip();
                let mut counts = counts.into_iter();
                let merged = values.entry(facet.facet).or_default();
                // One ordered walk of the dictionary; a lookup per ordinal would decode a block each.
                facet.column.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
                    if let (Some(n), Ok(value)) = (counts.next(), std::str::from_utf8(bytes)) {
                        merged.push((value.to_owned(), n));
                    }
                })?;
            }
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        let facets = values
            .into_iter()
            .map(|(facet, mut values)| {
                // Each segment's values come in term order: the stable sort merges those runs.
                values.sort_by(|a, b| a.0.cmp(&b.0));
                values.dedup_by(|later, kept| {
                    later.0 == kept.0 && {
                        kept.1 += later.1;
                        true
                    }
                });
                // Stable, so equal counts stay in value order without comparing strings again.
                values.sort_by_key(|v| Reverse(v.1));
                (facet, values)
            })
            .collect();
        Ok((total, top, facets))
    }
}

fn field_name(segment: &SegmentReader, field: Field) -> &str {
    segment.schema().get_field_name(field)
}

impl SegmentCollector for SegmentCollect {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.docs.push(doc);
        self.scores.push(score);
        if self.docs.len() >= COLLECT_BLOCK_BUFFER_LEN {
            self.flush();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.docs.extend_from_slice(docs);
        self.scores.resize(self.docs.len(), 0.0);
        if self.docs.len() >= COLLECT_BLOCK_BUFFER_LEN {
            self.flush();
        }
    }

    fn harvest(mut self) -> SegmentFruit {
        self.flush();
        SegmentFruit { total: self.total, top: self.top.heap.into_iter().map(|r| r.0).collect(), facets: self.facets }
    }
}

/// Bitsets of the filter terms that many documents hold (the province's scope path, a subject),
/// per segment: reading them from their postings again for every search took a seventh of its
/// time. A segment never changes (deleted documents are a separate bitset that tantivy applies
/// when collecting), so an entry cannot go stale: a removed or replaced resource is gone from
/// results at the reload that follows the write. The reader calls this as its warmer to drop the
/// entries of segments that no searcher holds any more.
#[derive(Default)]
struct CommonTerms(Mutex<HashMap<(SegmentId, Term), SharedWords>>);

/// Bitset words shared by the searches that use them.
type SharedWords = Arc<Vec<u64>>;

impl CommonTerms {
    /// The documents of `term` in `segment` as bitset words.
    fn get(
        &self,
        segment: &SegmentReader,
        term: &Term,
        build: impl FnOnce() -> tantivy::Result<Vec<u64>>,
    ) -> tantivy::Result<SharedWords> {
        let key = (segment.segment_id(), term.clone());
        if let Some(words) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(words.clone());
        }
        // Built outside the lock, so other searches never wait for it.
        let words = Arc::new(build()?);
        let mut terms = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Few terms are common (each holds 1/64 of a segment or more, and a document has a few
        // filter terms): the cap only bounds memory against unusual data.
        if terms.len() < MAX_COMMON_TERMS {
            terms.insert(key, words.clone());
        }
        Ok(words)
    }
}

impl Warmer for CommonTerms {
    fn warm(&self, _: &Searcher) -> tantivy::Result<()> {
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let mut terms = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        terms.retain(|(segment, _), _| live.iter().any(|generation| generation.segments().contains_key(segment)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHOOL: &str = "/1/2/9/";

    fn viewer() -> Vec<String> {
        ["/1/", "/1/2/", "/1/2/9/"].map(String::from).to_vec()
    }

    fn res(id: i64, title: &str) -> IndexedResource {
        IndexedResource {
            id,
            title: title.into(),
            stage: "junior".into(),
            grade: Some(8),
            subject: "math".into(),
            resource_type: "courseware".into(),
            level: "school".into(),
            scope_paths: vec![SCHOOL.into()],
            published_at: 1_700_000_000 + id,
            ..IndexedResource::default()
        }
    }

    fn query(text: &str) -> SearchQuery {
        SearchQuery { text: text.into(), visible_in: viewer(), limit: 10, ..SearchQuery::default() }
    }

    fn index(docs: &[IndexedResource]) -> SearchIndex {
        let index = SearchIndex::open(None).unwrap();
        index.upsert(docs).unwrap();
        index
    }

    fn ids(index: &SearchIndex, q: &SearchQuery) -> Vec<i64> {
        index.search(q).unwrap().hits.iter().map(|h| h.id).collect()
    }

    fn facet(results: &SearchResults, facet: Facet) -> Vec<(&str, u64)> {
        results.facets[&facet].iter().map(|(v, n)| (v.as_str(), *n)).collect()
    }

    #[test]
    fn whole_words_outrank_scattered_characters() {
        let index =
            index(&[res(1, "股票中的数学"), res(2, "定理与证明的一般方法"), res(3, "勾股定理的证明"), res(4, "勾股定理的应用")]);
        let found = ids(&index, &query("勾股定理"));
        let mut first_two = found[..2].to_vec();
        first_two.sort();
        assert_eq!(first_two, [3, 4]);
        assert!(!found.contains(&1), "股票 shares characters, not the word: {found:?}");

        // The title that says exactly the query comes first, then the one with the same words.
        index.upsert(&[res(5, "证明：勾股定理（第1课时）")]).unwrap();
        assert_eq!(ids(&index, &query("勾股定理的证明"))[..2], [3, 5]);
        // Words are OR-ed: a document with one of them is found too, below the others.
        assert_eq!(ids(&index, &query("勾股定理的证明")).last(), Some(&2));
    }

    #[test]
    fn keywords_description_and_authors_are_searched_and_ascii_is_case_blind() {
        let mut a = res(1, "第一课");
        a.keywords = vec!["勾股定理".into()];
        let mut b = res(2, "第二课");
        b.description = "用Python画出勾股树".into();
        let mut c = res(3, "第三课");
        c.authors = vec!["王老师".into()];
        let index = index(&[a, b, c]);
        assert_eq!(ids(&index, &query("勾股定理")), [1]);
        assert_eq!(ids(&index, &query("python")), [2]);
        assert_eq!(ids(&index, &query("王老师")), [3]);
        // A quoted phrase must appear as written.
        assert_eq!(ids(&index, &query("\"画出勾股树\"")), [2]);
        assert!(ids(&index, &query("\"勾股树画出\"")).is_empty());
    }

    #[test]
    fn visibility_follows_scope_paths() {
        let mut recommended = res(2, "勾股定理的应用");
        recommended.scope_paths = vec![SCHOOL.into(), "/1/2/".into()];
        let index = index(&[res(1, "勾股定理的证明"), recommended]);
        assert_eq!(index.search(&query("勾股定理")).unwrap().total, 2);

        let mut other_school = query("勾股定理");
        other_school.visible_in = ["/1/", "/1/3/", "/1/3/7/"].map(String::from).to_vec();
        assert_eq!(index.search(&other_school).unwrap().total, 0);
        let mut same_district = query("勾股定理");
        same_district.visible_in = ["/1/", "/1/2/", "/1/2/8/"].map(String::from).to_vec();
        assert_eq!(ids(&index, &same_district), [2]);

        let mut nobody = query("");
        nobody.visible_in.clear();
        let results = index.search(&nobody).unwrap();
        assert_eq!((results.total, results.hits.len()), (0, 0));
        assert!(results.facets.values().all(Vec::is_empty));
    }

    #[test]
    fn facets_count_the_filtered_matches() {
        let mut docs = Vec::new();
        for id in 1..=6 {
            let mut r = res(id, "一元二次方程的解法");
            r.subject = if id <= 4 { "math" } else { "physics" }.into();
            r.grade = Some(if id % 2 == 0 { 8 } else { 9 });
            r.format = if id == 1 { "pdf" } else { "pptx" }.into();
            r.edition = if id == 6 { String::new() } else { "pep".into() };
            docs.push(r);
        }
        let index = index(&docs);
        let mut q = query("方程");
        q.filters = vec![(Facet::Subject, "math".into())];
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 4);
        assert_eq!(facet(&results, Facet::Subject), [("math", 4)]);
        assert_eq!(facet(&results, Facet::Grade), [("8", 2), ("9", 2)]);
        assert_eq!(facet(&results, Facet::Format), [("pptx", 3), ("pdf", 1)]);
        assert_eq!(facet(&results, Facet::Stage), [("junior", 4)]);
        assert!(results.facets[&Facet::Licence].is_empty());
        assert_eq!(results.facets.len(), Facet::ALL.len());

        // Unset values are not counted; counts ignore pagination.
        let mut all = query("");
        all.limit = 1;
        let results = index.search(&all).unwrap();
        assert_eq!(results.hits.len(), 1);
        assert_eq!(facet(&results, Facet::Edition), [("pep", 5)]);

        // Across facets AND; grade values are numbers.
        q.filters.push((Facet::Grade, "08".into()));
        assert_eq!(ids(&index, &q), [4, 2]);
        q.filters = vec![(Facet::Grade, "seven".into())];
        assert_eq!(index.search(&q).unwrap().total, 0);
    }

    #[test]
    fn values_of_one_facet_are_or_ed() {
        let mut docs = Vec::new();
        for (id, format) in [(1, "pdf"), (2, "pptx"), (3, "mp4"), (4, "pdf")] {
            let mut r = res(id, "课件");
            r.format = format.into();
            docs.push(r);
        }
        let index = index(&docs);
        let mut q = query("");
        q.filters = vec![(Facet::Format, "pdf".into()), (Facet::Format, "mp4".into())];
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 3);
        assert_eq!(facet(&results, Facet::Format), [("pdf", 2), ("mp4", 1)]);
    }

    #[test]
    fn chapter_filter_takes_in_sections_and_counts_the_deepest_node() {
        let mut docs = Vec::new();
        for (id, path) in [(1, vec![12, 40]), (2, vec![12, 40, 41]), (3, vec![12, 40, 42]), (4, vec![12, 50]), (5, vec![])] {
            let mut r = res(id, "教案");
            r.chapter_path = path;
            docs.push(r);
        }
        let index = index(&docs);
        let mut q = query("");
        q.filters = vec![(Facet::Chapter, "40".into())];
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 3);
        assert_eq!(facet(&results, Facet::Chapter), [("40", 1), ("41", 1), ("42", 1)]);
        q.filters = vec![(Facet::Chapter, "12".into())];
        assert_eq!(index.search(&q).unwrap().total, 4);
        q.filters = vec![(Facet::Chapter, "41".into())];
        assert_eq!(ids(&index, &q), [2]);
    }

    #[test]
    fn sorts_by_date_uses_and_rating_with_ties_by_id() {
        let mut docs = Vec::new();
        for (id, published_at, uses, rating) in [(1, 300, 5, 4.5), (2, 100, 50, 0.0), (3, 200, 5, 3.0), (4, 200, 7, 4.5)] {
            let mut r = res(id, "作文指导");
            (r.published_at, r.uses, r.rating) = (published_at, uses, rating);
            docs.push(r);
        }
        let index = index(&docs);
        let mut q = query("作文");
        q.sort = Sort::Newest;
        assert_eq!(ids(&index, &q), [1, 4, 3, 2]);
        q.sort = Sort::MostUsed;
        assert_eq!(ids(&index, &q), [2, 4, 3, 1]);
        q.sort = Sort::Rating;
        assert_eq!(ids(&index, &q), [4, 1, 3, 2]);
        assert!(index.search(&q).unwrap().hits.iter().all(|h| h.score == 0.0));
        q.sort = Sort::Relevance;
        assert!(index.search(&q).unwrap().hits.iter().all(|h| h.score > 0.0));
    }

    #[test]
    fn upsert_replaces_and_remove_deletes() {
        let index = index(&[res(1, "勾股定理的证明"), res(2, "勾股定理的应用")]);
        index.upsert(&[res(1, "圆的面积")]).unwrap();
        index.upsert(&[res(1, "圆的面积（修订）"), res(1, "圆的面积（第二版）")]).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(ids(&index, &query("勾股定理")), [2]);
        assert_eq!(ids(&index, &query("面积")), [1]);
        assert_eq!(ids(&index, &query("第二版")), [1]);

        index.remove(&[2, 99]).unwrap();
        assert_eq!(index.len(), 1);
        assert!(ids(&index, &query("勾股定理")).is_empty());
        index.remove(&[1]).unwrap();
        assert!(index.is_empty());
    }

    #[test]
    fn rebuild_replaces_everything_and_reports_progress() {
        let index = index(&[res(1, "勾股定理的证明"), res(2, "勾股定理的应用")]);
        let mut reported = Vec::new();
        let count = index.rebuild((10..10_015).map(|id| res(id, "古诗词鉴赏")), &mut |n| reported.push(n)).unwrap();
        assert_eq!(count, 10_005);
        assert_eq!(reported, [10_000, 10_005]);
        assert_eq!(index.len(), 10_005);
        assert!(ids(&index, &query("勾股定理")).is_empty());
        // The everyday writer comes back after a rebuild.
        index.upsert(&[res(1, "勾股定理的证明")]).unwrap();
        assert_eq!(ids(&index, &query("勾股定理")), [1]);
        assert_eq!(index.len(), 10_006);
    }

    #[test]
    fn empty_text_matches_everything_visible_newest_first() {
        let mut hidden = res(3, "秘密");
        hidden.scope_paths = vec!["/1/3/7/".into()];
        let index = index(&[res(1, "甲"), res(2, "乙"), hidden, res(4, "丙")]);
        let results = index.search(&query("")).unwrap();
        assert_eq!(results.total, 3);
        assert_eq!(results.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [4, 2, 1]);
        // Text with no word in it is no text.
        assert_eq!(index.search(&query(" ，。！ ")).unwrap().total, 3);
    }

    #[test]
    fn odd_query_syntax_never_fails() {
        let index = index(&[res(1, "unbalanced parentheses 勾股定理"), res(2, "AND OR NOT")]);
        for text in
            ["\"unbalanced ( AND OR", "title:勾股定理 AND", "-", "\\", "\"", "a\"b\"c\"", "*?~^2 [1 TO", "的", "IN [a b]", "((("]
        {
            index.search(&query(text)).unwrap();
        }
        assert_eq!(ids(&index, &query("\"unbalanced ( AND OR")), [2, 1]);
        // No field syntax either: "title" and "and" are plain words here.
        let mut found = ids(&index, &query("title:勾股定理 AND"));
        found.sort();
        assert_eq!(found, [1, 2]);
    }

    #[test]
    fn a_repeated_word_counts_once_and_filters_add_nothing_to_the_score() {
        let index = index(&[res(1, "勾股定理的证明"), res(2, "圆的面积")]);
        let score = |q: &SearchQuery| index.search(q).unwrap().hits[0].score;
        let once = score(&query("勾股定理"));
        assert_eq!(score(&query("勾股定理 勾股定理")), once);
        let mut filtered = query("勾股定理");
        filtered.filters = vec![(Facet::Subject, "math".into()), (Facet::Grade, "8".into())];
        assert_eq!(score(&filtered), once);
    }

    #[test]
    fn filters_and_visibility_hold_in_every_segment() {
        // Each upsert commits a segment of its own; the allowed set is computed per segment.
        let index = SearchIndex::open(None).unwrap();
        for id in 1..=12 {
            let mut r = res(id, if id % 2 == 0 { "勾股定理课件" } else { "勾股定理教案" });
            r.subject = if id % 3 == 0 { "physics" } else { "math" }.into();
            if id % 4 == 0 {
                r.scope_paths = vec!["/1/3/7/".into()];
            }
            index.upsert(&[r]).unwrap();
        }
        index.remove(&[1, 2]).unwrap();
        // Visible: all but 4, 8, 12; removed: 1, 2. Math: not 3, 6, 9, 12.
        let mut q = query("勾股定理");
        q.filters = vec![(Facet::Subject, "math".into())];
        let mut found = ids(&index, &q);
        found.sort();
        assert_eq!(found, [5, 7, 10, 11]);
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 4);
        assert_eq!(facet(&results, Facet::Subject), [("math", 4)]);
        q.text = "课件".into();
        assert_eq!(ids(&index, &q), [10]);
        q.text.clear();
        assert_eq!(ids(&index, &q), [11, 10, 7, 5]);
        q.filters.clear();
        assert_eq!(ids(&index, &q), [11, 10, 9, 7, 6, 5, 3]);
    }

    #[test]
    fn kept_filter_bitsets_never_show_a_removed_or_changed_document() {
        // In an index this small every filter term is common enough to be kept as a bitset.
        let docs: Vec<_> = (1..=6).map(|id| res(id, "勾股定理")).collect();
        let index = index(&docs);
        let mut math = query("");
        math.filters = vec![(Facet::Subject, "math".into())];
        let mut physics = math.clone();
        physics.filters = vec![(Facet::Subject, "physics".into())];
        assert_eq!(ids(&index, &math), [6, 5, 4, 3, 2, 1]);
        assert!(ids(&index, &physics).is_empty());

        let mut changed = res(3, "勾股定理");
        changed.subject = "physics".into();
        index.upsert(&[changed]).unwrap();
        index.remove(&[5]).unwrap();
        assert_eq!(ids(&index, &math), [6, 4, 2, 1]);
        assert_eq!(ids(&index, &physics), [3]);
        math.text = "勾股定理".into();
        let mut found = ids(&index, &math);
        found.sort();
        assert_eq!(found, [1, 2, 4, 6]);
        let results = index.search(&math).unwrap();
        assert_eq!(facet(&results, Facet::Subject), [("math", 4)]);

        // Bitsets of segments no searcher holds any more are dropped.
        index.rebuild((10..13).map(|id| res(id, "圆的面积")), &mut |_| {}).unwrap();
        assert!(ids(&index, &physics).is_empty());
        let searcher = index.inner.reader.searcher();
        index.inner.common_terms.garbage_collect(&[searcher.generation()]);
        let kept = index.inner.common_terms.0.lock().unwrap();
        assert!(!kept.is_empty());
        assert!(kept.keys().all(|(segment, _)| searcher.segment_readers().iter().any(|s| s.segment_id() == *segment)));
    }

    #[test]
    fn bitsets_step_across_words_and_intersect() {
        let mut bits = Bits { words: vec![1 << 63, 0, 1 | 1 << 5], count: 3 };
        assert!(bits.contains(63) && bits.contains(128) && bits.contains(133) && !bits.contains(0) && !bits.contains(999));
        assert_eq!([bits.next_from(0), bits.next_from(64), bits.next_from(129), bits.next_from(134)], [63, 128, 133, TERMINATED]);
        bits.keep(&Bits { words: vec![u64::MAX, 0, 1 << 5], count: 65 });
        assert_eq!((bits.count, bits.next_from(0), bits.next_from(64)), (2, 63, 133));
    }

    #[test]
    fn pages_through_the_results() {
        let docs: Vec<_> = (1..=25).map(|id| res(id, "单元测试卷")).collect();
        let index = index(&docs);
        let mut q = query("测试");
        q.sort = Sort::Newest;
        (q.offset, q.limit) = (20, 10);
        let results = index.search(&q).unwrap();
        assert_eq!(results.total, 25);
        assert_eq!(results.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [5, 4, 3, 2, 1]);
        (q.offset, q.limit) = (10, 3);
        assert_eq!(ids(&index, &q), [15, 14, 13]);
        q.limit = 0;
        let results = index.search(&q).unwrap();
        assert_eq!((results.total, results.hits.len()), (25, 0));
        assert_eq!(facet(&results, Facet::Grade), [("8", 25)]);
    }

    #[test]
    fn an_index_on_disk_is_reopened() {
        let dir = std::env::temp_dir().join(format!("hanlin-search-{}", std::process::id()));
        {
            let index = SearchIndex::open(Some(&dir)).unwrap();
            index.upsert(&[res(1, "勾股定理的证明")]).unwrap();
        }
        let index = SearchIndex::open(Some(&dir)).unwrap();
        assert_eq!(ids(&index, &query("勾股定理")), [1]);
        drop(index);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
