// The Lucene peer of the search benchmark (tests/bench/search.sh): Lucene 8 (Debian
// liblucene8-java) with SmartChineseAnalyzer, doing what tests/src/bin/search-bench.rs does with
// kongjian::search, on the same corpus (tests/src/bin/search-corpus.rs).
//
//   javac -cp JARS -d CLASSES SearchBench.java
//   java -cp CLASSES:JARS SearchBench --corpus DIR --index-dir DIR [--threads 2] [--ram-mb 256]
//        [--warmup 2] [--rounds 3]
//
// S3: the documents (read into memory first, not timed) are added by --threads threads to one
// IndexWriter (RAM buffer --ram-mb in all, default merge policy and scheduler), then one commit:
// documents per second up to and including the commit, and the time until close() has finished
// the merges too. Fields mirror Kongjian's schema for this corpus: id (StringField, stored),
// title and body (TextField, stored, SmartChineseAnalyzer), subject, grade, type and access
// (StringField).
//
// S1: the queries, one thread, each parsed by a MultiFieldQueryParser over title^4, keywords^3,
// description^1.5 and body (Kongjian's fields and boosts; keywords and description are empty in
// this corpus, on both sides), default operator AND, with phrase queries generated for a word
// the analyzer splits (as tantivy's parser does); then +parsed, FILTER access:org:bench, and
// FILTER subject/grade when the query has one; top 10 by score; the stored id of each hit is
// read. The text is the same string Kongjian parses: term -> the word, and -> "a b",
// or -> "a OR b", phrase -> "\"ab\"". --warmup untimed passes, then --rounds timed passes;
// p50/p99 over every timed query (nearest rank). Totals of hits (IndexSearcher.count) are
// gathered outside the timing, for comparing the engines.
//
// Prints one JSON object on standard output, progress on standard error.

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.cn.smart.SmartChineseAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.MultiFieldQueryParser;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

public class SearchBench {
    static final String ACCESS = "org:bench";

    static final class Doc {
        final String id, subject, grade, title, body;

        Doc(String id, String subject, String grade, String title, String body) {
            this.id = id;
            this.subject = subject;
            this.grade = grade;
            this.title = title;
            this.body = body;
        }
    }

    static final class Q {
        final String kind, words, text, subject, grade;

        Q(String kind, String words, String subject, String grade) {
            this.kind = kind;
            this.words = words;
            this.subject = subject;
            this.grade = grade;
            switch (kind) {
                case "or":
                    this.text = String.join(" OR ", words.split(" "));
                    break;
                case "phrase":
                    this.text = "\"" + words + "\"";
                    break;
                default:
                    this.text = words;
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        a.put("--threads", "2");
        a.put("--ram-mb", "256");
        a.put("--warmup", "2");
        a.put("--rounds", "3");
        for (int i = 0; i < argv.length; i += 2) {
            if (i + 1 >= argv.length) throw new IllegalArgumentException(argv[i] + " needs a value");
            a.put(argv[i], argv[i + 1]);
        }
        if (!a.containsKey("--corpus") || !a.containsKey("--index-dir")) {
            System.err.println("usage: SearchBench --corpus DIR --index-dir DIR [--threads 2] [--ram-mb 256] [--warmup 2] [--rounds 3]");
            System.exit(2);
        }
        Path corpus = Paths.get(a.get("--corpus"));
        Path indexDir = Paths.get(a.get("--index-dir"));
        int threads = Integer.parseInt(a.get("--threads"));
        double ramMb = Double.parseDouble(a.get("--ram-mb"));
        int warmup = Integer.parseInt(a.get("--warmup"));
        int rounds = Integer.parseInt(a.get("--rounds"));

        long start = System.nanoTime();
        List<Doc> docs = new ArrayList<>();
        long textBytes = 0;
        try (BufferedReader r = Files.newBufferedReader(corpus.resolve("docs.tsv"), StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] c = line.split("\t", 5);
                if (c.length != 5) throw new IllegalStateException("docs.tsv: expected 5 columns: " + line);
                docs.add(new Doc(c[0], c[1], c[2], c[3], c[4]));
                textBytes += c[3].getBytes(StandardCharsets.UTF_8).length + c[4].getBytes(StandardCharsets.UTF_8).length;
            }
        }
        List<Q> queries = new ArrayList<>();
        for (String line : Files.readAllLines(corpus.resolve("queries.tsv"), StandardCharsets.UTF_8)) {
            if (line.isEmpty()) continue;
            String[] c = line.split("\t", -1);
            queries.add(new Q(c[0], c[1], c.length > 2 ? c[2] : "", c.length > 3 ? c[3] : ""));
        }
        System.err.printf(Locale.ROOT, "lucene: read %d documents (%.0f MB of text) and %d queries in %.1f s%n",
                docs.size(), textBytes / 1e6, queries.size(), (System.nanoTime() - start) / 1e9);

        Analyzer analyzer = new SmartChineseAnalyzer();
        // Load the analyzer's dictionaries before the clock starts.
        try (org.apache.lucene.analysis.TokenStream ts = analyzer.tokenStream("body", "二次函数的图像")) {
            ts.reset();
            while (ts.incrementToken()) { }
            ts.end();
        }

        // ------------------------------------------------------------ S3
        Files.createDirectories(indexDir);
        FSDirectory dir = FSDirectory.open(indexDir);
        IndexWriterConfig config = new IndexWriterConfig(analyzer)
                .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
                .setRAMBufferSizeMB(ramMb);
        long t0 = System.nanoTime();
        IndexWriter writer = new IndexWriter(dir, config);
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        final List<Doc> all = docs;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                try {
                    int i;
                    while ((i = next.getAndIncrement()) < all.size()) {
                        Doc d = all.get(i);
                        Document doc = new Document();
                        doc.add(new StringField("id", d.id, Field.Store.YES));
                        doc.add(new TextField("title", d.title, Field.Store.YES));
                        doc.add(new TextField("body", d.body, Field.Store.YES));
                        doc.add(new StringField("subject", d.subject, Field.Store.NO));
                        doc.add(new StringField("grade", d.grade, Field.Store.NO));
                        doc.add(new StringField("type", "课件", Field.Store.NO));
                        doc.add(new StringField("access", ACCESS, Field.Store.NO));
                        writer.addDocument(doc);
                    }
                } catch (Throwable e) {
                    failed.compareAndSet(null, e);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        if (failed.get() != null) throw new RuntimeException(failed.get());
        double added = (System.nanoTime() - t0) / 1e9;
        writer.commit();
        double committed = (System.nanoTime() - t0) / 1e9;
        writer.close();
        double merged = (System.nanoTime() - t0) / 1e9;
        int n = docs.size();
        docs = null;
        System.err.printf(Locale.ROOT, "lucene: indexed %d documents in %.1f s with the commit (%.0f docs/s), %.1f s with the merges%n",
                n, committed, n / committed, merged);

        DirectoryReader reader = DirectoryReader.open(dir);
        if (reader.numDocs() != n) throw new IllegalStateException("the index holds " + reader.numDocs() + " documents, not " + n);
        int segments = reader.leaves().size();
        long indexBytes = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(indexDir)) {
            for (Path p : files) if (Files.isRegularFile(p)) indexBytes += Files.size(p);
        }
        IndexSearcher searcher = new IndexSearcher(reader);

        // ------------------------------------------------------------ S1
        Map<String, Float> boosts = new HashMap<>();
        boosts.put("title", 4.0f);
        boosts.put("keywords", 3.0f);
        boosts.put("description", 1.5f);
        boosts.put("body", 1.0f);
        MultiFieldQueryParser parser = new MultiFieldQueryParser(
                new String[] {"title", "keywords", "description", "body"}, analyzer, boosts);
        parser.setDefaultOperator(QueryParser.Operator.AND);
        parser.setSplitOnWhitespace(true);
        parser.setAutoGeneratePhraseQueries(true);
        Set<String> idOnly = Collections.singleton("id");

        int[] totals = new int[queries.size()];
        int[] top = new int[queries.size()];
        String[] firstIds = new String[queries.size()];
        for (int i = 0; i < queries.size(); i++) totals[i] = searcher.count(build(parser, queries.get(i)));
        for (int w = 0; w < warmup; w++) {
            for (int i = 0; i < queries.size(); i++) top[i] = run(parser, searcher, queries.get(i), idOnly, null);
        }
        double[] samples = new double[queries.size() * rounds];
        Map<String, List<Double>> byKind = new TreeMap<>();
        int k = 0;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < queries.size(); i++) {
                Q q = queries.get(i);
                String[] first = new String[1];
                long s = System.nanoTime();
                int hits = run(parser, searcher, q, idOnly, first);
                double us = (System.nanoTime() - s) / 1e3;
                samples[k++] = us;
                byKind.computeIfAbsent(q.kind, x -> new ArrayList<>()).add(us);
                if (round == 0) {
                    top[i] = hits;
                    firstIds[i] = first[0] == null ? "" : first[0];
                }
            }
        }
        String s1 = summary(samples);
        System.err.printf(Locale.ROOT, "lucene: S1 over %d queries x %d rounds: %s%n", queries.size(), rounds, s1);

        StringBuilder out = new StringBuilder();
        out.append("{\"engine\":\"lucene\",\"version\":\"").append(Version.LATEST).append("\"");
        out.append(",\"java\":\"").append(System.getProperty("java.version")).append("\"");
        out.append(",\"analyzer\":\"SmartChineseAnalyzer\"");
        out.append(String.format(Locale.ROOT, ",\"settings\":{\"threads\":%d,\"ram_mb\":%s,\"warmup\":%d,\"rounds\":%d,\"max_heap_mb\":%d}",
                threads, trim(ramMb), warmup, rounds, Runtime.getRuntime().maxMemory() / (1024 * 1024)));
        out.append(String.format(Locale.ROOT,
                ",\"s3\":{\"docs\":%d,\"text_mb\":%s,\"seconds_to_add\":%s,\"seconds_to_commit\":%s,\"docs_per_s\":%s,\"seconds_with_merges\":%s,\"docs_per_s_with_merges\":%s,\"segments\":%d,\"index_mb\":%s}",
                n, trim(textBytes / 1e6), trim(added), trim(committed), trim(n / committed), trim(merged), trim(n / merged), segments, trim(indexBytes / 1e6)));
        out.append(",\"s1\":").append(s1);
        out.append(",\"s1_by_kind\":{");
        boolean firstKind = true;
        for (Map.Entry<String, List<Double>> e : byKind.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            out.append(firstKind ? "" : ",").append('"').append(e.getKey()).append("\":").append(summary(v));
            firstKind = false;
        }
        out.append('}');
        out.append(",\"hits\":").append(hits(queries, totals, top, firstIds));
        out.append('}');
        System.out.println(out);
        reader.close();
        dir.close();
    }

    static Query build(MultiFieldQueryParser parser, Q q) throws Exception {
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        b.add(parser.parse(q.text), BooleanClause.Occur.MUST);
        b.add(new TermQuery(new Term("access", ACCESS)), BooleanClause.Occur.FILTER);
        if (!q.subject.isEmpty()) b.add(new TermQuery(new Term("subject", q.subject)), BooleanClause.Occur.FILTER);
        if (!q.grade.isEmpty()) b.add(new TermQuery(new Term("grade", q.grade)), BooleanClause.Occur.FILTER);
        return b.build();
    }

    /** One timed query: parse, search the top 10, read their stored ids. */
    static int run(MultiFieldQueryParser parser, IndexSearcher searcher, Q q, Set<String> idOnly, String[] first)
            throws Exception {
        TopDocs found = searcher.search(build(parser, q), 10);
        int n = 0;
        for (ScoreDoc sd : found.scoreDocs) {
            String id = searcher.doc(sd.doc, idOnly).get("id");
            if (n == 0 && first != null) first[0] = id;
            n++;
        }
        return n;
    }

    static String summary(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        double sum = 0;
        for (double x : s) sum += x;
        return String.format(Locale.ROOT, "{\"count\":%d,\"p50_us\":%s,\"p90_us\":%s,\"p99_us\":%s,\"mean_us\":%s,\"max_us\":%s}",
                s.length, r1(pct(s, 50)), r1(pct(s, 90)), r1(pct(s, 99)), r1(sum / Math.max(1, s.length)),
                r1(s.length == 0 ? 0 : s[s.length - 1]));
    }

    static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
    }

    static String r1(double x) {
        return trim(Math.round(x * 10.0) / 10.0);
    }

    static String trim(double x) {
        return String.format(Locale.ROOT, "%.6f", x).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    static String hits(List<Q> queries, int[] totals, int[] top, String[] firstIds) {
        Map<String, long[]> kinds = new TreeMap<>();
        int zero = 0;
        for (int i = 0; i < queries.size(); i++) {
            long[] e = kinds.computeIfAbsent(queries.get(i).kind, x -> new long[3]);
            e[0]++;
            if (totals[i] == 0) {
                e[1]++;
                zero++;
            }
            e[2] += totals[i];
        }
        int[] sorted = totals.clone();
        Arrays.sort(sorted);
        StringBuilder b = new StringBuilder();
        b.append("{\"queries\":").append(queries.size()).append(",\"zero_hits\":").append(zero);
        b.append(",\"median_total\":").append(sorted.length == 0 ? 0 : sorted[sorted.length / 2]);
        b.append(",\"by_kind\":{");
        boolean first = true;
        for (Map.Entry<String, long[]> e : kinds.entrySet()) {
            long[] v = e.getValue();
            b.append(first ? "" : ",").append('"').append(e.getKey()).append("\":{\"queries\":").append(v[0])
                    .append(",\"zero_hits\":").append(v[1]).append(",\"mean_total\":").append(trim((double) v[2] / Math.max(1, v[0]))).append('}');
            first = false;
        }
        b.append("},\"totals\":").append(Arrays.toString(totals).replace(" ", ""));
        b.append(",\"top_hits\":").append(Arrays.toString(top).replace(" ", ""));
        b.append(",\"first_ids\":[");
        for (int i = 0; i < firstIds.length; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(firstIds[i] == null ? "" : firstIds[i]).append('"');
        }
        b.append("]}");
        return b.toString();
    }
}
