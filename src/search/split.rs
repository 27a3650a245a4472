//! One pass over a query's hits that tells full matches from partial ones, keeping the best of
//! each and counting both. The filter of full matches is read once per segment into a bit set
//! (it is led by its rarest term, so that is cheap); searching and counting each kind on its
//! own took three passes and twice the time of the whole search, and stepping the filter to
//! every hit of the ranking query a quarter of it.

use std::cmp::Ordering;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

/// The hits of one search, sorted into full and partial matches.
#[derive(Debug, Default)]
pub struct Kept {
    /// The best full matches, best first (at most the number asked for).
    pub full: Vec<(Score, DocAddress)>,
    /// The best partial matches, best first.
    pub partial: Vec<(Score, DocAddress)>,
    /// Number of full matches in all.
    pub n_full: usize,
    /// Number of partial matches in all.
    pub n_partial: usize,
}

/// A collector keeping the `keep` best hits of each kind; `full` says which hits are full.
pub struct Split {
    full: Box<dyn Weight>,
    keep: usize,
}

impl Split {
    /// Keeps the `keep` best of each kind; `full` is the weight of the full-match filter.
    pub fn new(full: Box<dyn Weight>, keep: usize) -> Split {
        Split { full, keep }
    }
}

/// A hit ordered by score, then by address (the earlier first), as `TopDocs` orders them.
#[derive(Debug, Clone, Copy)]
struct Ranked(Score, DocAddress);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
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
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The `keep` best hits seen. Hits go into a buffer of twice that, which is cut back to the
/// best `keep` when full (as tantivy's `TopDocs` does): a heap cost an eighth of the search.
struct Best {
    keep: usize,
    buffer: Vec<Ranked>,
    /// Once the buffer has been cut, a hit no better than this cannot be among the best.
    threshold: Option<Ranked>,
}

impl Best {
    fn new(keep: usize) -> Best {
        Best {
            keep,
            buffer: Vec::with_capacity((2 * keep).min(2048)),
            threshold: None,
        }
    }

    fn push(&mut self, hit: Ranked) {
        if self.keep == 0 || self.threshold.is_some_and(|t| hit <= t) {
            return;
        }
        self.buffer.push(hit);
        if self.buffer.len() >= 2 * self.keep {
            self.cut();
        }
    }

    /// Keeps the best `keep` of the buffer.
    fn cut(&mut self) {
        if self.buffer.len() > self.keep {
            let k = self.keep - 1;
            self.buffer.select_nth_unstable_by(k, |a, b| b.cmp(a));
            self.buffer.truncate(self.keep);
            self.threshold = self.buffer.iter().min().copied();
        }
    }

    fn into_sorted(mut self) -> Vec<(Score, DocAddress)> {
        self.cut();
        self.buffer.sort_by(|a, b| b.cmp(a));
        self.buffer.into_iter().map(|r| (r.0, r.1)).collect()
    }
}

/// The collector's part for one segment.
pub struct SplitSegment {
    segment: SegmentOrdinal,
    /// Bit `d` set when document `d` of the segment is a full match.
    full: Vec<u64>,
    best_full: Best,
    best_partial: Best,
    n_full: usize,
    n_partial: usize,
}

impl Collector for Split {
    type Fruit = Kept;
    type Child = SplitSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SplitSegment> {
        let mut full = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
        let mut scorer = self.full.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if let Some(w) = full.get_mut(doc as usize / 64) {
                *w |= 1 << (doc % 64);
            }
            doc = scorer.advance();
        }
        Ok(SplitSegment {
            segment,
            full,
            best_full: Best::new(self.keep),
            best_partial: Best::new(self.keep),
            n_full: 0,
            n_partial: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Kept>) -> tantivy::Result<Kept> {
        let mut full = Best::new(self.keep);
        let mut partial = Best::new(self.keep);
        let mut out = Kept::default();
        for k in fruits {
            out.n_full += k.n_full;
            out.n_partial += k.n_partial;
            k.full.into_iter().for_each(|h| full.push(Ranked(h.0, h.1)));
            k.partial
                .into_iter()
                .for_each(|h| partial.push(Ranked(h.0, h.1)));
        }
        out.full = full.into_sorted();
        out.partial = partial.into_sorted();
        Ok(out)
    }
}

impl SegmentCollector for SplitSegment {
    type Fruit = Kept;

    fn collect(&mut self, doc: DocId, score: Score) {
        let is_full = self
            .full
            .get(doc as usize / 64)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0);
        let hit = Ranked(score, DocAddress::new(self.segment, doc));
        if is_full {
            self.n_full += 1;
            self.best_full.push(hit);
        } else {
            self.n_partial += 1;
            self.best_partial.push(hit);
        }
    }

    fn harvest(self) -> Kept {
        Kept {
            full: self.best_full.into_sorted(),
            partial: self.best_partial.into_sorted(),
            n_full: self.n_full,
            n_partial: self.n_partial,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_in_order() {
        let mut b = Best::new(3);
        for (s, d) in [
            (1.0, 5),
            (3.0, 1),
            (2.0, 2),
            (3.0, 0),
            (0.5, 9),
            (2.5, 7),
            (0.1, 8),
        ] {
            b.push(Ranked(s, DocAddress::new(0, d)));
        }
        let docs: Vec<u32> = b.into_sorted().iter().map(|h| h.1.doc_id).collect();
        // Equal scores: the earlier document first, as TopDocs does.
        assert_eq!(docs, [0, 1, 7]);
        let mut none = Best::new(0);
        none.push(Ranked(1.0, DocAddress::new(0, 1)));
        assert!(none.into_sorted().is_empty());
    }
}
