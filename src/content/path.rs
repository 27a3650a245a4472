//! The one rule for library paths: when a `/`-separated relative path may be joined to a folder
//! on disk without leaving it or naming a hidden file. The centre library, packages and backups
//! all check it; a caller that needs more (a tar header's length, a package's folders) checks
//! that on top.

/// Which part of the rule a path breaks, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnsafePath {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// A NUL, newline or other control character: invisible, and cut short by some file APIs.
    #[error("the path contains control characters")]
    ControlChar,
    /// A backslash, which Windows reads as a folder separator.
    #[error("the path contains backslashes")]
    Backslash,
    /// The path starts with `/`.
    #[error("the path is absolute")]
    Absolute,
    /// `//`, or a trailing `/`.
    #[error("the path has an empty segment")]
    EmptySegment,
    /// A `.` segment: two spellings of one file.
    #[error("the path has a \".\" segment")]
    DotSegment,
    /// A `..` segment, which would climb out of the folder.
    #[error("the path has a \"..\" segment")]
    ParentSegment,
    /// A segment starting with `.`: hidden files are never part of the library.
    #[error("the path names a hidden file or folder")]
    Hidden,
}

/// Checks `rel` against the rule and says which part it breaks first.
pub fn check_rel(rel: &str) -> Result<(), UnsafePath> {
    if rel.is_empty() {
        return Err(UnsafePath::Empty);
    }
    if rel.chars().any(char::is_control) {
        return Err(UnsafePath::ControlChar);
    }
    if rel.contains('\\') {
        return Err(UnsafePath::Backslash);
    }
    if rel.starts_with('/') {
        return Err(UnsafePath::Absolute);
    }
    for segment in rel.split('/') {
        match segment {
            "" => return Err(UnsafePath::EmptySegment),
            "." => return Err(UnsafePath::DotSegment),
            ".." => return Err(UnsafePath::ParentSegment),
            s if is_hidden(s) => return Err(UnsafePath::Hidden),
            _ => {}
        }
    }
    Ok(())
}

/// Whether `rel` follows the rule.
pub fn is_safe_rel(rel: &str) -> bool {
    check_rel(rel).is_ok()
}

/// Whether a file or folder name is hidden (editors' swap files, the server's temporaries):
/// such names are skipped when a folder is listed and refused in paths.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Resolves a relative link `rel` against the folder `dir` the way a browser does (`.` and
/// empty segments dropped, `..` going up); `None` when it climbs above the root.
pub fn resolve(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths_in_any_script() {
        for ok in [
            "a.md",
            "agriculture/lua-vu-xuan.md",
            "agriculture/lúa-vụ-xuân.md",
            "sức-khỏe/nước sạch/bài 1.pdf",
            "x/y/z.tar.gz",
            "a..b/c",
            "a./b",
        ] {
            assert_eq!(check_rel(ok), Ok(()), "{ok:?}");
            assert!(is_safe_rel(ok), "{ok:?}");
        }
    }

    #[test]
    fn names_the_part_of_the_rule_a_path_breaks() {
        for (bad, why) in [
            ("", UnsafePath::Empty),
            ("a\0.md", UnsafePath::ControlChar),
            ("a/b\n.md", UnsafePath::ControlChar),
            ("a\u{85}.md", UnsafePath::ControlChar),
            ("a\\b.md", UnsafePath::Backslash),
            ("..\\x", UnsafePath::Backslash),
            ("/etc/passwd", UnsafePath::Absolute),
            ("/", UnsafePath::Absolute),
            ("a//b.md", UnsafePath::EmptySegment),
            ("a/", UnsafePath::EmptySegment),
            ("a/./b", UnsafePath::DotSegment),
            (".", UnsafePath::DotSegment),
            ("..", UnsafePath::ParentSegment),
            ("../x.md", UnsafePath::ParentSegment),
            ("a/../../x", UnsafePath::ParentSegment),
            (".hidden.md", UnsafePath::Hidden),
            ("a/.git/config", UnsafePath::Hidden),
            ("a/.../b", UnsafePath::Hidden),
        ] {
            assert_eq!(check_rel(bad), Err(why), "{bad:?}");
            assert!(!is_safe_rel(bad), "{bad:?}");
        }
    }

    #[test]
    fn hidden_names_start_with_a_dot() {
        assert!(is_hidden(".tmp-123"));
        assert!(is_hidden(".."));
        assert!(!is_hidden("a.md"));
        assert!(!is_hidden(""));
    }

    #[test]
    fn links_resolve_inside_the_root_or_not_at_all() {
        assert_eq!(resolve("a/b", "c.svg").as_deref(), Some("a/b/c.svg"));
        assert_eq!(resolve("a/b", "./c.svg").as_deref(), Some("a/b/c.svg"));
        assert_eq!(resolve("a/b", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(resolve("", "c.md").as_deref(), Some("c.md"));
        assert_eq!(resolve("a", "../c.md").as_deref(), Some("c.md"));
        assert_eq!(resolve("a", "../../etc/passwd"), None);
        assert_eq!(resolve("", ".."), None);
    }
}
