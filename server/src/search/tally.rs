//! The total and the facet counts of a search, in one pass over the matching documents without
//! scoring them.
//!
//! tantivy's `FacetCollector` gathers each document's facet ordinals into a list and sorts them,
//! per facet field; four of them and a `Count` beside a top-k collector also turn off the
//! top-k's pruning, so every match was scored. Here the top documents are found with pruning
//! and this tally runs on its own: every segment keeps (cached, segments never change) one
//! array per facet field of each document's value ordinal, and a match adds one to a counter
//! per field. Every resource has at most one value per facet (`IndexDoc`).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The facet fields counted, by their names in the schema (and in the answer).
pub const FACETS: [&str; 4] = ["subject", "grade", "type", "edition"];

/// No value for this facet.
const NONE: u32 = u32::MAX;

/// One segment's facet values: per field, the values' names by ordinal, and each document's
/// ordinal.
struct Codes {
    names: [Vec<String>; 4],
    docs: [Vec<u32>; 4],
}

static CODES: LazyLock<moka::sync::Cache<SegmentId, Arc<Codes>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .weigher(|_, codes: &Arc<Codes>| {
            let docs: usize = codes.docs.iter().map(Vec::len).sum();
            u32::try_from(docs * 4 + 64).unwrap_or(u32::MAX)
        })
        .max_capacity(128 * 1024 * 1024)
        .build()
});

impl Codes {
    fn of(reader: &SegmentReader) -> tantivy::Result<Arc<Codes>> {
        let id = reader.segment_id();
        if let Some(codes) = CODES.get(&id) {
            return Ok(codes);
        }
        let mut names: [Vec<String>; 4] = Default::default();
        let mut docs: [Vec<u32>; 4] = Default::default();
        for (k, field) in FACETS.iter().enumerate() {
            let facets = reader.facet_reader(field)?;
            let mut facet = Facet::root();
            for ord in 0..facets.num_facets() {
                facets.facet_from_ord(ord as u64, &mut facet)?;
                names[k].push(super::facet_value(&facet));
            }
            docs[k] = (0..reader.max_doc())
                .map(|doc| {
                    facets
                        .facet_ords(doc)
                        .next()
                        .and_then(|ord| u32::try_from(ord).ok())
                        .unwrap_or(NONE)
                })
                .collect();
        }
        let codes = Arc::new(Codes { names, docs });
        CODES.insert(id, codes.clone());
        Ok(codes)
    }
}

/// What a tally finds: the number of matches, and per facet field value → count.
#[derive(Debug, Default)]
pub struct Tallied {
    pub total: usize,
    pub facets: [BTreeMap<String, u64>; 4],
}

/// The collector: counts and facet counts, no scores.
pub struct Tally;

impl Collector for Tally {
    type Fruit = Tallied;
    type Child = SegmentTally;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTally> {
        let codes = Codes::of(reader)?;
        let counts = std::array::from_fn(|k| vec![0; codes.names[k].len()]);
        Ok(SegmentTally {
            codes,
            counts,
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tallied>) -> tantivy::Result<Tallied> {
        let mut all = Tallied::default();
        for fruit in fruits {
            all.total += fruit.total;
            for (into, from) in all.facets.iter_mut().zip(fruit.facets) {
                for (name, n) in from {
                    *into.entry(name).or_default() += n;
                }
            }
        }
        Ok(all)
    }
}

pub struct SegmentTally {
    codes: Arc<Codes>,
    counts: [Vec<u64>; 4],
    total: usize,
}

impl SegmentCollector for SegmentTally {
    type Fruit = Tallied;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.total += 1;
        for (counts, docs) in self.counts.iter_mut().zip(&self.codes.docs) {
            if let Some(n) = docs
                .get(doc as usize)
                .and_then(|ord| counts.get_mut(*ord as usize))
            {
                *n += 1;
            }
        }
    }

    fn harvest(self) -> Tallied {
        let mut out = Tallied {
            total: self.total,
            ..Tallied::default()
        };
        for (k, counts) in self.counts.iter().enumerate() {
            for (ord, n) in counts.iter().enumerate() {
                if *n > 0 {
                    *out.facets[k]
                        .entry(self.codes.names[k][ord].clone())
                        .or_default() += n;
                }
            }
        }
        out
    }
}
