//! One search that tells full matches from partial ones, keeping the best of each. The filter
//! of full matches is read once per segment into a bit set (it is led by its rarest term, so
//! that is cheap) before the search, so the number of full matches is known first. The best
//! hits are then found with tantivy's pruning (block-max WAND over the query's terms), which
//! skips the blocks of postings that cannot reach the hits kept so far: scoring every hit of a
//! common syllable was most of a search at 200,000 articles. Whatever is kept is the same as
//! scoring every hit would keep; only the counts come from elsewhere (the bit sets, and a
//! count of the query's hits without scores).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

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
    /// Number of hits of the query, full and partial.
    pub n_any: usize,
}

/// What a search keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The best `n` hits whatever their kind (a long question, listed in score order).
    Mixed(usize),
    /// The best `n` full matches, and the best `n` partial ones when `partial` (a short
    /// query, whose full matches are listed first: partial ones are needed only when the full
    /// ones do not fill the page).
    Each { n: usize, partial: bool },
}

impl Keep {
    /// How many hits of each kind are kept.
    fn n(self) -> usize {
        match self {
            Keep::Mixed(n) | Keep::Each { n, .. } => n,
        }
    }
}

/// Segments of fewer documents are scored whole, counting as they go: below this, pruning
/// and then counting on their own took longer than scoring everything (measured at 10,000
/// materials in one segment: 5% slower).
const PRUNE_FROM: u32 = 20_000;

/// The full matches of a search: for each segment, bit `d` set when document `d` is a live
/// full match.
pub struct FullMatches {
    sets: Vec<Vec<u64>>,
    n: usize,
}

impl FullMatches {
    /// Reads the full-match filter (`full`, a weight of the searcher's) of every segment.
    pub fn read(searcher: &tantivy::Searcher, full: &dyn Weight) -> tantivy::Result<FullMatches> {
        let mut sets = Vec::with_capacity(searcher.segment_readers().len());
        let mut n = 0;
        for reader in searcher.segment_readers() {
            let mut set = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
            let mut scorer = full.scorer(reader, 1.0)?;
            let alive = reader.alive_bitset();
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc))
                    && let Some(w) = set.get_mut(doc as usize / 64)
                {
                    *w |= 1 << (doc % 64);
                    n += 1;
                }
                doc = scorer.advance();
            }
            sets.push(set);
        }
        Ok(FullMatches { sets, n })
    }

    /// Number of full matches, live ones only.
    pub fn count(&self) -> usize {
        self.n
    }

    fn holds(&self, addr: DocAddress) -> bool {
        self.sets
            .get(addr.segment_ord as usize)
            .is_some_and(|set| holds(set, addr.doc_id))
    }
}

/// Whether bit `doc` of `set` is set.
fn holds(set: &[u64], doc: DocId) -> bool {
    set.get(doc as usize / 64)
        .is_some_and(|w| w & (1 << (doc % 64)) != 0)
}

/// A collector of the best hits of a query, each marked full or partial.
pub struct Split {
    full: FullMatches,
    keep: Keep,
    /// The query's weight without scores, to count its hits where they are pruned.
    count: Box<dyn Weight>,
    /// Segments from this size on are pruned ([`PRUNE_FROM`]; tests prune every one).
    prune_from: u32,
}

impl Split {
    /// Keeps what `keep` says of the hits, marked by `full`; `count` is the query's weight
    /// without scores, which counts the hits of large segments.
    pub fn new(full: FullMatches, keep: Keep, count: Box<dyn Weight>) -> Split {
        Split {
            full,
            keep,
            count,
            prune_from: PRUNE_FROM,
        }
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

/// The `keep` best hits seen, in a heap whose least is always the exact bar a new hit must
/// pass: the pruning skips postings by it, so it must not lag.
struct Best {
    keep: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl Best {
    fn new(keep: usize) -> Best {
        Best {
            keep,
            heap: BinaryHeap::with_capacity(keep.min(1024) + 1),
        }
    }

    fn push(&mut self, hit: Ranked) {
        if self.keep == 0 {
            return;
        }
        if self.heap.len() < self.keep {
            self.heap.push(Reverse(hit));
        } else if let Some(mut least) = self.heap.peek_mut()
            && hit > least.0
        {
            *least = Reverse(hit);
        }
    }

    /// The score a hit must beat to be kept (any, until `keep` hits are held).
    fn bar(&self) -> Score {
        if self.heap.len() < self.keep {
            Score::MIN
        } else {
            self.heap.peek().map_or(Score::MIN, |r| r.0.0)
        }
    }

    fn into_sorted(self) -> Vec<(Score, DocAddress)> {
        let mut hits: Vec<Ranked> = self.heap.into_iter().map(|r| r.0).collect();
        hits.sort_by(|a, b| b.cmp(a));
        hits.into_iter().map(|r| (r.0, r.1)).collect()
    }
}

/// The collector's part for one segment.
pub struct SplitSegment<'a> {
    segment: SegmentOrdinal,
    full: &'a [u64],
    keep: Keep,
    best_full: Best,
    best_partial: Best,
}

impl SplitSegment<'_> {
    /// Keeps a hit if it is among the best so far, and says what a hit must now beat to be
    /// kept. `only` is the kind a pruned pass looks for (`None`: every hit is offered, the
    /// plain `collect` path).
    fn offer(&mut self, doc: DocId, score: Score, only: Option<bool>) -> Score {
        let full = holds(self.full, doc);
        let hit = Ranked(score, DocAddress::new(self.segment, doc));
        match self.keep {
            // One list for both kinds; `merge_fruits` sorts them out.
            Keep::Mixed(_) => self.best_full.push(hit),
            Keep::Each { partial, .. } => {
                if full && only != Some(false) {
                    self.best_full.push(hit);
                } else if !full && only != Some(true) && partial {
                    self.best_partial.push(hit);
                }
            }
        }
        self.bar(only)
    }

    fn harvest(self, n_any: usize) -> Kept {
        Kept {
            full: self.best_full.into_sorted(),
            partial: self.best_partial.into_sorted(),
            n_any,
        }
    }

    /// What a hit must beat to be kept by a pass looking for `only`.
    fn bar(&self, only: Option<bool>) -> Score {
        match (self.keep, only) {
            (Keep::Mixed(_), _) | (Keep::Each { .. }, Some(true)) => self.best_full.bar(),
            (Keep::Each { .. }, Some(false)) => self.best_partial.bar(),
            (Keep::Each { .. }, None) => Score::MIN,
        }
    }
}

impl Collector for Split {
    type Fruit = Kept;
    type Child = SplitSegment<'static>;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<SplitSegment<'static>> {
        // Every search goes through `collect_segment`, which borrows the bit sets.
        Err(tantivy::TantivyError::InternalError(
            "Split collects through collect_segment".into(),
        ))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Kept> {
        let full = self
            .full
            .sets
            .get(segment as usize)
            .map_or(&[][..], Vec::as_slice);
        let n = self.keep.n();
        let mut seg = SplitSegment {
            segment,
            full,
            keep: self.keep,
            best_full: Best::new(n),
            best_partial: Best::new(n),
        };
        let alive = reader.alive_bitset();
        if reader.num_docs() < self.prune_from {
            let mut n_any = 0;
            weight.for_each(reader, &mut |doc, score| {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    n_any += 1;
                    seg.offer(doc, score, None);
                }
            })?;
            return Ok(seg.harvest(n_any));
        }
        let pass = |seg: &mut SplitSegment, only: Option<bool>| {
            weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    return seg.bar(only);
                }
                seg.offer(doc, score, only)
            })
        };
        match self.keep {
            Keep::Mixed(_) => pass(&mut seg, None)?,
            Keep::Each { n, partial } => {
                let here: usize = full.iter().map(|w| w.count_ones() as usize).sum();
                if here <= n {
                    // Few full matches: each scored where it is.
                    let mut scorer = weight.scorer(reader, 1.0)?;
                    for doc in docs_of(full) {
                        if scorer.doc() < doc {
                            scorer.seek(doc);
                        }
                        if scorer.doc() == doc {
                            seg.best_full
                                .push(Ranked(scorer.score(), DocAddress::new(segment, doc)));
                        }
                    }
                } else {
                    pass(&mut seg, Some(true))?;
                }
                if partial {
                    pass(&mut seg, Some(false))?;
                }
            }
        }
        let n_any = self.count.count(reader)? as usize;
        Ok(seg.harvest(n_any))
    }

    fn merge_fruits(&self, fruits: Vec<Kept>) -> tantivy::Result<Kept> {
        let n = self.keep.n();
        let mut full = Best::new(n);
        let mut partial = Best::new(n);
        let mut n_any = 0;
        for k in fruits {
            n_any += k.n_any;
            k.full.into_iter().for_each(|h| full.push(Ranked(h.0, h.1)));
            k.partial
                .into_iter()
                .for_each(|h| partial.push(Ranked(h.0, h.1)));
        }
        let mut out = Kept {
            full: full.into_sorted(),
            partial: partial.into_sorted(),
            n_any,
        };
        if let Keep::Mixed(_) = self.keep {
            // One list of the best, marked by kind.
            let mixed = std::mem::take(&mut out.full);
            let (f, p): (Vec<_>, Vec<_>) = mixed.into_iter().partition(|h| self.full.holds(h.1));
            out.full = f;
            out.partial = p;
        }
        Ok(out)
    }
}

/// The documents whose bits are set, in order.
fn docs_of(set: &[u64]) -> impl Iterator<Item = DocId> + '_ {
    set.iter().enumerate().flat_map(|(i, &w)| {
        let mut w = w;
        std::iter::from_fn(move || {
            (w != 0).then(|| {
                let bit = w.trailing_zeros();
                w &= w - 1;
                i as DocId * 64 + bit
            })
        })
    })
}

impl SegmentCollector for SplitSegment<'static> {
    type Fruit = Kept;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(doc, score, None);
    }

    fn harvest(self) -> Kept {
        SplitSegment::harvest(self, 0)
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

    /// The pruned search keeps exactly what scoring every hit keeps, for queries whose terms
    /// are common and rare, short and long, over several segments with deleted documents.
    #[test]
    fn pruning_keeps_what_scoring_everything_keeps() {
        use crate::search::{document, query};
        use tantivy::Term;
        use tantivy::query::EnableScoring;

        let (index, f, mut w) = crate::search::test_index();
        let words = [
            "trồng", "lúa", "nước", "phân", "bón", "cho", "cây", "và", "của", "bệnh", "sởi", "trẻ",
            "em", "tiêm", "chủng", "lợn", "gà", "nuôi", "trong", "mùa", "rét",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for i in 0..3000 {
            // Common words everywhere, rarer ones (late in the list) less often.
            let len = 5 + next(40);
            let body: Vec<&str> = (0..len)
                .map(|_| words[next(words.len()).min(next(words.len()) + 3)])
                .collect();
            let body = body.join(" ");
            let title = words[next(words.len())];
            w.add_document(document(&f, &format!("m{i}"), "health", title, &body, &[]))
                .unwrap();
            if i % 1000 == 999 {
                w.commit().unwrap();
            }
        }
        for i in (0..3000).step_by(7) {
            w.delete_term(Term::from_field_text(f.id, &format!("m{i}")));
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        for text in [
            "lúa",
            "trồng lúa",
            "trong lua",
            "bệnh sởi trẻ em",
            "nuôi gà mùa rét",
            "cách trồng lúa nước và bón phân cho cây trong mùa rét như thế nào",
        ] {
            let built = query::build(&searcher, &f, text, None).unwrap();
            let any = built
                .any
                .weight(EnableScoring::enabled_from_searcher(&searcher))
                .unwrap();
            let full = built
                .full
                .weight(EnableScoring::disabled_from_searcher(&searcher))
                .unwrap();
            // Every hit scored, as the search did before it was pruned.
            let mut all: Vec<(bool, Ranked)> = Vec::new();
            let matches = || FullMatches::read(&searcher, full.as_ref()).unwrap();
            let split = matches();
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let alive = reader.alive_bitset();
                any.for_each(reader, &mut |doc, score| {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        let addr = DocAddress::new(ord as u32, doc);
                        all.push((split.holds(addr), Ranked(score, addr)));
                    }
                })
                .unwrap();
            }
            all.sort_by_key(|h| Reverse(h.1));
            let n_full = all.iter().filter(|h| h.0).count();
            assert_eq!(split.count(), n_full, "{text}");
            let ids = |hits: &[(Score, DocAddress)]| -> Vec<DocAddress> {
                hits.iter().map(|h| h.1).collect()
            };
            let best = |kind: Option<bool>, n: usize| -> Vec<DocAddress> {
                all.iter()
                    .filter(|h| kind.is_none_or(|k| h.0 == k))
                    .take(n)
                    .map(|h| h.1.1)
                    .collect()
            };
            let count = || {
                built
                    .any
                    .weight(EnableScoring::disabled_from_searcher(&searcher))
                    .unwrap()
            };
            for (n, prune_from) in [(1, 0), (10, 0), (30, 0), (10, u32::MAX)] {
                let mut mixed = Split::new(matches(), Keep::Mixed(n), count());
                mixed.prune_from = prune_from;
                let kept = searcher.search(built.any.as_ref(), &mixed).unwrap();
                assert_eq!(kept.n_any, all.len(), "{text}");
                let mut got: Vec<(Score, DocAddress)> =
                    kept.full.iter().chain(&kept.partial).copied().collect();
                got.sort_by_key(|h| Reverse(Ranked(h.0, h.1)));
                assert_eq!(ids(&got), best(None, n), "{text}, mixed {n}");
                let mut each = Split::new(matches(), Keep::Each { n, partial: true }, count());
                each.prune_from = prune_from;
                let kept = searcher.search(built.any.as_ref(), &each).unwrap();
                assert_eq!(kept.n_any, all.len(), "{text}");
                assert_eq!(ids(&kept.full), best(Some(true), n), "{text}, full {n}");
                assert_eq!(
                    ids(&kept.partial),
                    best(Some(false), n),
                    "{text}, partial {n}"
                );
            }
        }
    }
}
