//! Vietnamese text as plain ASCII words: marks removed, đ as d, lower case ("Xử lý nước" gives
//! `xu`, `ly`, `nuoc`). The one rule behind the names the box makes from text: material ids,
//! heading anchors, ethnic-group codes. The letters stay as typed (lý is not lí).

/// The words of `text`, each as lower-case ASCII letters and digits. An apostrophe or a mark
/// inside a word is left out (H'Mông is one word, `hmong`); anything else separates words.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars().chain([' ']) {
        match unmarked(c) {
            Letter::Plain(a) => word.push(a),
            Letter::Mark => {}
            Letter::Gap if !word.is_empty() => out.push(std::mem::take(&mut word)),
            Letter::Gap => {}
        }
    }
    out
}

/// What a character of a text is in a plain name.
enum Letter {
    /// A letter or digit, as plain lower-case ASCII.
    Plain(char),
    /// A mark or an apostrophe inside a word: left out, the word goes on.
    Mark,
    /// Anything else ends a word.
    Gap,
}

fn unmarked(c: char) -> Letter {
    if c == 'đ' || c == 'Đ' {
        return Letter::Plain('d');
    }
    if c == '\'' || c == '’' || unicode_normalization::char::is_combining_mark(c) {
        return Letter::Mark;
    }
    let mut base = c;
    unicode_normalization::char::decompose_canonical(c, |d| {
        if !unicode_normalization::char::is_combining_mark(d) {
            base = d;
        }
    });
    if base.is_ascii_alphanumeric() {
        Letter::Plain(base.to_ascii_lowercase())
    } else {
        Letter::Gap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_letters_without_marks() {
        assert_eq!(words("Xử lý nước thải"), ["xu", "ly", "nuoc", "thai"]);
        assert_eq!(
            words("Đồng bào H'Mông, 111!"),
            ["dong", "bao", "hmong", "111"]
        );
        // Decomposed input (marks as separate characters) gives the same words.
        assert_eq!(words("Xu\u{31b} ly\u{301}"), ["xu", "ly"]);
        assert!(words("  !!  ").is_empty());
    }
}
