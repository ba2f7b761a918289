//! A query kept to the documents a searcher may see (and to the chosen filters) without
//! becoming part of the scoring query.
//!
//! Written as `text AND access AND filters`, a boolean query loses tantivy's block-max pruning
//! (it only prunes plain unions and intersections of terms), so every matching document would
//! be scored. Here the text query runs as it is — pruned when it can be — and each candidate is
//! checked against the restriction: "has one of these access tokens, and every filter term".
//! Tokens shared by many documents (a school, a district, a subject) are kept per segment as
//! bit sets, cached (segments never change); rare ones (an owner's own) are read each time.

use std::sync::{Arc, LazyLock};

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Below this many documents a token's set is a sorted list, read per query.
const FEW: u32 = 256;

/// Bit sets of common tokens per segment, bounded by memory.
static BITS: LazyLock<moka::sync::Cache<(SegmentId, Term), Arc<BitSet>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .weigher(|_, bits: &Arc<BitSet>| bits.max_value() / 8 + 64)
        .max_capacity(256 * 1024 * 1024)
        .build()
});

/// The documents of one term in one segment.
enum Set {
    Bits(Arc<BitSet>),
    Few(Vec<DocId>),
    Nothing,
}

impl Set {
    fn len(&self) -> usize {
        match self {
            Set::Bits(bits) => bits.len(),
            Set::Few(docs) => docs.len(),
            Set::Nothing => 0,
        }
    }

    /// The documents, ascending.
    fn for_each(&self, mut visit: impl FnMut(DocId) -> bool) {
        match self {
            Set::Bits(bits) => each_bit(bits, visit),
            Set::Few(docs) => {
                for doc in docs {
                    if !visit(*doc) {
                        return;
                    }
                }
            }
            Set::Nothing => {}
        }
    }

    fn contains(&self, doc: DocId) -> bool {
        match self {
            Set::Bits(bits) => bits.contains(doc),
            Set::Few(docs) => docs.binary_search(&doc).is_ok(),
            Set::Nothing => false,
        }
    }

    fn read(reader: &SegmentReader, term: &Term) -> tantivy::Result<Set> {
        let inverted = reader.inverted_index(term.field())?;
        let freq = inverted.doc_freq(term)?;
        if freq == 0 {
            return Ok(Set::Nothing);
        }
        let key = (reader.segment_id(), term.clone());
        if freq >= FEW
            && let Some(bits) = BITS.get(&key)
        {
            return Ok(Set::Bits(bits));
        }
        let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? else {
            return Ok(Set::Nothing);
        };
        if freq < FEW {
            let mut docs = Vec::with_capacity(freq as usize);
            let mut doc = postings.doc();
            while doc != TERMINATED {
                docs.push(doc);
                doc = postings.advance();
            }
            return Ok(Set::Few(docs));
        }
        let mut bits = BitSet::with_max_value(reader.max_doc());
        let mut doc = postings.doc();
        while doc != TERMINATED {
            bits.insert(doc);
            doc = postings.advance();
        }
        let bits = Arc::new(bits);
        BITS.insert(key, bits.clone());
        Ok(Set::Bits(bits))
    }
}

/// The members of `bits`, ascending, until `visit` says stop. A set made for documents below
/// `max_value` has `max_value / 64` buckets, rounded up.
fn each_bit(bits: &BitSet, mut visit: impl FnMut(DocId) -> bool) {
    for bucket in 0..bits.max_value().div_ceil(64) {
        let mut tiny = bits.tinyset(bucket);
        while let Some(low) = tiny.pop_lowest() {
            if !visit(bucket * 64 + low) {
                return;
            }
        }
    }
}

/// `inner`, kept to documents holding any of `any` and all of `all`.
#[derive(Debug)]
pub struct Restricted {
    pub inner: Box<dyn Query>,
    pub any: Vec<Term>,
    pub all: Vec<Term>,
}

impl Clone for Restricted {
    fn clone(&self) -> Self {
        Restricted {
            inner: self.inner.box_clone(),
            any: self.any.clone(),
            all: self.all.clone(),
        }
    }
}

impl Query for Restricted {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RestrictedWeight {
            inner: self.inner.weight(enable_scoring)?,
            any: self.any.clone(),
            all: self.all.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct RestrictedWeight {
    inner: Box<dyn Weight>,
    any: Vec<Term>,
    all: Vec<Term>,
}

/// The restriction in one segment.
struct Allowed {
    any: Vec<Set>,
    all: Vec<Set>,
}

impl Allowed {
    /// The smallest set every allowed document is in, if there is one.
    fn lead(&self) -> Option<&Set> {
        let mut candidates: Vec<&Set> = self.all.iter().collect();
        if self.any.len() == 1 {
            candidates.extend(self.any.iter());
        }
        candidates.into_iter().min_by_key(|s| s.len())
    }

    fn contains(&self, doc: DocId) -> bool {
        self.any.iter().any(|s| s.contains(doc)) && self.all.iter().all(|s| s.contains(doc))
    }
}

impl RestrictedWeight {
    fn allowed(&self, reader: &SegmentReader) -> tantivy::Result<Allowed> {
        Ok(Allowed {
            any: self
                .any
                .iter()
                .map(|t| Set::read(reader, t))
                .collect::<tantivy::Result<_>>()?,
            all: self
                .all
                .iter()
                .map(|t| Set::read(reader, t))
                .collect::<tantivy::Result<_>>()?,
        })
    }
}

impl Weight for RestrictedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let allowed = self.allowed(reader)?;
        let inner = self.inner.scorer(reader, boost)?;
        let mut scorer = RestrictedScorer { inner, allowed };
        let first = scorer.inner.doc();
        if first != TERMINATED && !scorer.allowed.contains(first) {
            scorer.advance();
        }
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !self.allowed(reader)?.contains(doc) {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is outside the restriction"
            )));
        }
        self.inner.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let allowed = self.allowed(reader)?;
        // A restriction much narrower than the text (a rare subject, one's own resources)
        // leads: visit its documents and seek the text scorer to each. Pruning on the text
        // would find few candidates that pass and so could never raise its threshold.
        if let Some(lead) = allowed.lead() {
            let mut scorer = self.inner.scorer(reader, 1.0)?;
            if (lead.len() as u64).saturating_mul(4) < scorer.cost() {
                let mut threshold = threshold;
                lead.for_each(|doc| {
                    let mut at = scorer.doc();
                    if at == TERMINATED {
                        return false;
                    }
                    if at < doc {
                        at = scorer.seek(doc);
                    }
                    if at == doc && allowed.contains(doc) {
                        let score = scorer.score();
                        if score > threshold {
                            threshold = callback(doc, score);
                        }
                    }
                    at != TERMINATED
                });
                return Ok(());
            }
        }
        let mut current = threshold;
        self.inner
            .for_each_pruning(threshold, reader, &mut |doc, score| {
                if allowed.contains(doc) {
                    current = callback(doc, score);
                }
                current
            })
    }
}

struct RestrictedScorer {
    inner: Box<dyn Scorer>,
    allowed: Allowed,
}

impl DocSet for RestrictedScorer {
    fn advance(&mut self) -> DocId {
        loop {
            let doc = self.inner.advance();
            if doc == TERMINATED || self.allowed.contains(doc) {
                return doc;
            }
        }
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for RestrictedScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment of 36,800 documents (575 whole buckets) once read one bucket too far.
    #[test]
    fn every_member_of_a_bit_set_is_visited_whatever_its_size() {
        for max_doc in [1, 63, 64, 65, 128, 36_800] {
            let mut bits = BitSet::with_max_value(max_doc);
            let members: Vec<DocId> = [0, max_doc / 2, max_doc - 1].into_iter().collect();
            for doc in &members {
                bits.insert(*doc);
            }
            let mut seen = Vec::new();
            each_bit(&bits, |doc| {
                seen.push(doc);
                true
            });
            let mut expected = members.clone();
            expected.dedup();
            assert_eq!(seen, expected, "max_doc {max_doc}");
        }
        let mut bits = BitSet::with_max_value(256);
        bits.insert(3);
        bits.insert(200);
        let mut first = Vec::new();
        each_bit(&bits, |doc| {
            first.push(doc);
            false
        });
        assert_eq!(first, vec![3], "stops when told");
    }
}
