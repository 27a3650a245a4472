//! Vietnamese typed before Unicode: TCVN3 (ABC, the ".VnTime" fonts), VNI (the "VNI-Times"
//! fonts) and VIQR (marks typed as ASCII after the letter). Such text looks right on screen in
//! its font, but its characters come out as "Ch­¬ng tr×nh" or "Chöông trình". This recognises
//! each and turns it into Unicode NFC; the tables are public facts, written here as data.

use unicode_normalization::UnicodeNormalization;

/// An old way of writing Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OldEncoding {
    /// TCVN 5712:1993 VN3 ("ABC"): one 8-bit code per letter with its marks.
    Tcvn3,
    /// VNI for Windows: a letter, then a code for its marks.
    Vni,
    /// VIQR: a letter, then ASCII for its marks (`Vie^.t Nam`).
    Viqr,
}

impl OldEncoding {
    /// Its usual name, as reports say "chuyển từ mã TCVN3".
    pub fn name(self) -> &'static str {
        match self {
            OldEncoding::Tcvn3 => "TCVN3",
            OldEncoding::Vni => "VNI",
            OldEncoding::Viqr => "VIQR",
        }
    }
}

/// TCVN3 codes (as the Latin-1 characters they come out as) and the letters they are.
/// Upper-case letters with tone marks have no codes of their own: ".VnTimeH" fonts draw the
/// lower-case codes as capitals.
const TCVN3: &[(char, char)] = &[
    ('\u{b5}', 'à'),
    ('\u{b8}', 'á'),
    ('\u{b6}', 'ả'),
    ('\u{b7}', 'ã'),
    ('\u{b9}', 'ạ'),
    ('\u{a8}', 'ă'),
    ('\u{bb}', 'ằ'),
    ('\u{be}', 'ắ'),
    ('\u{bc}', 'ẳ'),
    ('\u{bd}', 'ẵ'),
    ('\u{c6}', 'ặ'),
    ('\u{a9}', 'â'),
    ('\u{c7}', 'ầ'),
    ('\u{ca}', 'ấ'),
    ('\u{c8}', 'ẩ'),
    ('\u{c9}', 'ẫ'),
    ('\u{cb}', 'ậ'),
    ('\u{ae}', 'đ'),
    ('\u{cc}', 'è'),
    ('\u{d0}', 'é'),
    ('\u{ce}', 'ẻ'),
    ('\u{cf}', 'ẽ'),
    ('\u{d1}', 'ẹ'),
    ('\u{aa}', 'ê'),
    ('\u{d2}', 'ề'),
    ('\u{d5}', 'ế'),
    ('\u{d3}', 'ể'),
    ('\u{d4}', 'ễ'),
    ('\u{d6}', 'ệ'),
    ('\u{d7}', 'ì'),
    ('\u{dd}', 'í'),
    ('\u{d8}', 'ỉ'),
    ('\u{dc}', 'ĩ'),
    ('\u{de}', 'ị'),
    ('\u{df}', 'ò'),
    ('\u{e3}', 'ó'),
    ('\u{e1}', 'ỏ'),
    ('\u{e2}', 'õ'),
    ('\u{e4}', 'ọ'),
    ('\u{ab}', 'ô'),
    ('\u{e5}', 'ồ'),
    ('\u{e8}', 'ố'),
    ('\u{e6}', 'ổ'),
    ('\u{e7}', 'ỗ'),
    ('\u{e9}', 'ộ'),
    ('\u{ac}', 'ơ'),
    ('\u{ea}', 'ờ'),
    ('\u{ed}', 'ớ'),
    ('\u{eb}', 'ở'),
    ('\u{ec}', 'ỡ'),
    ('\u{ee}', 'ợ'),
    ('\u{ef}', 'ù'),
    ('\u{f3}', 'ú'),
    ('\u{f1}', 'ủ'),
    ('\u{f2}', 'ũ'),
    ('\u{f4}', 'ụ'),
    ('\u{ad}', 'ư'),
    ('\u{f5}', 'ừ'),
    ('\u{f8}', 'ứ'),
    ('\u{f6}', 'ử'),
    ('\u{f7}', 'ữ'),
    ('\u{f9}', 'ự'),
    ('\u{fa}', 'ỳ'),
    ('\u{fd}', 'ý'),
    ('\u{fb}', 'ỷ'),
    ('\u{fc}', 'ỹ'),
    ('\u{fe}', 'ỵ'),
    ('\u{a1}', 'Ă'),
    ('\u{a2}', 'Â'),
    ('\u{a7}', 'Đ'),
    ('\u{a3}', 'Ê'),
    ('\u{a4}', 'Ô'),
    ('\u{a5}', 'Ơ'),
    ('\u{a6}', 'Ư'),
];

/// VNI's codes after a vowel: the combining marks they stand for (tone, or vowel shape and
/// tone together), upper case beside lower case.
const VNI_MARKS: &[(char, &str)] = &[
    // Tones: sắc, huyền, hỏi, ngã, nặng.
    ('ù', "\u{301}"),
    ('ø', "\u{300}"),
    ('û', "\u{309}"),
    ('õ', "\u{303}"),
    ('ï', "\u{323}"),
    ('Ù', "\u{301}"),
    ('Ø', "\u{300}"),
    ('Û', "\u{309}"),
    ('Õ', "\u{303}"),
    ('Ï', "\u{323}"),
    // Circumflex (â ê ô), alone and with each tone.
    ('â', "\u{302}"),
    ('á', "\u{302}\u{301}"),
    ('à', "\u{302}\u{300}"),
    ('å', "\u{302}\u{309}"),
    ('ã', "\u{302}\u{303}"),
    ('ä', "\u{302}\u{323}"),
    ('Â', "\u{302}"),
    ('Á', "\u{302}\u{301}"),
    ('À', "\u{302}\u{300}"),
    ('Å', "\u{302}\u{309}"),
    ('Ã', "\u{302}\u{303}"),
    ('Ä', "\u{302}\u{323}"),
    // Breve (ă), alone and with each tone.
    ('ê', "\u{306}"),
    ('é', "\u{306}\u{301}"),
    ('è', "\u{306}\u{300}"),
    ('ú', "\u{306}\u{309}"),
    ('ü', "\u{306}\u{303}"),
    ('ë', "\u{306}\u{323}"),
    ('Ê', "\u{306}"),
    ('É', "\u{306}\u{301}"),
    ('È', "\u{306}\u{300}"),
    ('Ú', "\u{306}\u{309}"),
    ('Ü', "\u{306}\u{303}"),
    ('Ë', "\u{306}\u{323}"),
];

/// VNI's letters of one code: ơ and ư (which take tone codes after them like vowels), đ, and
/// the i and y with tones.
const VNI_LETTERS: &[(char, char)] = &[
    ('ô', 'ơ'),
    ('Ô', 'Ơ'),
    ('ö', 'ư'),
    ('Ö', 'Ư'),
    ('ñ', 'đ'),
    ('Ñ', 'Đ'),
    ('í', 'í'),
    ('ì', 'ì'),
    ('æ', 'ỉ'),
    ('ó', 'ĩ'),
    ('ò', 'ị'),
    ('Í', 'Í'),
    ('Ì', 'Ì'),
    ('Æ', 'Ỉ'),
    ('Ó', 'Ĩ'),
    ('Ò', 'Ị'),
    ('î', 'ỵ'),
    ('Î', 'Ỵ'),
];

/// What the marks of a VNI code mean on the letter before it: only these take a circumflex
/// (a, e, o) or a breve (a); every vowel takes a tone.
fn vni_applies(base: char, marks: &str) -> bool {
    let b = base.to_ascii_lowercase();
    let shape = marks.chars().next();
    match shape {
        Some('\u{302}') => matches!(b, 'a' | 'e' | 'o'),
        Some('\u{306}') => b == 'a',
        _ => {
            matches!(b, 'a' | 'e' | 'i' | 'o' | 'u' | 'y') || matches!(base, 'ơ' | 'ư' | 'Ơ' | 'Ư')
        }
    }
}

fn tcvn3(c: char) -> Option<char> {
    TCVN3.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

/// Characters TCVN3 text is full of that neither Unicode Vietnamese nor VNI text has (the
/// soft hyphen of ư, the ơ and ô signs, đ, the tones of a and ă…).
fn tcvn3_only(c: char) -> bool {
    matches!(c, '\u{a1}'..='\u{ae}' | '\u{b5}'..='\u{be}' | 'Ç' | 'Ð' | '×' | 'Þ' | 'ß' | '÷' | 'þ')
}

/// Characters of VNI text that are no Vietnamese letter: its codes for ư, đ and some tones.
fn vni_only(c: char) -> bool {
    matches!(
        c,
        'ö' | 'Ö'
            | 'ñ'
            | 'Ñ'
            | 'ø'
            | 'Ø'
            | 'û'
            | 'Û'
            | 'ï'
            | 'Ï'
            | 'å'
            | 'Å'
            | 'ä'
            | 'Ä'
            | 'ë'
            | 'Ë'
            | 'ü'
            | 'Ü'
    )
}

/// Letters only Unicode Vietnamese has (none of the old encodings gives them).
fn unicode_vietnamese(c: char) -> bool {
    matches!(
        c,
        '\u{1ea0}'
            ..='\u{1ef9}' | 'ă' | 'Ă' | 'ơ' | 'Ơ' | 'ư' | 'Ư' | 'đ' | 'Đ' | 'ĩ' | 'Ĩ' | 'ũ' | 'Ũ'
    )
}

fn is_vowel(c: char) -> bool {
    matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// Which old encoding `text` is in, if any. Text with letters only Unicode has is Unicode;
/// otherwise the encoding whose signs are in at least one word in twenty.
pub fn detect(text: &str) -> Option<OldEncoding> {
    detect_in_share(text, 20)
}

/// [`detect`] for text that claims to be Unicode (a UTF-8 file): the signs must be in at least
/// one word in three, and three words at least, so that a few foreign names or signs never
/// change a Unicode text.
pub fn detect_in_unicode(text: &str) -> Option<OldEncoding> {
    // Only words that hold a plain letter beside their TCVN3 signs count here: a short
    // Unicode text with a few "¡" or "©" standing alone is not TCVN3.
    let t = tally(text)?;
    let t = Tally {
        tcvn: t.tcvn_lettered,
        ..t
    };
    // Typed in an old encoding, most Vietnamese words carry its signs; three at least.
    (t.of(OldEncoding::Tcvn3).max(t.of(OldEncoding::Vni)) >= 3)
        .then(|| pick(&t, 3))
        .flatten()
}

/// Whether `text` shows any sign of `enc` and no letter only Unicode has: one block of a
/// document the rest of which is known to be in `enc` (a heading of two words, say).
pub fn has_signs_of(text: &str, enc: OldEncoding) -> bool {
    tally(text).is_some_and(|t| t.of(enc) > 0)
}

/// How many words show the signs of each old encoding.
struct Tally {
    words: usize,
    tcvn: usize,
    /// TCVN3 words that also hold a plain ASCII letter ("Ch­¬ng", not "¡").
    tcvn_lettered: usize,
    vni: usize,
    viqr: usize,
}

impl Tally {
    fn of(&self, enc: OldEncoding) -> usize {
        match enc {
            OldEncoding::Tcvn3 => self.tcvn,
            OldEncoding::Vni => self.vni,
            OldEncoding::Viqr => self.viqr,
        }
    }
}

/// [`detect`], with the signs in at least one word in `one_in`.
fn detect_in_share(text: &str, one_in: usize) -> Option<OldEncoding> {
    pick(&tally(text)?, one_in)
}

/// The encoding whose signs are in at least one word in `one_in` (and two words at least).
fn pick(t: &Tally, one_in: usize) -> Option<OldEncoding> {
    if t.words == 0 {
        return None;
    }
    // A few signs can be anything (a French name, a question mark); a share of words cannot.
    let enough = |n: usize| n >= 2 && n * one_in >= t.words;
    let best = [OldEncoding::Tcvn3, OldEncoding::Vni, OldEncoding::Viqr]
        .into_iter()
        .map(|e| (t.of(e), e))
        .max_by_key(|(n, _)| *n)?;
    enough(best.0).then_some(best.1)
}

/// The words with each encoding's signs; `None` when a word holds a letter only Unicode has.
fn tally(text: &str) -> Option<Tally> {
    let mut words = 0usize;
    let (mut tcvn, mut tcvn_lettered, mut vni, mut viqr) = (0usize, 0usize, 0usize, 0usize);
    for word in text.split_whitespace() {
        words += 1;
        let chars: Vec<char> = word.chars().collect();
        if chars.iter().any(|&c| unicode_vietnamese(c)) {
            return None;
        }
        if chars.iter().any(|&c| tcvn3_only(c)) {
            tcvn += 1;
            if chars.iter().any(char::is_ascii_alphabetic) {
                tcvn_lettered += 1;
            }
        }
        // A vowel then a VNI code; not the codes Unicode words also have after a vowel
        // ("hoà", "hoá", "khoẻ", "hoãn").
        if chars.windows(2).any(|w| {
            (is_vowel(w[0]) || matches!(w[0], 'ô' | 'ö' | 'Ô' | 'Ö'))
                && !matches!(w[1].to_ascii_lowercase(), 'à' | 'á' | 'è' | 'é' | 'ã')
                && !matches!(w[1], 'À' | 'Á' | 'È' | 'É' | 'Ã')
                && VNI_MARKS
                    .iter()
                    .any(|(m, s)| *m == w[1] && vni_applies(w[0], s))
        }) || chars.iter().any(|&c| vni_only(c))
        {
            vni += 1;
        }
        if chars.windows(2).any(|w| {
            is_vowel(w[0])
                && matches!(w[1], '^' | '(' | '+' | '`' | '?' | '~' | '\'')
                && !(w[1] == '\'' && chars.len() <= 2)
        }) || word.to_ascii_lowercase().starts_with("dd")
        {
            viqr += 1;
        }
    }
    Some(Tally {
        words,
        tcvn,
        tcvn_lettered,
        vni,
        viqr,
    })
}

/// `text` from `from` as Unicode NFC.
pub fn convert(text: &str, from: OldEncoding) -> String {
    let out = match from {
        OldEncoding::Tcvn3 => from_tcvn3(text),
        OldEncoding::Vni => from_vni(text),
        OldEncoding::Viqr => from_viqr(text),
    };
    out.nfc().collect()
}

/// Unicode NFC text, converted from an old encoding if it is in one (and which).
pub fn to_unicode(text: &str) -> (String, Option<OldEncoding>) {
    match detect(text) {
        Some(e) => (convert(text, e), Some(e)),
        None => (text.nfc().collect(), None),
    }
}

/// A text file's bytes as text: UTF-8 when they are, else each byte as the Latin-1 character
/// it is (which is how an old encoding's bytes look); then [`to_unicode`].
pub fn decode(bytes: &[u8]) -> (String, Option<OldEncoding>) {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => to_unicode(s),
        Err(_) => {
            let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
            to_unicode(&latin1)
        }
    }
}

/// TCVN3 text as a PDF reader gives it back: the code of "ư" (0xAD) is the soft hyphen's,
/// and readers that follow WinAnsi turn it into "-". Where a "-" can only be that "ư" (after
/// a consonant, before "ơ" with any tone, "a", "i", "u" or "ng": "h-íng" is "hướng"), it is
/// put back; hyphens of loanwords ("ki-lô", "Xin-ga-po", "Béc-lin") stay.
pub fn tcvn3_soft_hyphens(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let after2 = chars.get(i + 2).copied();
        let consonant_before = before.is_some_and(|b| {
            (b.is_ascii_alphabetic() && !is_vowel(b)) || b == '\u{ae}' || b == '\u{a7}'
        });
        let horn_o = |a: char| {
            tcvn3(a).is_some_and(|v| v.nfd().next() == Some('o') && v.nfd().any(|m| m == '\u{31b}'))
        };
        let vowel_after = after.is_some_and(|a| {
            matches!(a, 'a' | 'i' | 'u') || horn_o(a) || (a == 'n' && after2 == Some('g'))
        });
        if c == '-' && consonant_before && vowel_after {
            out.push('\u{ad}');
        } else {
            out.push(c);
        }
    }
    out
}

fn from_tcvn3(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        // Words typed in an upper-case font: their plain letters are capitals too (two of
        // them at least: "Kỹ" starts with one).
        let letters: Vec<char> = word.chars().filter(char::is_ascii_alphabetic).collect();
        let capitals = letters.len() >= 2 && letters.iter().all(char::is_ascii_uppercase);
        for c in word.chars() {
            match tcvn3(c) {
                Some(v) if capitals => out.extend(v.to_uppercase()),
                Some(v) => out.push(v),
                None => out.push(c),
            }
        }
    }
    out
}

fn from_vni(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let letter = VNI_LETTERS.iter().find(|(k, _)| *k == c).map(|(_, v)| *v);
        let base = letter.unwrap_or(c);
        let next = chars.get(i + 1).copied();
        let marks = next.and_then(|n| {
            VNI_MARKS
                .iter()
                .find(|(m, s)| {
                    *m == n
                        && (is_vowel(base) || matches!(base, 'ơ' | 'ư' | 'Ơ' | 'Ư'))
                        && vni_applies(base, s)
                })
                .map(|(_, s)| *s)
        });
        out.push(base);
        if let Some(m) = marks {
            out.push_str(m);
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

fn from_viqr(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // `\` escapes a mark that is meant as punctuation.
        if c == '\\' && chars.get(i + 1).is_some_and(|n| "^(+`'?~.".contains(*n)) {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if (c == 'd' || c == 'D') && matches!(chars.get(i + 1), Some('d' | 'D')) {
            out.push(if c == 'D' { 'Đ' } else { 'đ' });
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
        if !is_vowel(c) {
            continue;
        }
        let lower = c.to_ascii_lowercase();
        // A shape mark, then a tone mark.
        if let Some(&n) = chars.get(i) {
            let shape = match (lower, n) {
                ('a' | 'e' | 'o', '^') => Some('\u{302}'),
                ('a', '(') => Some('\u{306}'),
                ('o' | 'u', '+') => Some('\u{31b}'),
                _ => None,
            };
            if let Some(s) = shape {
                out.push(s);
                i += 1;
            }
        }
        if let Some(&n) = chars.get(i) {
            let followed_by_letter = chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
            let tone = match n {
                '\'' => Some('\u{301}'),
                '`' => Some('\u{300}'),
                '?' if followed_by_letter || chars.get(i + 1).is_none_or(|c| c.is_whitespace()) => {
                    Some('\u{309}')
                }
                '~' => Some('\u{303}'),
                // A full stop ends sentences too: a tone only inside a word.
                '.' if followed_by_letter => Some('\u{323}'),
                _ => None,
            };
            if let Some(t) = tone {
                out.push(t);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Vietnamese letter with its marks, lower case: a, ă, â, e, ê, i, o, ô, ơ, u, ư, y,
    /// each plain and with sắc, huyền, hỏi, ngã, nặng; and đ.
    const LETTERS: &[&str] = &[
        "aáàảãạ",
        "ăắằẳẵặ",
        "âấầẩẫậ",
        "eéèẻẽẹ",
        "êếềểễệ",
        "iíìỉĩị",
        "oóòỏõọ",
        "ôốồổỗộ",
        "ơớờởỡợ",
        "uúùủũụ",
        "ưứừửữự",
        "yýỳỷỹỵ",
    ];

    #[test]
    fn a_few_signs_standing_alone_in_unicode_text_are_not_tcvn3() {
        let file = "+++\ntitle = \"¡\"\ncategory = \"agriculture\"\n+++\n¡\n";
        assert_eq!(detect_in_unicode(file), None);
        // Words of TCVN3 letters are, in a file that says it is UTF-8.
        let typed = "Ch\u{ad}\u{ac}ng tr\u{d7}nh khuy\u{d5}n n\u{ab}ng c\u{f1}a x\u{b7}";
        assert_eq!(detect_in_unicode(typed), Some(OldEncoding::Tcvn3));
    }

    #[test]
    fn every_tcvn3_letter_converts() {
        // In TCVN3, each marked letter in the order of LETTERS (plain a e i o u y are ASCII).
        let tcvn = [
            "a¸µ¶·¹",
            "¨¾»¼½Æ",
            "©ÊÇÈÉË",
            "eÐÌÎÏÑ",
            "ªÕÒÓÔÖ",
            "iÝ×ØÜÞ",
            "oãßáâä",
            "«èåæçé",
            "¬íêëìî",
            "uóïñòô",
            "\u{ad}øõö÷ù",
            "yýúûüþ",
        ];
        for (old, want) in tcvn.iter().zip(LETTERS) {
            assert_eq!(convert(old, OldEncoding::Tcvn3), *want, "{old}");
        }
        assert_eq!(convert("®", OldEncoding::Tcvn3), "đ");
        assert_eq!(convert("¡¢§£¤¥¦", OldEncoding::Tcvn3), "ĂÂĐÊÔƠƯ");
        assert_eq!(
            convert("Ch\u{ad}¬ng tr×nh", OldEncoding::Tcvn3),
            "Chương trình"
        );
        // An upper-case font's word: capitals throughout.
        assert_eq!(convert("CH¦¥NG TR×NH", OldEncoding::Tcvn3), "CHƯƠNG TRÌNH");
        assert_eq!(convert("Kü thuËt", OldEncoding::Tcvn3), "Kỹ thuật");
    }

    #[test]
    fn every_vni_letter_converts() {
        // VNI: the base letter, then the code for its shape and tone.
        let tones = ["", "ù", "ø", "û", "õ", "ï"];
        let circ = ["â", "á", "à", "å", "ã", "ä"];
        let breve = ["ê", "é", "è", "ú", "ü", "ë"];
        let spelled = |base: &str, marks: &[&str]| -> String {
            marks
                .iter()
                .map(|m| format!("{base}{m}"))
                .collect::<String>()
        };
        let vni = [
            spelled("a", &tones),
            spelled("a", &breve),
            spelled("a", &circ),
            spelled("e", &tones),
            spelled("e", &circ),
            "iíìæóò".to_string(),
            spelled("o", &tones),
            spelled("o", &circ),
            spelled("ô", &tones),
            spelled("u", &tones),
            spelled("ö", &tones),
            format!("{}î", spelled("y", &tones[..5])),
        ];
        for (old, want) in vni.iter().zip(LETTERS) {
            assert_eq!(convert(old, OldEncoding::Vni), *want, "{old}");
            let upper = old.to_uppercase();
            assert_eq!(
                convert(&upper, OldEncoding::Vni),
                want.to_uppercase(),
                "{upper}"
            );
        }
        assert_eq!(convert("ñ Ñ", OldEncoding::Vni), "đ Đ");
        assert_eq!(convert("Chöông trình", OldEncoding::Vni), "Chương trình");
        assert_eq!(convert("Vieät Nam", OldEncoding::Vni), "Việt Nam");
    }

    #[test]
    fn every_viqr_letter_converts() {
        let tones = ["", "'", "`", "?", "~", "."];
        let spelled = |base: &str| -> String {
            // Each letter inside a word ("xa'x"), so a tone dot is not a full stop.
            tones
                .iter()
                .map(|t| format!("{base}{t}n "))
                .collect::<String>()
        };
        for (base, want) in [
            "a", "a(", "a^", "e", "e^", "i", "o", "o^", "o+", "u", "u+", "y",
        ]
        .iter()
        .zip(LETTERS)
        {
            let expected: String = want.chars().map(|c| format!("{c}n ")).collect();
            assert_eq!(
                convert(&spelled(base), OldEncoding::Viqr),
                expected,
                "{base}"
            );
        }
        assert_eq!(convert("dda^`m DDa`", OldEncoding::Viqr), "đầm Đà");
        assert_eq!(convert("Vie^.t Nam.", OldEncoding::Viqr), "Việt Nam.");
        assert_eq!(convert("Ta.i sao\\?", OldEncoding::Viqr), "Tại sao?");
    }

    #[test]
    fn each_encoding_is_recognised_and_unicode_is_left_alone() {
        let cases = [
            (
                "Ch\u{ad}¬ng tr×nh khuyÕn n«ng vÒ trång lóa n\u{ad}íc",
                Some(OldEncoding::Tcvn3),
            ),
            (
                "Chöông trình khuyeán noâng veà troàng luùa nöôùc",
                Some(OldEncoding::Vni),
            ),
            (
                "Chu+o+ng tri`nh khuye^'n no^ng ve^` tro^`ng lu'a nu+o+'c",
                Some(OldEncoding::Viqr),
            ),
            ("Chương trình khuyến nông về trồng lúa nước", None),
            ("Café à la crème, déjà vu", None),
            ("Why? Because it's fine.", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
        let (text, from) = to_unicode("Ch\u{ad}¬ng tr×nh khuyÕn n«ng vÒ trång lóa n\u{ad}íc");
        assert_eq!(text, "Chương trình khuyến nông về trồng lúa nước");
        assert_eq!(from.map(OldEncoding::name), Some("TCVN3"));
        let (text, _) = to_unicode("Chöông trình khuyeán noâng veà troàng luùa nöôùc");
        assert_eq!(text, "Chương trình khuyến nông về trồng lúa nước");
        let (text, _) = to_unicode("Chu+o+ng tri`nh khuye^'n no^ng ve^` tro^`ng lu'a nu+o+'c");
        assert_eq!(text, "Chương trình khuyến nông về trồng lúa nước");
    }

    #[test]
    fn a_file_in_tcvn3_bytes_is_read() {
        // "Trồng lúa" as a TCVN3 file's bytes (not UTF-8).
        let bytes = b"Tr\xe5ng l\xf3a n\xad\xedc \xae\xf3ng v\xf4";
        let (text, from) = decode(bytes);
        assert_eq!(text, "Trồng lúa nước đúng vụ");
        assert_eq!(from, Some(OldEncoding::Tcvn3));
        let (text, from) = decode("\u{feff}Trồng lúa".as_bytes());
        assert_eq!((text.as_str(), from), ("Trồng lúa", None));
    }
}
