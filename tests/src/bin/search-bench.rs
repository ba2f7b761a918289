//! `search-bench --corpus DIR [--threads 2] [--heap-mb 256] [--warmup 2] [--rounds 3]
//! [--index-dir DIR]`: Kongjian's side of the search benchmark (`tests/bench/search.sh`), using
//! `kongjian::search` directly — the same schema, jieba analyzer and query parser the server
//! uses — on the corpus `search-corpus` wrote.
//!
//! * S3, bulk indexing: every line of `docs.tsv` (read into memory first, not timed) becomes an
//!   `IndexDoc` (title, body, subject, grade, type 课件, access `org:bench`) and is added to an
//!   on-disk index (`SearchIndex::open` in a temporary directory) through a writer with
//!   `--threads` indexing threads and `--heap-mb` of memory in all; then one commit. Reported:
//!   documents per second up to and including the commit (fsync included), and the time until
//!   the background merges have finished too.
//! * S1, query latency: the queries of `queries.tsv`, one thread, each through
//!   `SearchIndex::top_ids` (top 10 with their stored ids, no facets or snippets) with the access
//!   `org:bench` and the query's subject or grade filter. The text given to the parser:
//!   `term` → the word, `and` → `a b` (conjunction is the default), `or` → `a OR b`,
//!   `phrase` → `"ab"` — exactly the strings the Lucene peer parses. `--warmup` untimed passes,
//!   then `--rounds` timed passes; p50/p99 over every timed query (nearest rank, exact).
//! * For sanity, outside the timing: the total number of hits of every query (one
//!   `SearchIndex::search` each, which also gives the page the HTTP API answers; its latency is
//!   reported as `full_page`).
//!
//! Prints one JSON object on standard output, progress on standard error.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use kongjian::search::{IndexDoc, SearchIndex, SearchQuery};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const ACCESS: &str = "org:bench";

struct Args {
    corpus: PathBuf,
    threads: usize,
    heap_mb: usize,
    warmup: usize,
    rounds: usize,
    /// Name this many of the slowest queries (median of the rounds) on standard error.
    slowest: usize,
    index_dir: Option<PathBuf>,
    /// Keep an index already in `index_dir` (profiling the queries); S3 is then not measured.
    reuse_index: bool,
    /// Skip the untimed pass that counts hits and times the full page (profiling S1 alone).
    no_totals: bool,
    /// Also time the prototype query shapes (`proto`) on the same index, interleaved.
    prototype: bool,
}

fn usage() -> &'static str {
    "usage: search-bench --corpus DIR [--threads 2] [--heap-mb 256] [--warmup 2] [--rounds 3] [--index-dir DIR [--reuse-index]] [--no-totals] [--prototype] [--slowest N]"
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut a = Args {
        corpus: PathBuf::new(),
        threads: 2,
        heap_mb: 256,
        warmup: 2,
        rounds: 3,
        slowest: 0,
        index_dir: None,
        reuse_index: false,
        no_totals: false,
        prototype: false,
    };
    let mut corpus = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value("--corpus")?)),
            "--threads" => a.threads = value("--threads")?.parse()?,
            "--heap-mb" => a.heap_mb = value("--heap-mb")?.parse()?,
            "--warmup" => a.warmup = value("--warmup")?.parse()?,
            "--rounds" => a.rounds = value("--rounds")?.parse()?,
            "--index-dir" => a.index_dir = Some(PathBuf::from(value("--index-dir")?)),
            "--reuse-index" => a.reuse_index = true,
            "--no-totals" => a.no_totals = true,
            "--prototype" => a.prototype = true,
            "--slowest" => a.slowest = value("--slowest")?.parse()?,
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
        }
    }
    a.corpus = corpus.ok_or("--corpus is required")?;
    if a.threads == 0 || a.rounds == 0 {
        return Err("--threads and --rounds must be positive".into());
    }
    Ok(a)
}

/// One query of `queries.tsv`.
pub struct BenchQuery {
    pub kind: String,
    /// The words as the corpus lists them.
    pub words: String,
    /// The query string both engines parse.
    pub text: String,
    pub subject: Option<String>,
    pub grade: Option<String>,
}

/// The query string for a line of `queries.tsv` (the Lucene peer builds the same).
pub fn query_text(kind: &str, words: &str) -> String {
    match kind {
        "or" => words.split(' ').collect::<Vec<_>>().join(" OR "),
        "phrase" => format!("\"{words}\""),
        _ => words.to_owned(),
    }
}

pub fn read_queries(path: &Path) -> Result<Vec<BenchQuery>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 {
            return Err(format!("{}:{}: expected kind<TAB>text[…]", path.display(), n + 1).into());
        }
        let opt = |i: usize| {
            cols.get(i)
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_owned())
        };
        out.push(BenchQuery {
            kind: cols[0].to_owned(),
            words: cols[1].to_owned(),
            text: query_text(cols[0], cols[1]),
            subject: opt(2),
            grade: opt(3),
        });
    }
    Ok(out)
}

fn read_docs(path: &Path) -> Result<Vec<IndexDoc>> {
    let text = std::fs::read_to_string(path)?;
    let mut docs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut cols = line.splitn(5, '\t');
        let (Some(id), Some(subject), Some(grade), Some(title), Some(body)) = (
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
        ) else {
            return Err(format!("{}:{}: expected 5 columns", path.display(), n + 1).into());
        };
        docs.push(IndexDoc {
            id: id.to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
            subject: subject.to_owned(),
            grade: grade.to_owned(),
            kind: "课件".to_owned(),
            access: vec![ACCESS.to_owned()],
            published: 1_767_225_600 + n as i64,
            ..IndexDoc::default()
        });
    }
    Ok(docs)
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn summary(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    let r = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "count": samples.len(),
        "p50_us": r(percentile(samples, 50.0)),
        "p90_us": r(percentile(samples, 90.0)),
        "p99_us": r(percentile(samples, 99.0)),
        "mean_us": r(mean),
        "max_us": r(samples.last().copied().unwrap_or(0.0)),
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn run(args: &Args) -> Result<Value> {
    let started = Instant::now();
    let docs = read_docs(&args.corpus.join("docs.tsv"))?;
    let queries = read_queries(&args.corpus.join("queries.tsv"))?;
    let text_bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    eprintln!(
        "kongjian: read {} documents ({:.0} MB of text) and {} queries in {:.1} s",
        docs.len(),
        text_bytes as f64 / 1e6,
        queries.len(),
        started.elapsed().as_secs_f64()
    );

    let temp;
    let dir = match &args.index_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("kj-search-bench")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let (index, _) = SearchIndex::open(&dir)?;
    // Load jieba's dictionary before the clock starts (the server has it loaded long before):
    // parsing a query runs the analyzer.
    index.top_ids(&SearchQuery {
        text: "二次函数的图像".to_owned(),
        limit: 1,
        access: vec![ACCESS.to_owned()],
        ..SearchQuery::default()
    })?;
    let heap = args.heap_mb * 1024 * 1024;

    // ---------------------------------------------------------------- S3
    if args.reuse_index && index.num_docs() == docs.len() as u64 {
        eprintln!(
            "kongjian: reusing the index in {} (S3 not measured)",
            dir.display()
        );
        return queries_part(
            args,
            &index,
            &queries,
            json!({"reused": dir.display().to_string()}),
        );
    }
    let t0 = Instant::now();
    let mut writer = index.writer_with_threads(args.threads, heap)?;
    for d in &docs {
        writer.add_document(index.document(d))?;
    }
    let added = t0.elapsed().as_secs_f64();
    writer.commit()?;
    let committed = t0.elapsed().as_secs_f64();
    writer.wait_merging_threads()?;
    let merged = t0.elapsed().as_secs_f64();
    index.reload()?;
    let searcher = index.searcher();
    let segments = searcher.segment_readers().len();
    let indexed = searcher.num_docs();
    drop(searcher);
    let n = docs.len() as f64;
    eprintln!(
        "kongjian: indexed {} documents in {committed:.1} s with the commit ({:.0} docs/s), {merged:.1} s with the merges; {segments} segments",
        docs.len(),
        n / committed
    );
    if indexed != docs.len() as u64 {
        return Err(format!("the index holds {indexed} documents, not {}", docs.len()).into());
    }
    let index_bytes = dir_bytes(&dir);
    drop(docs);
    let s3 = json!({
        "docs": n as u64,
        "text_mb": text_bytes as f64 / 1e6,
        "seconds_to_add": added,
        "seconds_to_commit": committed,
        "docs_per_s": n / committed,
        "seconds_with_merges": merged,
        "docs_per_s_with_merges": n / merged,
        "segments": segments,
        "index_mb": index_bytes as f64 / 1e6,
    });
    queries_part(args, &index, &queries, s3)
}

/// S1 and the hit counts, on a ready index.
fn queries_part(
    args: &Args,
    index: &SearchIndex,
    queries: &[BenchQuery],
    s3: Value,
) -> Result<Value> {
    // ---------------------------------------------------------------- hits (sanity), full page
    let query_of = |q: &BenchQuery, limit: usize| SearchQuery {
        text: q.text.clone(),
        subject: q.subject.clone(),
        grade: q.grade.clone(),
        limit,
        access: vec![ACCESS.to_owned()],
        ..SearchQuery::default()
    };
    // A panic inside `search` (tantivy's snippets once tripped over jieba's overlapping
    // search-mode tokens in builds with overflow checks) is counted, not fatal: the first is
    // printed, and that query's total is left at 0.
    let mut totals = Vec::with_capacity(queries.len());
    let mut full_page = Vec::with_capacity(queries.len());
    let mut panics = 0usize;
    let default_hook = std::panic::take_hook();
    let printed = std::sync::atomic::AtomicBool::new(false);
    std::panic::set_hook(Box::new(move |info| {
        if !printed.swap(true, std::sync::atomic::Ordering::Relaxed) {
            default_hook(info);
        }
    }));
    for q in queries.iter().filter(|_| !args.no_totals) {
        let sq = query_of(q, 10);
        let t = Instant::now();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| index.search(&sq)));
        full_page.push(t.elapsed().as_secs_f64() * 1e6);
        match found {
            Ok(found) => totals.push(found?.total),
            Err(_) => {
                panics += 1;
                totals.push(0);
            }
        }
    }
    let _ = std::panic::take_hook();
    if panics > 0 {
        eprintln!(
            "kongjian: SearchIndex::search panicked on {panics} of {} queries",
            queries.len()
        );
    }

    // ---------------------------------------------------------------- S1
    let prepared: Vec<SearchQuery> = queries.iter().map(|q| query_of(q, 10)).collect();
    let mut top_hits = vec![0usize; prepared.len()];
    for _ in 0..args.warmup {
        for (i, q) in prepared.iter().enumerate() {
            top_hits[i] = index.top_ids(q)?.len();
        }
    }
    let mut all = Vec::with_capacity(prepared.len() * args.rounds);
    let mut by_kind: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut first_ids: Vec<String> = vec![String::new(); prepared.len()];
    let mut per_query: Vec<Vec<f64>> = vec![Vec::new(); prepared.len()];
    for round in 0..args.rounds {
        for (i, q) in prepared.iter().enumerate() {
            let t = Instant::now();
            let top = index.top_ids(q)?;
            let us = t.elapsed().as_secs_f64() * 1e6;
            all.push(us);
            per_query[i].push(us);
            by_kind.entry(queries[i].kind.clone()).or_default().push(us);
            if round == 0 {
                first_ids[i] = top.first().map(|(_, id)| id.clone()).unwrap_or_default();
                top_hits[i] = top.len();
            }
        }
    }
    let s1 = summary(&mut all);
    if args.slowest > 0 {
        let mut medians: Vec<(f64, usize)> = per_query
            .iter_mut()
            .enumerate()
            .map(|(i, times)| {
                times.sort_by(f64::total_cmp);
                (times[times.len() / 2], i)
            })
            .collect();
        medians.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (us, i) in medians.iter().take(args.slowest) {
            let q = &queries[*i];
            eprintln!(
                "slow: {us:>9.0} µs  {:<6} {:<24} subject={:<4} grade={:<3} total={}",
                q.kind,
                q.text,
                q.subject.as_deref().unwrap_or("-"),
                q.grade.as_deref().unwrap_or("-"),
                totals.get(*i).copied().unwrap_or(0)
            );
        }
    }
    let prototype = if args.prototype {
        proto::measure(args, index, queries, &prepared, &totals, &first_ids)?
    } else {
        Value::Null
    };
    eprintln!(
        "kongjian: S1 over {} queries × {} rounds: p50 {} µs, p99 {} µs",
        prepared.len(),
        args.rounds,
        s1["p50_us"],
        s1["p99_us"]
    );

    Ok(json!({
        "engine": "kongjian",
        "analyzer": "jieba (search mode) with the education word list, kongjian::search::analyzer",
        "settings": {"threads": args.threads, "heap_mb": args.heap_mb, "warmup": args.warmup, "rounds": args.rounds},
        "s3": s3,
        "s1": s1,
        "s1_by_kind": by_kind.iter_mut().map(|(k, v)| (k.clone(), summary(v))).collect::<BTreeMap<_, _>>(),
        "full_page": summary(&mut full_page),
        "full_page_panics": panics,
        "hits": hits_report(queries, &totals, &top_hits, &first_ids),
        "prototype": prototype,
    }))
}

/// Hit counts per query, for comparing the engines: zero-hit queries per kind, and every
/// query's total (so the script can compare them one by one).
pub fn hits_report(
    queries: &[BenchQuery],
    totals: &[usize],
    top: &[usize],
    first_ids: &[String],
) -> Value {
    let mut kinds: BTreeMap<&str, (usize, usize, u64)> = BTreeMap::new();
    for (q, total) in queries.iter().zip(totals) {
        let e = kinds.entry(q.kind.as_str()).or_default();
        e.0 += 1;
        if *total == 0 {
            e.1 += 1;
        }
        e.2 += *total as u64;
    }
    let mut sorted: Vec<usize> = totals.to_vec();
    sorted.sort_unstable();
    json!({
        "queries": queries.len(),
        "zero_hits": totals.iter().filter(|t| **t == 0).count(),
        "median_total": sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        "by_kind": kinds.iter().map(|(k, (n, zero, sum))| {
            (k.to_string(), json!({"queries": n, "zero_hits": zero, "mean_total": *sum as f64 / (*n).max(1) as f64}))
        }).collect::<BTreeMap<_, _>>(),
        "totals": totals,
        "top_hits": top,
        "first_ids": first_ids,
    })
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("search-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--prototype`: the same index and queries, with the query shaped so that tantivy can skip
/// what cannot make the top 10 — measured next to `SearchIndex::top_ids` to size the fixes the
/// report proposes, not used by the server.
///
/// * The query text is tokenized by jieba in its default mode (the index keeps search mode):
///   a compound such as 二次函数 is one indexed token, so it becomes a term query instead of a
///   phrase over 二次 / 函数 / 二次函数 (which reads positions for every candidate).
/// * Filters (access, subject, grade) are plain term postings checked inside the text query's
///   own top-k loop (`Weight::for_each_pruning`, block-max WAND for a union of terms) — not a
///   `TermSetQuery`, which builds an FST and a bitset of every matching document per query,
///   and not a required clause, which turns off pruning.
mod proto {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use kongjian::search::{SearchIndex, SearchQuery};
    use serde_json::{Value, json};
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{
        BooleanQuery, BoostQuery, EnableScoring, Explanation, Occur, Query, QueryParser, Scorer,
        TermQuery, Weight,
    };
    use tantivy::schema::{Facet, IndexRecordOption, Value as _};
    use tantivy::tokenizer::TokenizerManager;
    use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TantivyDocument, Term};

    use super::{Args, BenchQuery, Result, summary};

    /// The text query, and groups of terms a document must have one of (each group).
    #[derive(Debug)]
    pub struct Filtered {
        text: Box<dyn Query>,
        groups: Vec<Vec<Term>>,
    }

    impl Clone for Filtered {
        fn clone(&self) -> Self {
            Filtered {
                text: self.text.box_clone(),
                groups: self.groups.clone(),
            }
        }
    }

    impl Query for Filtered {
        fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
            let text = self.text.weight(scoring)?;
            let quiet = EnableScoring::disabled_from_schema(scoring.schema());
            let mut groups = Vec::new();
            for g in &self.groups {
                let mut weights = Vec::new();
                for t in g {
                    weights
                        .push(TermQuery::new(t.clone(), IndexRecordOption::Basic).weight(quiet)?);
                }
                groups.push(weights);
            }
            // For counting and anything but top-k: text AND every group, the groups scoring 0.
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, self.text.box_clone())];
            for g in &self.groups {
                let any: Vec<(Occur, Box<dyn Query>)> = g
                    .iter()
                    .map(|t| {
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
                        (Occur::Should, q)
                    })
                    .collect();
                clauses.push((
                    Occur::Must,
                    Box::new(BoostQuery::new(Box::new(BooleanQuery::new(any)), 0.0)),
                ));
            }
            let plain = BooleanQuery::new(clauses).weight(scoring)?;
            Ok(Box::new(FilteredWeight {
                text,
                groups,
                plain,
            }))
        }
    }

    struct FilteredWeight {
        text: Box<dyn Weight>,
        groups: Vec<Vec<Box<dyn Weight>>>,
        plain: Box<dyn Weight>,
    }

    impl Weight for FilteredWeight {
        fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
            self.plain.scorer(reader, boost)
        }

        fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
            self.plain.explain(reader, doc)
        }

        fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
            self.plain.count(reader)
        }

        fn for_each_pruning(
            &self,
            threshold: Score,
            reader: &SegmentReader,
            callback: &mut dyn FnMut(DocId, Score) -> Score,
        ) -> tantivy::Result<()> {
            let mut groups: Vec<Vec<Box<dyn Scorer>>> = Vec::new();
            for g in &self.groups {
                let mut scorers = Vec::new();
                for w in g {
                    scorers.push(w.scorer(reader, 1.0)?);
                }
                groups.push(scorers);
            }
            let mut current = threshold;
            // The text query's own pruning loop hands over documents in increasing order;
            // one that fails a filter keeps the threshold where it was (as a deleted one does).
            self.text
                .for_each_pruning(threshold, reader, &mut |doc, score| {
                    for g in groups.iter_mut() {
                        let found = g.iter_mut().any(|s| {
                            let d = if s.doc() < doc { s.seek(doc) } else { s.doc() };
                            d == doc
                        });
                        if !found {
                            return current;
                        }
                    }
                    current = callback(doc, score);
                    current
                })
        }
    }

    pub struct Proto {
        parser: QueryParser,
        index: SearchIndex,
    }

    impl Proto {
        pub fn new(index: &SearchIndex) -> Proto {
            let f = index.fields;
            let tokenizers = TokenizerManager::default();
            // The server's own query analyzer: only the query's shape differs.
            tokenizers.register("jieba", kongjian::search::query_analyzer());
            let schema = index.searcher().schema().clone();
            let mut parser = QueryParser::new(
                schema,
                vec![f.title, f.keywords, f.description, f.body],
                tokenizers,
            );
            parser.set_conjunction_by_default();
            parser.set_field_boost(f.title, 4.0);
            parser.set_field_boost(f.keywords, 3.0);
            parser.set_field_boost(f.description, 1.5);
            Proto {
                parser,
                index: index.clone(),
            }
        }

        pub fn query(&self, q: &SearchQuery) -> Filtered {
            let f = &self.index.fields;
            let (text, _) = self.parser.parse_query_lenient(q.text.trim());
            let mut groups = vec![
                q.access
                    .iter()
                    .map(|t| Term::from_field_text(f.access, t))
                    .collect::<Vec<_>>(),
            ];
            for (field, value) in [(f.subject, &q.subject), (f.grade, &q.grade)] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    groups.push(vec![Term::from_facet(field, &Facet::from_path([v]))]);
                }
            }
            Filtered { text, groups }
        }

        pub fn top_ids(&self, searcher: &Searcher, q: &SearchQuery) -> Result<Vec<(f32, String)>> {
            let query = self.query(q);
            let top = searcher.search(
                &query,
                &TopDocs::with_limit(q.limit.max(1)).order_by_score(),
            )?;
            let mut out = Vec::with_capacity(top.len());
            for (score, address) in top {
                let doc: TantivyDocument = searcher.doc(address)?;
                let id = doc
                    .get_first(self.index.fields.id)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                out.push((score, id));
            }
            Ok(out)
        }
    }

    /// Time the prototype next to `top_ids`, round by round, and check it finds the same.
    pub fn measure(
        args: &Args,
        index: &SearchIndex,
        queries: &[BenchQuery],
        prepared: &[SearchQuery],
        totals: &[usize],
        first_ids: &[String],
    ) -> Result<Value> {
        let proto = Proto::new(index);
        let searcher = index.searcher();
        let mut proto_totals = Vec::with_capacity(prepared.len());
        for q in prepared {
            proto_totals.push(searcher.search(&proto.query(q), &Count)?);
        }
        for _ in 0..args.warmup {
            for q in prepared {
                proto.top_ids(&searcher, q)?;
            }
        }
        let (mut base, mut fast) = (Vec::new(), Vec::new());
        let mut by_kind: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let (mut same_top, mut same_first) = (0usize, 0usize);
        for round in 0..args.rounds {
            for (i, q) in prepared.iter().enumerate() {
                let t = Instant::now();
                let top = proto.top_ids(&searcher, q)?;
                let us = t.elapsed().as_secs_f64() * 1e6;
                fast.push(us);
                by_kind.entry(queries[i].kind.clone()).or_default().push(us);
                let t = Instant::now();
                let reference = index.top_ids(q)?;
                base.push(t.elapsed().as_secs_f64() * 1e6);
                if round == 0 {
                    let ids = |v: &[(f32, String)]| {
                        let mut ids: Vec<String> = v.iter().map(|(_, id)| id.clone()).collect();
                        ids.sort();
                        ids
                    };
                    if ids(&top) == ids(&reference) {
                        same_top += 1;
                    }
                    if top.first().map(|(_, id)| id.as_str()).unwrap_or("") == first_ids[i] {
                        same_first += 1;
                    }
                }
            }
        }
        let same_totals = proto_totals
            .iter()
            .zip(totals)
            .filter(|(a, b)| **a == **b)
            .count();
        let (s_fast, s_base) = (summary(&mut fast), summary(&mut base));
        eprintln!(
            "kongjian: prototype query shapes: p50 {} µs, p99 {} µs (top_ids alongside: p50 {} µs, p99 {} µs); same top 10 for {same_top} of {} queries",
            s_fast["p50_us"],
            s_fast["p99_us"],
            s_base["p50_us"],
            s_base["p99_us"],
            prepared.len()
        );
        Ok(json!({
            "s1": s_fast,
            "s1_by_kind": by_kind.iter_mut().map(|(k, v)| (k.clone(), summary(v))).collect::<BTreeMap<_, _>>(),
            "top_ids_alongside": s_base,
            "same_top10_set": same_top,
            "same_first_hit": same_first,
            "same_total": same_totals,
            "queries": prepared.len(),
        }))
    }
}
