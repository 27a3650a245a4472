//! Dictionary order for Vietnamese titles (the alphabet a ă â b c d đ …, tones last).

use unicode_normalization::UnicodeNormalization;

/// A key that sorts Vietnamese titles in dictionary order: letters by the Vietnamese alphabet
/// (a ă â b c d đ e ê …), tones only to break ties (ngang, huyền, hỏi, ngã, sắc, nặng).
pub fn sort_key(s: &str) -> (String, String) {
    // A marker above every letter makes "ă" sort after all "a…" words, "đ" after all "d…".
    const AFTER: char = '\u{7f}';
    const AFTER2: char = '\u{80}';
    let mut primary = String::with_capacity(s.len() + 8);
    let mut tones = String::new();
    for c in s.nfd().flat_map(char::to_lowercase) {
        match c {
            // a < ă < â, o < ô < ơ, u < ư, e < ê
            '\u{0306}' => primary.push(AFTER),
            '\u{0302}' => primary.push(if primary.ends_with('a') {
                AFTER2
            } else {
                AFTER
            }),
            '\u{031b}' => primary.push(if primary.ends_with('o') {
                AFTER2
            } else {
                AFTER
            }),
            '\u{0300}' => tones.push('1'),
            '\u{0309}' => tones.push('2'),
            '\u{0303}' => tones.push('3'),
            '\u{0301}' => tones.push('4'),
            '\u{0323}' => tones.push('5'),
            'đ' => {
                primary.push('d');
                primary.push(AFTER);
            }
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => {
                primary.push(c);
                tones.push('0');
            }
        }
    }
    (primary, tones)
}
