//! Search-result snippets: the stretch of a material's text with the most distinct query
//! syllables, matched words in `<b>`, everything else HTML-escaped.
//!
//! tantivy's `SnippetGenerator` tokenises every hit's whole text into owned tokens; this scans it
//! once with a reused buffer and stops early, which made result pages several times faster.

use std::collections::HashSet;

use super::analyzer::for_each_folded;

/// Text scanned at most per document: snippets come from the first part of long materials.
const MAX_SCAN_BYTES: usize = 24 * 1024;
/// Matches collected at most per document.
const MAX_MATCHES: usize = 64;
/// Context kept before the first match of the chosen window.
const LEAD_BYTES: usize = 40;

/// The best snippet of `text` for the folded query syllables `terms`, about `max_bytes` long,
/// or `None` when no syllable occurs.
pub fn snippet(text: &str, terms: &HashSet<String>, max_bytes: usize) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    // A handful of syllables: a linear scan beats hashing every word of the text.
    let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
    let firsts: Vec<char> = terms.iter().filter_map(|t| t.chars().next()).collect();
    let mut matches: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, term index)
    let all: u64 = if terms.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << terms.len()) - 1
    };
    let mut seen = 0u64;
    for_each_folded(
        text,
        |c| firsts.contains(&c),
        |start, end, folded| {
            if start > MAX_SCAN_BYTES {
                return false;
            }
            if let Some(id) = terms.iter().position(|t| *t == folded) {
                matches.push((start, end, id));
                seen |= 1u64 << (id % 64);
            }
            // Every syllable found and a full window past the first match: good enough.
            let done = seen == all && matches.first().is_some_and(|m| start > m.0 + max_bytes);
            !done && matches.len() < MAX_MATCHES
        },
    );
    let first = matches.first()?;
    // The window starting at each match that holds the most distinct syllables.
    let mut best = (0usize, 0usize, first.0);
    for (i, m) in matches.iter().enumerate() {
        let limit = m.0 + max_bytes.saturating_sub(LEAD_BYTES.min(m.0));
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
    let mut begin = best.2.saturating_sub(LEAD_BYTES);
    while !text.is_char_boundary(begin) {
        begin += 1;
    }
    if begin > 0 {
        // Start at a word boundary after the cut.
        begin = text[begin..best.2]
            .find(char::is_whitespace)
            .map_or(best.2, |i| begin + i + 1);
    }
    let mut end = (begin + max_bytes).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len()
        && let Some(i) = text[begin..end].rfind(char::is_whitespace)
        && i > 0
    {
        end = begin + i;
    }
    let mut out = String::with_capacity(end - begin + 64);
    if begin > 0 {
        out.push('…');
    }
    let mut pos = begin;
    for &(s, e, _) in matches.iter().filter(|m| m.0 >= begin && m.1 <= end) {
        escape_into(&text[pos..s], &mut out);
        out.push_str("<b>");
        escape_into(&text[s..e], &mut out);
        out.push_str("</b>");
        pos = e;
    }
    escape_into(&text[pos..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    Some(out)
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

    fn terms(t: &[&str]) -> HashSet<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn highlights_matches_in_the_best_window() {
        let text = "Mở đầu không liên quan. ".repeat(20) + "Bón phân cho lúa đúng lúc. Cuối.";
        let s = snippet(&text, &terms(&["phan", "lua"]), 120).unwrap();
        assert!(s.contains("<b>phân</b>"), "{s}");
        assert!(s.contains("<b>lúa</b>"), "{s}");
        assert!(s.starts_with('…'), "{s}");
    }

    #[test]
    fn escapes_and_folds() {
        let s = snippet("<script>ĐẤT</script> & dat", &terms(&["dat"]), 200).unwrap();
        assert_eq!(
            s,
            "&lt;script&gt;<b>ĐẤT</b>&lt;/script&gt; &amp; <b>dat</b>"
        );
        assert!(snippet("không có", &terms(&["lua"]), 200).is_none());
    }

    #[test]
    fn never_cuts_inside_a_character() {
        // Every offset of a multi-byte text as the place of the match.
        let base = "ả".repeat(30);
        for pad in 0..6 {
            let text = format!("{}{} lúa {}", "x".repeat(pad), base, base);
            for max in [10, 41, 50, 200] {
                let s = snippet(&text, &terms(&["lua"]), max).unwrap();
                assert!(s.contains("<b>lúa</b>"), "{s}");
            }
        }
    }

    #[test]
    fn cuts_on_character_and_word_boundaries() {
        let text = "lúa ".repeat(200);
        let s = snippet(&text, &terms(&["lua"]), 50).unwrap();
        assert!(s.ends_with('…'));
        assert!(s.len() < 50 * 4, "{s}");
    }
}
