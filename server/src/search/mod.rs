//! Chinese full-text search over teaching resources: a tantivy index with a jieba tokenizer in
//! search mode (so 函数 finds 二次函数), per-node and derived from the database.
//!
//! Every document carries `access` tokens saying who may see it (its owner, and the class,
//! school or district it is published to); every query is intersected with the searcher's own
//! tokens before anything is counted, so hits, totals and facet numbers never reveal a
//! resource the searcher may not see. The index records in its commit payload how far along
//! the database's outbox it is (see [`indexer`]).

pub mod indexer;
pub mod pairs;
mod restrict;
mod tally;
pub mod words;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, Query, QueryParser, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    LowerCaser, NgramTokenizer, RemoveLongFilter, StopWordFilter, TextAnalyzer,
    TextAnalyzerBuilder, Tokenizer,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term, doc,
};

/// The tokenizer names registered on the index.
const JIEBA: &str = "jieba";
const PREFIX: &str = "title_prefix";

/// Bumped whenever the schema or the analysis changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

/// The longest query text accepted (characters); longer queries are refused with a clear error.
pub const MAX_QUERY_CHARS: usize = 200;

/// Results per page, and how deep paging may go.
pub const PAGE: usize = 20;
pub const MAX_OFFSET: usize = 1_000;

/// Punctuation and whitespace jieba emits as tokens of their own; they carry no meaning.
const NOISE: &[&str] = &[
    " ", "\t", "\n", "\r", "　", "，", "。", "、", "；", "：", "？", "！", "“", "”", "‘", "’",
    "（", "）", "《", "》", "【", "】", "—", "…", "·", ",", ".", ";", ":", "?", "!", "\"", "'",
    "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "-", "_", "*", "#", "+", "=", "|", "~", "`",
    "@", "&", "%", "^", "$",
];

/// The fields of the index.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub title_prefix: Field,
    pub keywords: Field,
    pub description: Field,
    pub body: Field,
    pub subject: Field,
    pub grade: Field,
    pub kind: Field,
    pub edition: Field,
    pub access: Field,
    pub published: Field,
    pub usage: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(JIEBA)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let prefix = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PREFIX)
            .set_index_option(IndexRecordOption::Basic),
    );
    let facet = FacetOptions::default().set_stored();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", words(true)),
        title_prefix: b.add_text_field("title_prefix", prefix),
        keywords: b.add_text_field("keywords", words(true)),
        description: b.add_text_field("description", words(true)),
        body: b.add_text_field("body", words(true)),
        subject: b.add_facet_field("subject", facet.clone()),
        grade: b.add_facet_field("grade", facet.clone()),
        kind: b.add_facet_field("type", facet.clone()),
        edition: b.add_facet_field("edition", facet),
        access: b.add_text_field("access", STRING),
        published: b.add_i64_field("published", FAST | STORED | INDEXED),
        usage: b.add_u64_field("usage", FAST),
    };
    (b.build(), fields)
}

/// jieba over the shared dictionary with the education word list (`words`), lower-cased, with
/// punctuation and whitespace tokens dropped.
fn words_analyzer(search_mode: bool) -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(words::Words { search_mode })
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            NOISE.iter().map(|s| (*s).to_owned()),
        ))
}

/// The analyzer used for every Chinese text field: jieba in search mode, and the pairs of
/// touching words (`pairs`) so phrases are term lookups. Public so benchmarks measure exactly
/// this.
pub fn analyzer() -> TextAnalyzer {
    words_analyzer(true).filter(pairs::Pairs::Index).build()
}

/// The analyzer of query text: jieba in its default mode. A compound the index holds whole (as
/// well as in parts, by search mode) is then one term, not a phrase of its parts: 二次函数 is
/// looked up as 二次函数, and 函数 as 函数 — which the index also holds inside 二次函数. Words
/// that touch are looked up by their pairs.
pub fn query_analyzer() -> TextAnalyzer {
    words_analyzer(false).filter(pairs::Pairs::Query).build()
}

/// The index's words (not their pairs) in text order, for highlighting: search mode emits a
/// compound after its parts (二次, 函数, 二次函数), which the snippet code expects sorted.
#[derive(Clone)]
struct InTextOrder(TextAnalyzer);

impl InTextOrder {
    fn new() -> InTextOrder {
        InTextOrder(words_analyzer(true).build())
    }
}

impl tantivy::tokenizer::Tokenizer for InTextOrder {
    type TokenStream<'a> = tantivy::tokenizer::PreTokenizedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        use tantivy::tokenizer::TokenStream;
        let mut tokens = Vec::new();
        let mut stream = self.0.token_stream(text);
        while stream.advance() {
            tokens.push(stream.token().clone());
        }
        tokens.sort_by_key(|t| (t.offset_from, std::cmp::Reverse(t.offset_to)));
        tantivy::tokenizer::PreTokenizedString {
            text: String::new(),
            tokens,
        }
        .into()
    }
}

/// Bytes of text before the first match from which a snippet is chosen, and twice as many
/// after it (re-analysing a whole document for every hit costs more than the search): about
/// 200 Chinese characters for a snippet of 120.
const SNIPPET_WINDOW: usize = 200;

/// The part of `text` around the first occurrence of any of `terms`, on char boundaries.
fn window<'a>(text: &'a str, terms: &[String]) -> &'a str {
    if text.len() <= SNIPPET_WINDOW * 3 {
        return text;
    }
    // The terms are lower case; Chinese has no case, so the text is searched as it is and
    // lower-cased only when that finds nothing.
    let first = |haystack: &str| terms.iter().filter_map(|t| haystack.find(t.as_str())).min();
    let at = match first(text) {
        found @ Some(_) => found,
        None => {
            let lower = text.to_lowercase();
            if lower.len() != text.len() {
                return text;
            }
            first(&lower)
        }
    };
    let Some(at) = at else {
        return &text[..floor(text, SNIPPET_WINDOW * 3)];
    };
    let start = floor(text, at.saturating_sub(SNIPPET_WINDOW));
    let end = floor(text, (at + SNIPPET_WINDOW * 2).min(text.len()));
    &text[start..end]
}

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn prefix_analyzer() -> Result<TextAnalyzer, tantivy::TantivyError> {
    Ok(TextAnalyzer::builder(NgramTokenizer::prefix_only(1, 24)?)
        .filter(LowerCaser)
        .build())
}

/// What one resource looks like to the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexDoc {
    pub id: String,
    pub title: String,
    pub keywords: String,
    pub description: String,
    pub body: String,
    pub subject: String,
    pub grade: String,
    pub kind: String,
    pub edition: String,
    /// Who may find it: `owner:<person id>`, `class:<class id>`, `org:<org id>`.
    pub access: Vec<String>,
    /// Microseconds since the epoch: published, or last changed for the owner's unpublished ones.
    pub published: i64,
    pub usage: u64,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
    MostUsed,
}

impl Sort {
    pub fn parse(value: &str) -> Option<Sort> {
        match value {
            "" | "relevance" => Some(Sort::Relevance),
            "newest" => Some(Sort::Newest),
            "used" | "most_used" => Some(Sort::MostUsed),
            _ => None,
        }
    }
}

/// One search, already checked: the text is at most [`MAX_QUERY_CHARS`] characters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub subject: Option<String>,
    pub grade: Option<String>,
    pub kind: Option<String>,
    pub edition: Option<String>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// The searcher's access tokens; a document is seen only if it shares one.
    pub access: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub title: String,
    /// HTML: the text escaped, matches in `<mark>`.
    pub snippet: String,
    pub subject: String,
    pub grade: String,
    pub kind: String,
    pub edition: String,
    pub score: f32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: usize,
    /// Per facet (`subject`, `grade`, `type`, `edition`): value → count.
    pub facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
    pub next_offset: Option<usize>,
}

/// The index of one node: one writer (behind a mutex, used by the indexer task or by
/// `kongjian reindex`), and a reader reloaded after every commit.
#[derive(Clone)]
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    pub fields: Fields,
    parser: Arc<QueryParser>,
    title_parser: Arc<QueryParser>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Open(#[from] tantivy::directory::error::OpenDirectoryError),
}

impl SearchIndex {
    /// Open the index in `dir`, creating it when missing. An index written with another
    /// schema version is wiped (it is derived state) and must be rebuilt; `fresh` says so.
    pub fn open(dir: &Path) -> Result<(SearchIndex, bool), IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let version_file = dir.join("kongjian-schema-version");
        let current = std::fs::read_to_string(&version_file).ok();
        let wanted = SCHEMA_VERSION.to_string();
        let mut fresh = false;
        if current.as_deref().map(str::trim) != Some(wanted.as_str()) {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            fresh = true;
        }
        let directory = tantivy::directory::MmapDirectory::open(dir)?;
        let index = Index::open_or_create(directory, schema)?;
        if fresh {
            std::fs::write(&version_file, &wanted)?;
        }
        Ok((SearchIndex::with_index(index, fields)?, fresh))
    }

    /// An index held in memory (tests, benchmarks).
    pub fn in_memory() -> Result<SearchIndex, IndexError> {
        let (schema, fields) = schema();
        SearchIndex::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<SearchIndex, IndexError> {
        index.tokenizers().register(JIEBA, analyzer());
        index.tokenizers().register(PREFIX, prefix_analyzer()?);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let queries = tantivy::tokenizer::TokenizerManager::default();
        queries.register(JIEBA, query_analyzer());
        let mut parser = QueryParser::new(
            index.schema(),
            vec![
                fields.title,
                fields.keywords,
                fields.description,
                fields.body,
            ],
            queries.clone(),
        );
        parser.set_conjunction_by_default();
        parser.set_field_boost(fields.title, 4.0);
        parser.set_field_boost(fields.keywords, 3.0);
        parser.set_field_boost(fields.description, 1.5);
        let mut title_parser = QueryParser::new(index.schema(), vec![fields.title], queries);
        title_parser.set_conjunction_by_default();
        Ok(SearchIndex {
            index,
            reader,
            fields,
            parser: Arc::new(parser),
            title_parser: Arc::new(title_parser),
        })
    }

    /// The single writer of this index. Fails while another process holds it.
    pub fn writer(&self, heap_bytes: usize) -> Result<IndexWriter, IndexError> {
        Ok(self.index.writer(heap_bytes)?)
    }

    /// The writer with a set number of indexing threads (bulk loads).
    pub fn writer_with_threads(
        &self,
        threads: usize,
        heap_bytes: usize,
    ) -> Result<IndexWriter, IndexError> {
        Ok(self.index.writer_with_num_threads(threads, heap_bytes)?)
    }

    /// Make the last commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        Ok(self.reader.reload()?)
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// The outbox position recorded by the last commit (0 for a new index).
    pub fn position(&self) -> Result<i64, IndexError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0))
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The tantivy document for `doc`.
    pub fn document(&self, d: &IndexDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut document = doc!(
            f.id => d.id.as_str(),
            f.title => d.title.as_str(),
            f.title_prefix => d.title.as_str(),
            f.keywords => d.keywords.as_str(),
            f.description => d.description.as_str(),
            f.body => d.body.as_str(),
            f.published => d.published,
            f.usage => d.usage,
        );
        for (field, value) in [
            (f.subject, &d.subject),
            (f.grade, &d.grade),
            (f.kind, &d.kind),
            (f.edition, &d.edition),
        ] {
            if !value.is_empty() {
                document.add_facet(field, Facet::from_path([value.as_str()]));
            }
        }
        for token in &d.access {
            document.add_text(f.access, token);
        }
        document
    }

    /// The term that names a document, for deletes.
    pub fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.fields.id, id)
    }

    /// Parse the searcher's text; garbage never fails, it is read as well as it can be.
    fn text_query(&self, text: &str) -> Box<dyn Query> {
        let text = text.trim();
        if text.is_empty() {
            return Box::new(AllQuery);
        }
        let (query, _errors) = self.parser.parse_query_lenient(text);
        query
    }

    fn access_query(&self, access: &[String]) -> Box<dyn Query> {
        if access.is_empty() {
            return Box::new(EmptyQuery);
        }
        let terms = access
            .iter()
            .map(|t| Term::from_field_text(self.fields.access, t));
        Box::new(TermSetQuery::new(terms))
    }

    fn facet_term(field: Field, value: &Option<String>) -> Option<Term> {
        let value = value.as_deref().filter(|v| !v.is_empty())?;
        Some(Term::from_facet(field, &Facet::from_path([value])))
    }

    /// The query as run: the text, kept to the searcher's access and the chosen filters
    /// (see [`restrict`]: the restriction does not take part in scoring or pruning).
    fn full_query(&self, q: &SearchQuery) -> Box<dyn Query> {
        self.restricted(self.text_query(&q.text), q)
    }

    /// `text`, kept to `q`'s access and filters.
    fn restricted(&self, text: Box<dyn Query>, q: &SearchQuery) -> Box<dyn Query> {
        let f = &self.fields;
        if q.access.is_empty() {
            return Box::new(EmptyQuery);
        }
        let all = [
            (f.subject, &q.subject),
            (f.grade, &q.grade),
            (f.kind, &q.kind),
            (f.edition, &q.edition),
        ]
        .into_iter()
        .filter_map(|(field, value)| Self::facet_term(field, value))
        .collect();
        Box::new(restrict::Restricted {
            inner: text,
            any: q
                .access
                .iter()
                .map(|t| Term::from_field_text(f.access, t))
                .collect(),
            all,
        })
    }

    /// The top documents only (no facets, no snippets): ids and scores. What benchmarks time
    /// against another engine's plain top-k.
    pub fn top_ids(&self, q: &SearchQuery) -> Result<Vec<(f32, String)>, IndexError> {
        let searcher = self.searcher();
        let query = self.full_query(q);
        let top = searcher.search(
            &*query,
            &TopDocs::with_limit(q.limit.max(1))
                .and_offset(q.offset)
                .order_by_score(),
        )?;
        top.into_iter()
            .map(|(score, address)| Ok((score, self.stored_id(&searcher, address)?)))
            .collect()
    }

    fn stored_id(&self, searcher: &Searcher, address: DocAddress) -> Result<String, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        Ok(first_text(&doc, self.fields.id))
    }

    /// A page of results with facet counts, totals and snippets, all within the searcher's
    /// access.
    pub fn search(&self, q: &SearchQuery) -> Result<Results, IndexError> {
        let searcher = self.searcher();
        let text_query = self.text_query(&q.text);
        let query = self.restricted(text_query.box_clone(), q);
        let f = &self.fields;
        let limit = q.limit.clamp(1, 100);
        let page = TopDocs::with_limit(limit).and_offset(q.offset);
        // Ranked by score, the page is found with pruning and the tally is a pass of its own;
        // ordered by a fast field, neither scores and one pass does both.
        let (addresses, tallied): (Vec<(f32, DocAddress)>, tally::Tallied) = match q.sort {
            Sort::Relevance => (
                searcher.search(&*query, &page.order_by_score())?,
                searcher.search(&*query, &tally::Tally)?,
            ),
            Sort::Newest => {
                let (top, tallied) = searcher.search(
                    &*query,
                    &(
                        page.order_by_fast_field::<i64>("published", Order::Desc),
                        tally::Tally,
                    ),
                )?;
                (top.into_iter().map(|(_, a)| (0.0, a)).collect(), tallied)
            }
            Sort::MostUsed => {
                let (top, tallied) = searcher.search(
                    &*query,
                    &(
                        page.order_by_fast_field::<u64>("usage", Order::Desc),
                        tally::Tally,
                    ),
                )?;
                (top.into_iter().map(|(_, a)| (0.0, a)).collect(), tallied)
            }
        };
        let total = tallied.total;
        let mut result = Results {
            total,
            facets: tally::FACETS.into_iter().zip(tallied.facets).collect(),
            ..Results::default()
        };
        let has_text = !q.text.trim().is_empty();
        // The query's words, weighted as tantivy's own snippet generator weighs them, and
        // highlighted with the index's analyzer (so parts of compounds light up too).
        let mut terms: std::collections::BTreeMap<String, f32> = std::collections::BTreeMap::new();
        if has_text {
            let mut found: Vec<Term> = Vec::new();
            text_query.query_terms(&mut |term, _| found.push(term.clone()));
            for term in found {
                if term.field() != f.body && term.field() != f.description {
                    continue;
                }
                if let Some(text) = term.value().as_str() {
                    let weight = 1.0 / (1.0 + searcher.doc_freq(&term)? as f32);
                    // A pair lights up as its two words.
                    for word in pairs::words_of(text) {
                        let best = terms.entry(word.to_owned()).or_insert(weight);
                        *best = best.max(weight);
                    }
                }
            }
        }
        let words: Vec<String> = terms.keys().cloned().collect();
        let generator = |field: Field| -> Option<SnippetGenerator> {
            (!terms.is_empty()).then(|| {
                SnippetGenerator::new(
                    terms.clone(),
                    TextAnalyzer::from(InTextOrder::new()),
                    field,
                    120,
                )
            })
        };
        let body_snippets = generator(f.body);
        let description_snippets = generator(f.description);
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let body = first_text(&doc, f.body);
            let description = first_text(&doc, f.description);
            let snippet = [
                (&body_snippets, &body),
                (&description_snippets, &description),
            ]
            .into_iter()
            .filter_map(|(g, text)| g.as_ref().map(|g| g.snippet(window(text, &words))))
            .find(|s| !s.is_empty())
            .map(|s| marked(s.fragment(), s.highlighted()))
            .unwrap_or_else(|| {
                let text = if description.is_empty() {
                    &body
                } else {
                    &description
                };
                escape(&text.chars().take(120).collect::<String>())
            });
            result.hits.push(Hit {
                id: first_text(&doc, f.id),
                title: first_text(&doc, f.title),
                snippet,
                subject: first_facet(&doc, f.subject),
                grade: first_facet(&doc, f.grade),
                kind: first_facet(&doc, f.kind),
                edition: first_facet(&doc, f.edition),
                score,
            });
        }
        let next = q.offset + result.hits.len();
        if result.hits.len() == limit && next < total && next < MAX_OFFSET {
            result.next_offset = Some(next);
        }
        Ok(result)
    }

    /// Up to `limit` titles for search-as-you-type: titles starting with the text first, then
    /// titles containing its words, all within the searcher's access.
    pub fn suggest(
        &self,
        text: &str,
        access: &[String],
        limit: usize,
    ) -> Result<Vec<(String, String)>, IndexError> {
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let f = &self.fields;
        let prefix: String = text.chars().take(24).collect();
        let starts = TermQuery::new(
            Term::from_field_text(f.title_prefix, &prefix),
            IndexRecordOption::Basic,
        );
        let (words, _) = self.title_parser.parse_query_lenient(&text);
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(starts), 10.0)),
                    ),
                    (Occur::Should, words),
                ])),
            ),
            (
                Occur::Must,
                Box::new(BoostQuery::new(self.access_query(access), 0.0)),
            ),
        ]);
        let searcher = self.searcher();
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(limit.clamp(1, 20) * 2).order_by_score(),
        )?;
        let mut out: Vec<(String, String)> = Vec::new();
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let title = first_text(&doc, f.title);
            if !out.iter().any(|(_, t)| *t == title) {
                out.push((first_text(&doc, f.id), title));
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

fn first_text(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn first_facet(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_facet())
        .and_then(|f| Facet::from_encoded(f.as_bytes().to_vec()).ok())
        .map(|f| facet_value(&f))
        .unwrap_or_default()
}

fn facet_value(facet: &Facet) -> String {
    facet
        .to_path()
        .last()
        .map(|s| (*s).to_owned())
        .unwrap_or_default()
}

/// Escape text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The fragment escaped, with the highlighted byte ranges in `<mark>`.
fn marked(fragment: &str, highlighted: &[std::ops::Range<usize>]) -> String {
    let mut ranges = tantivy::snippet::collapse_overlapped_ranges(highlighted);
    ranges.retain(|r| {
        r.start <= r.end
            && r.end <= fragment.len()
            && fragment.is_char_boundary(r.start)
            && fragment.is_char_boundary(r.end)
    });
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        out.push_str(&escape(&fragment[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&escape(&fragment[r.clone()]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&escape(&fragment[at..]));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use tantivy::collector::Count;

    fn doc(id: &str, title: &str, body: &str, subject: &str, access: &[&str]) -> IndexDoc {
        IndexDoc {
            id: id.to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
            subject: subject.to_owned(),
            grade: "08".to_owned(),
            kind: "课件".to_owned(),
            access: access.iter().map(|s| (*s).to_owned()).collect(),
            published: 1,
            ..IndexDoc::default()
        }
    }

    fn index(docs: &[IndexDoc]) -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        let mut writer = index.writer_with_threads(1, 15_000_000).unwrap();
        for d in docs {
            writer.add_document(index.document(d)).unwrap();
        }
        writer.commit().unwrap();
        index.reload().unwrap();
        index
    }

    fn query(text: &str, access: &[&str]) -> SearchQuery {
        SearchQuery {
            text: text.to_owned(),
            limit: 10,
            access: access.iter().map(|s| (*s).to_owned()).collect(),
            ..SearchQuery::default()
        }
    }

    #[test]
    fn a_word_finds_the_compound_that_contains_it() {
        let index = index(&[
            doc(
                "a",
                "二次函数的图像",
                "研究二次函数的性质",
                "数学",
                &["org:s"],
            ),
            doc("b", "古诗词鉴赏", "唐诗宋词", "语文", &["org:s"]),
        ]);
        let found = index.search(&query("函数", &["org:s"])).unwrap();
        assert_eq!(found.total, 1);
        assert_eq!(found.hits[0].id, "a");
        assert!(
            found.hits[0].snippet.contains("<mark>"),
            "{}",
            found.hits[0].snippet
        );
    }

    #[test]
    fn the_tally_counts_what_tantivys_own_collectors_count() {
        use tantivy::collector::FacetCollector;
        let index = SearchIndex::in_memory().unwrap();
        let mut writer = index.writer_with_threads(1, 15_000_000).unwrap();
        let words = ["函数", "图像", "方程"];
        for round in 0..2 {
            for i in 0..300 {
                let n = round * 300 + i;
                let mut d = doc(
                    &n.to_string(),
                    words[n % 3],
                    &format!("{} {}", words[n % 2], words[n % 3]),
                    ["数学", "物理", "化学"][n % 3],
                    &[if n % 4 == 0 { "org:a" } else { "org:b" }],
                );
                d.grade = format!("{:02}", n % 12 + 1);
                d.kind = ["课件", "教案", "习题", "微课"][n % 4].to_owned();
                d.edition = if n % 5 == 0 {
                    String::new()
                } else {
                    ["人教版", "北师大版"][n % 2].to_owned()
                };
                d.published = n as i64;
                d.usage = (n % 17) as u64;
                writer.add_document(index.document(&d)).unwrap();
            }
            writer.commit().unwrap();
        }
        writer.delete_term(index.id_term("8"));
        writer.delete_term(index.id_term("9"));
        writer.commit().unwrap();
        index.reload().unwrap();
        assert!(index.searcher().segment_readers().len() >= 2);
        let facet = |name: &str| {
            let mut c = FacetCollector::for_field(name);
            c.add_facet("/");
            c
        };
        for text in ["函数", "", "图像 OR 方程", "\"函数 图像\""] {
            for sort in [Sort::Relevance, Sort::Newest, Sort::MostUsed] {
                let mut q = query(text, &["org:a", "owner:nobody"]);
                q.sort = sort;
                let got = index.search(&q).unwrap();
                let searcher = index.searcher();
                let (count, counts) = searcher
                    .search(
                        &*index.full_query(&q),
                        &(
                            Count,
                            (
                                facet("subject"),
                                facet("grade"),
                                facet("type"),
                                facet("edition"),
                            ),
                        ),
                    )
                    .unwrap();
                assert_eq!(got.total, count, "{text} {sort:?}");
                assert!(count > 0, "{text}");
                for (name, c) in [
                    ("subject", &counts.0),
                    ("grade", &counts.1),
                    ("type", &counts.2),
                    ("edition", &counts.3),
                ] {
                    let expected: BTreeMap<String, u64> =
                        c.get("/").map(|(f, n)| (facet_value(f), n)).collect();
                    assert_eq!(got.facets[name], expected, "{text} {sort:?} {name}");
                }
            }
        }
    }

    #[test]
    fn a_phrase_looked_up_by_its_pairs_finds_what_the_phrase_of_its_words_finds() {
        let texts = [
            "二次函数的图像",
            "函数与图像",
            "函数的图像和性质",
            "图像的函数",
            "一次函数的图像，二次函数的性质",
            "匀速直线运动和直线运动",
            "hello world 函数 图像",
            "函数，图像",
        ];
        let docs: Vec<IndexDoc> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| doc(&i.to_string(), "讲义", t, "数学", &["org:s"]))
            .collect();
        let index = index(&docs);
        let searcher = index.searcher();
        for phrase in [
            "函数的图像",
            "函数图像",
            "二次函数的",
            "直线运动",
            "的图像和性质",
            "hello world",
            "函数 图像",
            "函数，图像",
            "一次函数的图像，二次函数",
        ] {
            let mut words = Vec::new();
            let mut analyzer = words_analyzer(false).build();
            let mut stream = analyzer.token_stream(phrase);
            while stream.advance() {
                let t = stream.token();
                words.push((
                    t.position,
                    Term::from_field_text(index.fields.body, &t.text),
                ));
            }
            let of_words: Box<dyn Query> = if words.len() == 1 {
                Box::new(TermQuery::new(
                    words.remove(0).1,
                    IndexRecordOption::WithFreqsAndPositions,
                ))
            } else {
                Box::new(tantivy::query::PhraseQuery::new_with_offset(words))
            };
            let mut expected: Vec<String> = searcher
                .search(&*of_words, &tantivy::collector::DocSetCollector)
                .unwrap()
                .into_iter()
                .map(|a| index.stored_id(&searcher, a).unwrap())
                .collect();
            expected.sort();
            let mut got: Vec<String> = index
                .search(&query(&format!("\"{phrase}\""), &["org:s"]))
                .unwrap()
                .hits
                .into_iter()
                .map(|h| h.id)
                .collect();
            got.sort();
            assert_eq!(got, expected, "{phrase}");
        }
        // Two words are one term: their pair.
        let parsed = format!("{:?}", index.text_query("\"函数图像\""));
        assert!(!parsed.contains("Phrase"), "{parsed}");
    }

    #[test]
    fn hits_counts_and_facets_stay_within_access() {
        let index = index(&[
            doc("a", "函数", "函数", "数学", &["org:s1"]),
            doc("b", "函数", "函数", "物理", &["org:s2"]),
            doc("c", "函数", "函数", "化学", &["owner:p"]),
        ]);
        let found = index
            .search(&query("函数", &["org:s1", "owner:p"]))
            .unwrap();
        assert_eq!(found.total, 2);
        let subjects = &found.facets["subject"];
        assert_eq!(subjects.get("数学"), Some(&1));
        assert_eq!(subjects.get("化学"), Some(&1));
        assert_eq!(subjects.get("物理"), None);
        assert_eq!(index.search(&query("函数", &[])).unwrap().total, 0);
    }

    #[test]
    fn filters_phrases_and_garbage() {
        let index = index(&[
            doc("a", "二次函数的图像", "函数的图像", "数学", &["org:s"]),
            doc("b", "函数与图像", "图像 与 函数", "物理", &["org:s"]),
        ]);
        let mut q = query("函数", &["org:s"]);
        q.subject = Some("物理".to_owned());
        assert_eq!(index.search(&q).unwrap().hits[0].id, "b");
        let phrase = index.search(&query("\"函数的图像\"", &["org:s"])).unwrap();
        assert_eq!(phrase.total, 1);
        assert_eq!(phrase.hits[0].id, "a");
        for garbage in ["((((", "AND OR NOT", "title:", "\"", "*:*", "[1 TO", "^^^"] {
            index.search(&query(garbage, &["org:s"])).unwrap();
        }
    }

    #[test]
    fn suggestions_start_with_the_typed_text() {
        let index = index(&[
            doc("a", "二次函数的图像", "", "数学", &["org:s"]),
            doc("b", "一次函数", "", "数学", &["org:s"]),
            doc("c", "二次根式", "", "数学", &["org:other"]),
        ]);
        let s = index.suggest("二次", &["org:s".to_owned()], 5).unwrap();
        assert_eq!(s.first().map(|(id, _)| id.as_str()), Some("a"));
        assert!(!s.iter().any(|(id, _)| id == "c"));
    }

    #[test]
    fn the_restriction_keeps_the_same_hits_and_scores_as_a_filtering_boolean_query() {
        let index = SearchIndex::in_memory().unwrap();
        let mut writer = index.writer_with_threads(1, 15_000_000).unwrap();
        let words = ["函数", "图像", "方程", "几何", "概率", "二次函数"];
        for round in 0..2 {
            for i in 0..700 {
                let n = round * 700 + i;
                let body: Vec<&str> = (0..(n % 7 + 1))
                    .map(|k| words[(n * 31 + k * 7) % words.len()])
                    .collect();
                let token = if n % 50 == 0 {
                    "owner:rare"
                } else if n % 2 == 0 {
                    "org:even"
                } else {
                    "org:odd"
                };
                let mut d = doc(
                    &n.to_string(),
                    words[n % words.len()],
                    &body.join(" "),
                    if n % 3 == 0 { "数学" } else { "物理" },
                    &[token],
                );
                d.published = n as i64;
                writer.add_document(index.document(&d)).unwrap();
            }
            writer.commit().unwrap();
        }
        index.reload().unwrap();
        assert!(index.searcher().segment_readers().len() >= 2);
        for (text, access, subject) in [
            ("函数", vec!["org:even"], None),
            ("图像 方程", vec!["org:odd", "owner:rare"], Some("数学")),
            ("概率 OR 几何", vec!["owner:rare"], None),
            ("\"二次函数\"", vec!["org:even", "org:odd"], Some("物理")),
        ] {
            let access: Vec<String> = access.into_iter().map(str::to_owned).collect();
            let mut q = query(text, &[]);
            q.access = access.clone();
            q.subject = subject.map(str::to_owned);
            let got = index.top_ids(&q).unwrap();
            let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Must, index.text_query(text)),
                (
                    Occur::Must,
                    Box::new(BoostQuery::new(index.access_query(&access), 0.0)),
                ),
            ];
            if let Some(term) = SearchIndex::facet_term(index.fields.subject, &q.subject) {
                parts.push((
                    Occur::Must,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                        0.0,
                    )),
                ));
            }
            let searcher = index.searcher();
            let boolean = BooleanQuery::new(parts);
            let expected: Vec<(f32, String)> = searcher
                .search(&boolean, &TopDocs::with_limit(10).order_by_score())
                .unwrap()
                .into_iter()
                .map(|(score, a)| (score, index.stored_id(&searcher, a).unwrap()))
                .collect();
            assert!(!expected.is_empty(), "{text}");
            let scores = |v: &[(f32, String)]| {
                v.iter()
                    .map(|(s, _)| (s * 1000.0).round() as i64)
                    .collect::<Vec<_>>()
            };
            assert_eq!(scores(&got), scores(&expected), "{text}");
            let total = index.search(&q).unwrap().total;
            let count = searcher.search(&boolean, &Count).unwrap();
            assert_eq!(total, count, "{text}");
        }
    }

    #[test]
    fn compounds_highlight_in_long_texts_and_queries_are_plain_terms() {
        let long = format!(
            "{}研究二次函数的图像，一元二次方程与二次函数的关系。{}",
            "引言。".repeat(400),
            "结语。".repeat(400)
        );
        let index = index(&[doc("a", "讲义", &long, "数学", &["org:s"])]);
        for text in ["二次函数", "函数", "二次函数 图像", "\"二次函数的图像\""] {
            let found = index.search(&query(text, &["org:s"])).unwrap();
            assert_eq!(found.total, 1, "{text}");
            let snippet = &found.hits[0].snippet;
            assert!(snippet.contains("<mark>"), "{text}: {snippet}");
            assert!(
                snippet.chars().count() < 400,
                "{text}: the snippet is a window"
            );
        }
        // The query analyzer keeps a dictionary word whole: one term, not a phrase of the parts
        // search mode also indexes (光合, 作用), and those parts still find it.
        let parsed = format!("{:?}", index.text_query("光合作用"));
        assert!(!parsed.contains("Phrase"), "{parsed}");
        let index = super::tests::index(&[doc(
            "b",
            "光合作用",
            "叶绿体中的光合作用",
            "生物",
            &["org:s"],
        )]);
        for text in ["光合作用", "光合", "作用"] {
            assert_eq!(
                index.search(&query(text, &["org:s"])).unwrap().total,
                1,
                "{text}"
            );
        }
    }

    #[test]
    fn windows_stay_on_char_boundaries() {
        let text = format!("{}函数{}", "字".repeat(1000), "字".repeat(1000));
        let w = window(&text, &["函数".to_owned()]);
        assert!(w.contains("函数") && w.len() < text.len());
        assert_eq!(window("短", &["x".to_owned()]), "短");
    }

    #[test]
    fn snippets_escape_the_text() {
        assert_eq!(
            marked("a<b 函数", &[std::ops::Range { start: 4, end: 10 }]),
            "a&lt;b <mark>函数</mark>"
        );
    }
}
