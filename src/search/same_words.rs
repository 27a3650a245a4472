//! Words people write in several ways that no folding can join: abbreviations used on forms and
//! signs (BHYT, UBND, TP), and loanwords written joined, hyphenated, spaced or in their foreign
//! spelling (vắc xin, vaccine; ki-lô-gam, kg; ô-rê-dôn, oresol). A query written one way also
//! finds materials written another.
//!
//! Each group lists the forms as folded syllables, separated by spaces; hyphens and joins are
//! already handled by the analyzer and `query::split_joined`, so only truly different spellings
//! are listed here.

use std::sync::LazyLock;

/// Groups of forms that mean the same. Kept short and common: every entry is a term villagers
/// meet on health cards, commune papers, packets and signs. Abbreviations that are also
/// syllables ("ha" for hectare is "hà") are left out: they would change ordinary queries.
const GROUPS: &[&[&str]] = &[
    // Insurance, administration, school.
    &["bhyt", "bao hiem y te"],
    &["bhxh", "bao hiem xa hoi"],
    &["ubnd", "uy ban nhan dan"],
    &["hdnd", "hoi dong nhan dan"],
    &["tp", "thanh pho"],
    &["cccd", "can cuoc cong dan"],
    &["gcn", "giay chung nhan"],
    &["qsdd", "quyen su dung dat"],
    &["csgt", "canh sat giao thong"],
    &["thcs", "trung hoc co so"],
    &["thpt", "trung hoc pho thong"],
    &["tyt", "tram y te"],
    &["bv", "benh vien"],
    &["ttyt", "trung tam y te"],
    &["bvtv", "bao ve thuc vat"],
    &["htx", "hop tac xa"],
    &["khhgd", "ke hoach hoa gia dinh"],
    &["atgt", "an toan giao thong"],
    &["ctv", "cong tac vien"],
    &["ttht", "trung tam hoc tap"],
    &["tthtcd", "trung tam hoc tap cong dong"],
    // Units on packets and prescriptions.
    &["kg", "ki lo gam", "kilogam", "kilogram", "ki lo"],
    &["g", "gam", "gram"],
    &["km", "ki lo met", "kilomet", "kilometer", "cay so"],
    &["m", "met", "metre"],
    &["cm", "xen ti met", "centimet"],
    &["ml", "mi li lit", "mililit"],
    &["mg", "mi li gam", "miligam"],
    &["kw", "ki lo oat", "kilowatt"],
    // Loanwords.
    &["vac xin", "vaccine", "vaccin"],
    &["oresol", "o re don", "ors"],
    &["vi rut", "virus"],
    &["vi khuan", "bacteria"],
    &["in to net", "internet"],
    &["dien thoai thong minh", "smartphone"],
    &["ti vi", "tivi", "tv"],
    &["ra di o", "radio"],
    &["mo to", "moto"],
];

/// A run of query syllables that is one form of a group, with the group's other forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the first query syllable of the run.
    pub start: usize,
    /// Number of query syllables in the run.
    pub len: usize,
    /// The group's other forms, each as folded syllables.
    pub others: Vec<Vec<&'static str>>,
}

/// The longest groups' forms found in `folded` (the query's folded syllables), left to right,
/// not overlapping. A single-letter form ("g", "m") only counts after a number ("5 g", "2 m"),
/// where it is a unit and not a stray letter.
pub fn find(folded: &[&str]) -> Vec<Match> {
    // The groups cut into syllables once: cutting them for every query cost more than the
    // lookups of a short search.
    static SPLIT: LazyLock<Vec<Vec<Vec<&'static str>>>> = LazyLock::new(|| {
        GROUPS
            .iter()
            .map(|g| g.iter().map(|f| f.split(' ').collect()).collect())
            .collect()
    });
    let mut out = Vec::new();
    let mut i = 0;
    while i < folded.len() {
        let mut best: Option<(usize, usize, usize)> = None;
        for (g, group) in SPLIT.iter().enumerate() {
            for (k, syllables) in group.iter().enumerate() {
                let n = syllables.len();
                if folded.len() - i < n || folded[i..i + n] != syllables[..] {
                    continue;
                }
                if n == 1
                    && syllables[0].len() == 1
                    && (i == 0 || !folded[i - 1].bytes().all(|b| b.is_ascii_digit()))
                {
                    continue;
                }
                if best.is_some_and(|b| b.2 >= n) {
                    continue;
                }
                best = Some((g, k, n));
            }
        }
        match best {
            Some((g, k, n)) => {
                out.push(Match {
                    start: i,
                    len: n,
                    others: SPLIT[g]
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != k)
                        .map(|(_, f)| f.clone())
                        .collect(),
                });
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_abbreviations_and_loanwords() {
        let m = find(&["the", "bhyt", "cho", "tre"]);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].start, m[0].len), (1, 1));
        assert_eq!(m[0].others, [vec!["bao", "hiem", "y", "te"]]);

        let m = find(&["cach", "pha", "o", "re", "don"]);
        assert_eq!((m[0].start, m[0].len), (2, 3));
        assert!(m[0].others.contains(&vec!["oresol"]));

        // The longest form wins: "ki lo gam", not "ki lo".
        let m = find(&["1", "ki", "lo", "gam", "phan"]);
        assert_eq!((m[0].start, m[0].len), (1, 3));
        assert!(m[0].others.contains(&vec!["kg"]));
    }

    #[test]
    fn single_letters_are_units_only_after_numbers() {
        assert!(find(&["vitamin", "a", "g"]).is_empty());
        let m = find(&["bon", "50", "g"]);
        assert_eq!((m[0].start, m[0].len), (2, 1));
    }

    #[test]
    fn every_form_is_folded_syllables() {
        for group in GROUPS {
            assert!(group.len() >= 2);
            for form in *group {
                let words = super::super::analyzer::words(form);
                let folded: Vec<&str> = words.iter().map(|w| w.folded.as_str()).collect();
                assert_eq!(folded.join(" "), *form, "{form} is not written folded");
            }
        }
    }
}
