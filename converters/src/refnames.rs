//! Branch and tag names from other version control systems made into valid, distinct Git ref names,
//! deterministically, with every rename recorded.

use std::collections::BTreeMap;

/// Replaces what `git check-ref-format` refuses: spaces, control characters, `~^:?*[\`,
/// `..`, `@{`, leading dots and `/`, trailing `.lock`, `/` or `.`, and empty components.
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let bad = c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c);
        out.push(if bad { '_' } else { c });
    }
    while out.contains("..") {
        out = out.replace("..", "._");
    }
    out = out.replace("@{", "@_");
    let components: Vec<String> = out
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|c| {
            let mut c = c.to_owned();
            if c.starts_with('.') {
                c.replace_range(..1, "_");
            }
            if c.ends_with(".lock") {
                c.push('_');
            }
            c
        })
        .collect();
    let mut joined = components.join("/");
    while joined.ends_with('.') {
        joined.pop();
        joined.push('_');
    }
    if joined.is_empty() || joined == "@" {
        joined = format!("_{joined}");
    }
    joined
}

/// Gives each wanted name a Git-valid one that clashes with no other: not equal, not equal
/// ignoring case, and neither a path prefix of another (`a` vs `a/b`). Returns the final
/// names by original name, and the renames made.
pub fn assign(wanted: &[String]) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let mut taken: Vec<String> = Vec::new();
    let mut names = BTreeMap::new();
    let mut renames = Vec::new();
    let mut sorted: Vec<&String> = wanted.iter().collect();
    sorted.sort();
    sorted.dedup();
    for original in sorted {
        let mut candidate = sanitize(original);
        if clashes(&candidate, &taken) {
            // Flattened, a name can no longer be a directory of another.
            let flat = candidate.replace('/', "-");
            candidate = flat.clone();
            let mut n = 1;
            while clashes(&candidate, &taken) {
                n += 1;
                candidate = format!("{flat}_{n}");
            }
        }
        if candidate != *original {
            renames.push((original.clone(), candidate.clone()));
        }
        taken.push(candidate.clone());
        names.insert(original.clone(), candidate);
    }
    (names, renames)
}

fn clashes(candidate: &str, taken: &[String]) -> bool {
    let lower = candidate.to_lowercase();
    taken.iter().any(|t| {
        let t = t.to_lowercase();
        t == lower || t.starts_with(&format!("{lower}/")) || lower.starts_with(&format!("{t}/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_what_git_refuses() {
        assert_eq!(sanitize("colon:test"), "colon_test");
        assert_eq!(sanitize("with space"), "with_space");
        assert_eq!(sanitize("a..b"), "a._b");
        assert_eq!(sanitize(".hidden/x.lock"), "_hidden/x.lock_");
        assert_eq!(sanitize("end."), "end_");
        assert_eq!(sanitize("@"), "_@");
    }

    #[test]
    fn assigns_distinct_names_deterministically() {
        let wanted = ["a", "a/b", "Feature", "feature", "x y"]
            .map(String::from)
            .to_vec();
        let (names, renames) = assign(&wanted);
        assert_eq!(names["a"], "a");
        assert_eq!(names["a/b"], "a-b");
        assert_eq!(names["Feature"], "Feature");
        assert_eq!(names["feature"], "feature_2");
        assert_eq!(names["x y"], "x_y");
        assert_eq!(renames.len(), 3);
        assert_eq!(assign(&wanted), (names, renames));
    }
}
