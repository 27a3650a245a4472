//! Search-result snippets: the stretch of a material's text with the most distinct query
//! syllables, matched words in `<b>`, everything else HTML-escaped.
//!
//! tantivy's `SnippetGenerator` tokenises every hit's whole text into owned tokens; this scans it
//! once with a reused buffer and stops early, which made result pages several times faster.

use std::borrow::Cow;

use super::analyzer::for_each_folded;

/// Text scanned at most per document: snippets come from the first part of long materials.
const MAX_SCAN_BYTES: usize = 24 * 1024;
/// Matches collected at most per document.
const MAX_MATCHES: usize = 64;
/// Context kept before the first match of the chosen window.
const LEAD_BYTES: usize = 40;
/// Stored text is validated as UTF-8 (with `simdutf8`: std's check was a sixth of a results
/// page) piece by piece, about this long and cut after a space, so that the part after an early
/// stop is never looked at.
const PIECE_BYTES: usize = 1024;

/// The best snippet of the UTF-8 `text` for the folded query syllables `terms`, about
/// `max_bytes` long, or `None` when no syllable occurs. Text that is not UTF-8 (a damaged
/// store) is read with replacement characters.
///
/// The scan stops once every syllable has been seen with a full window after the first match,
/// so callers pass only the syllables the text is known to hold.
pub fn snippet(text: &[u8], terms: &[&str], max_bytes: usize) -> Option<String> {
    snippet_at(text, terms, max_bytes, &[]).map(|(html, _, _)| html)
}

/// [`snippet`], choosing its matches within one section (`breaks`: where sections begin, in
/// order), with the byte offset in `text` of the snippet's first match (to find the section
/// it comes from) and how many distinct terms the text was seen to hold.
pub fn snippet_at(
    text: &[u8],
    terms: &[&str],
    max_bytes: usize,
    breaks: &[usize],
) -> Option<(String, usize, usize)> {
    if terms.is_empty() {
        return None;
    }
    // A handful of syllables: a linear scan beats hashing every word of the text.
    let Some(matches) = find_matches(text, terms, max_bytes) else {
        return lossy(text, terms, max_bytes, breaks);
    };
    let first = matches.first()?;
    // The window starting at each match that holds the most distinct syllables.
    let mut best = (0usize, 0usize, first.0);
    for (i, m) in matches.iter().enumerate() {
        let section_end = breaks
            .iter()
            .find(|&&b| b > m.0)
            .copied()
            .unwrap_or(usize::MAX);
        let limit = (m.0 + max_bytes.saturating_sub(LEAD_BYTES.min(m.0))).min(section_end);
        let mut seen = 0u64;
        let mut count = 0;
        for n in matches[i..].iter().take_while(|n| n.1 <= limit) {
            seen |= 1 << (n.2 % 64);
            count += 1;
        }
        let score = (seen.count_ones() as usize, count);
        if score > (best.0, best.1) {
            best = (score.0, score.1, m.0);
        }
    }
    // The region around the window, on character boundaries, validated on its own.
    let mut lo = best.2.saturating_sub(LEAD_BYTES);
    while lo < best.2 && is_continuation(text[lo]) {
        lo += 1;
    }
    // Wide enough for any start between `lo` and the first match.
    let mut hi = (best.2 + max_bytes).min(text.len());
    while hi > best.2 && hi < text.len() && is_continuation(text[hi]) {
        hi -= 1;
    }
    let Ok(region) = simdutf8::basic::from_utf8(&text[lo..hi]) else {
        return lossy(text, terms, max_bytes, breaks);
    };
    let first_match = best.2 - lo;
    let begin = if lo > 0 {
        // Start at a word boundary after the cut.
        // After the whole space character: some (U+0085, U+3000) are wider than a byte.
        region[..first_match]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(first_match, |(i, c)| i + c.len_utf8())
    } else {
        0
    };
    let mut end = (begin + max_bytes).min(region.len());
    while !region.is_char_boundary(end) {
        end -= 1;
    }
    let cut_at_end = lo + end < text.len();
    if cut_at_end
        && let Some(i) = region[begin..end].rfind(char::is_whitespace)
        && i > 0
    {
        end = begin + i;
    }
    let mut out = String::with_capacity(end - begin + 64);
    if lo + begin > 0 {
        out.push('…');
    }
    let mut pos = begin;
    for &(s, e, _) in matches
        .iter()
        .filter(|m| m.0 >= lo + begin && m.1 <= lo + end)
    {
        escape_into(&region[pos..s - lo], &mut out);
        out.push_str("<b>");
        escape_into(&region[s - lo..e - lo], &mut out);
        out.push_str("</b>");
        pos = e - lo;
    }
    escape_into(&region[pos..end], &mut out);
    if cut_at_end {
        out.push('…');
    }
    let seen = matches
        .iter()
        .fold(0u64, |seen, m| seen | 1 << (m.2 % 64))
        .count_ones() as usize;
    Some((out, best.2, seen))
}

/// Every match `(start, end, term index)` up to the early stop, or `None` when a scanned piece
/// is not UTF-8.
fn find_matches(
    text: &[u8],
    terms: &[&str],
    max_bytes: usize,
) -> Option<Vec<(usize, usize, usize)>> {
    let firsts: Vec<char> = terms.iter().filter_map(|t| t.chars().next()).collect();
    let all: u64 = if terms.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << terms.len()) - 1
    };
    let mut matches: Vec<(usize, usize, usize)> = Vec::new();
    let mut seen = 0u64;
    let mut from = 0;
    let mut go_on = true;
    while go_on && from < text.len() && from <= MAX_SCAN_BYTES {
        // A space is never inside a character or a syllable, so pieces scan like the whole.
        let mut to = (from + PIECE_BYTES).min(text.len());
        to = text[to..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(text.len(), |i| to + i + 1);
        let piece = simdutf8::basic::from_utf8(&text[from..to]).ok()?;
        for_each_folded(
            piece,
            |c| firsts.contains(&c),
            |start, end, folded| {
                let (start, end) = (start + from, end + from);
                if start > MAX_SCAN_BYTES {
                    go_on = false;
                    return false;
                }
                if let Some(id) = terms.iter().position(|t| *t == folded) {
                    matches.push((start, end, id));
                    seen |= 1u64 << (id % 64);
                }
                // Every syllable found and a full window past the first match: good enough.
                let done = seen == all && matches.first().is_some_and(|m| start > m.0 + max_bytes);
                go_on = !done && matches.len() < MAX_MATCHES;
                go_on
            },
        );
        from = to;
    }
    Some(matches)
}

/// The snippet of text that is not valid UTF-8, read with replacement characters.
fn lossy(
    text: &[u8],
    terms: &[&str],
    max_bytes: usize,
    breaks: &[usize],
) -> Option<(String, usize, usize)> {
    match String::from_utf8_lossy(text) {
        // Valid text is never sent here; returning keeps this from ever recursing twice.
        Cow::Borrowed(_) => None,
        Cow::Owned(repaired) => snippet_at(repaired.as_bytes(), terms, max_bytes, breaks),
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Escapes text for HTML.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms<'a>(t: &[&'a str]) -> Vec<&'a str> {
        t.to_vec()
    }

    #[test]
    fn highlights_matches_in_the_best_window() {
        let text = "Mở đầu không liên quan. ".repeat(20) + "Bón phân cho lúa đúng lúc. Cuối.";
        let s = snippet(text.as_bytes(), &terms(&["phan", "lua"]), 120).unwrap();
        assert!(s.contains("<b>phân</b>"), "{s}");
        assert!(s.contains("<b>lúa</b>"), "{s}");
        assert!(s.starts_with('…'), "{s}");
    }

    #[test]
    fn a_wide_space_before_the_window_is_stepped_over_whole() {
        // U+0085 is white space two bytes long; cutting after its first byte panicked
        // (found by the property test).
        let bytes = [
            128, 128, 14, 0, 0, 194, 133, 128, 0, 128, 0, 128, 128, 128, 128, 128, 128, 0, 128, 100,
        ];
        let _ = snippet(&bytes, &terms(&["lua", "trong", "d"]), 1);
        let text = format!("{}\u{3000}trồng lúa", "x".repeat(40));
        let s = snippet(text.as_bytes(), &terms(&["lua"]), 12).unwrap();
        assert!(s.contains("<b>lúa</b>"), "{s}");
    }

    #[test]
    fn escapes_and_folds() {
        let s = snippet(
            "<script>ĐẤT</script> & dat".as_bytes(),
            &terms(&["dat"]),
            200,
        )
        .unwrap();
        assert_eq!(
            s,
            "&lt;script&gt;<b>ĐẤT</b>&lt;/script&gt; &amp; <b>dat</b>"
        );
        assert!(snippet("không có".as_bytes(), &terms(&["lua"]), 200).is_none());
    }

    #[test]
    fn never_cuts_inside_a_character() {
        // Every offset of a multi-byte text as the place of the match.
        let base = "ả".repeat(30);
        for pad in 0..6 {
            let text = format!("{}{} lúa {}", "x".repeat(pad), base, base);
            for max in [10, 41, 50, 200] {
                let s = snippet(text.as_bytes(), &terms(&["lua"]), max).unwrap();
                assert!(s.contains("<b>lúa</b>"), "{s}");
            }
        }
    }

    #[test]
    fn cuts_on_character_and_word_boundaries() {
        let text = "lúa ".repeat(200);
        let s = snippet(text.as_bytes(), &terms(&["lua"]), 50).unwrap();
        assert!(s.ends_with('…'));
        assert!(s.len() < 50 * 4, "{s}");
    }

    #[test]
    fn long_texts_scan_across_pieces() {
        // Matches far past the first piece, and a text with no space at all.
        let text = "Mở đầu không liên quan. ".repeat(200) + "Bón phân cho lúa. Cuối.";
        let s = snippet(text.as_bytes(), &terms(&["phan", "lua"]), 120).unwrap();
        assert!(s.contains("<b>phân</b> cho <b>lúa</b>"), "{s}");
        let glued = "ả".repeat(2000) + "-lúa-" + &"ả".repeat(10);
        let s = snippet(glued.as_bytes(), &terms(&["lua"]), 60).unwrap();
        assert!(s.contains("<b>lúa</b>"), "{s}");
    }

    #[test]
    fn damaged_text_is_read_with_replacement_characters() {
        let mut text = b"tr\xff\xfeng l\xc3\xbaa ".to_vec();
        text.extend_from_slice(&[0xe1, 0xba]); // cut inside a character
        let s = snippet(&text, &terms(&["lua"]), 200).unwrap();
        assert!(s.contains("<b>lúa</b>"), "{s}");
        assert!(s.contains('\u{FFFD}'), "{s}");
    }
}
