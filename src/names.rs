//! Validation of owner and repository names, with GitHub's character sets and lengths.

/// An account name: 1–39 ASCII letters, digits or single hyphens, not at either end.
pub fn valid_owner(name: &str) -> bool {
    (1..=39).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// A repository name: 1–100 of `A-Za-z0-9._-`, not `.` or `..`, not ending in `.git`.
pub fn valid_repo(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && name != "."
        && name != ".."
        && !name.to_ascii_lowercase().ends_with(".git")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal_and_odd_names() {
        for bad in [
            "",
            "..",
            ".",
            "a/b",
            "a\\b",
            "-x",
            "x-",
            "a--b",
            "é",
            &"a".repeat(40),
        ] {
            assert!(!valid_owner(bad), "{bad:?}");
        }
        for bad in [
            "",
            "..",
            ".",
            "a/b",
            "x.git",
            "a b",
            "%2e%2e",
            &"r".repeat(101),
        ] {
            assert!(!valid_repo(bad), "{bad:?}");
        }
        assert!(valid_owner("octo-cat"));
        assert!(valid_repo("so.cm_-1"));
    }
}
