//! Author-map files (git-svn, svn-all-fast-export, hg-fast-export, git-tfs, git mailmap): parsing, lookup and writing.
//!
//! Every format is read line by line. Blank lines and lines whose first non-blank
//! character is `#` are skipped; a leading UTF-8 byte-order mark and CRLF line
//! endings are accepted. A line that does not fit the format is an error naming its
//! 1-based line number.
//!
//! | format | line | key |
//! |---|---|---|
//! | `git-svn` | `user = Name <email>` | svn user |
//! | `svn-all-fast-export` | `user Name <email>` | svn user (first word) |
//! | `hg-fast-export` | `"hg user"="Name <email>"` or `"hg user"="Name"` | raw hg user string |
//! | `git-tfs` | `DOMAIN\user = Name <email>` | TFS user |
//! | `mailmap` | `Proper Name <proper@email> Commit Name <commit@email>` and its shorter forms | commit identity |
//!
//! In mailmap entries an empty `name` or `email` means "keep the commit's own"
//! (`<proper@email> <commit@email>` keeps the name, `Proper Name <commit@email>`
//! keeps the email). In the other formats an empty email (`Name <>`) is a real,
//! empty email.

mod line;
mod render;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

pub use render::render;

/// The layout of an author-map file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthorsFormat {
    /// `user = Name <email>`, as `git svn --authors-file` reads it.
    GitSvn,
    /// `user Name <email>`, as svn-all-fast-export (KDE svn2git) reads it.
    SvnAllFastExport,
    /// `"hg user"="Name <email>"`, as hg-fast-export `-A` reads it.
    HgFastExport,
    /// `DOMAIN\user = Name <email>`, as git-tfs `--authors` reads it.
    GitTfs,
    /// A git `.mailmap`, keyed by the commit identity.
    Mailmap,
}

impl AuthorsFormat {
    /// Every format, in the order they are listed to users.
    pub const ALL: [AuthorsFormat; 5] = [
        AuthorsFormat::GitSvn,
        AuthorsFormat::SvnAllFastExport,
        AuthorsFormat::HgFastExport,
        AuthorsFormat::GitTfs,
        AuthorsFormat::Mailmap,
    ];

    /// The format called `name` (`git-svn`, `svn-all-fast-export`, `hg-fast-export`,
    /// `git-tfs`, `mailmap`), ignoring ASCII case and surrounding whitespace.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(name))
    }

    /// The name users give on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorsFormat::GitSvn => "git-svn",
            AuthorsFormat::SvnAllFastExport => "svn-all-fast-export",
            AuthorsFormat::HgFastExport => "hg-fast-export",
            AuthorsFormat::GitTfs => "git-tfs",
            AuthorsFormat::Mailmap => "mailmap",
        }
    }

    /// The shape of one line, as error messages quote it.
    pub fn line_shape(self) -> &'static str {
        match self {
            AuthorsFormat::GitSvn => "`user = Name <email>`",
            AuthorsFormat::SvnAllFastExport => "`user Name <email>`",
            AuthorsFormat::HgFastExport => "`\"hg user\"=\"Name <email>\"`",
            AuthorsFormat::GitTfs => "`DOMAIN\\user = Name <email>`",
            AuthorsFormat::Mailmap => "`Proper Name <proper@email> Commit Name <commit@email>`",
        }
    }

    /// Guesses the format of `text` from its first non-comment lines.
    ///
    /// The first line that is recognisable decides: a quoted key means
    /// hg-fast-export, a `=` before any `<` means git-svn (git-tfs when the key
    /// holds a `\`), a line starting with `<` or holding two `<email>`s means
    /// mailmap. A line like `word Name <email>` fits both svn-all-fast-export and
    /// the one-identity mailmap form; such lines defer the decision to the next
    /// line that is certainly mailmap, and otherwise mean svn-all-fast-export.
    /// A file without entries is reported as git-svn.
    pub fn detect(text: &str) -> Self {
        let mut saw_undecided_line = false;
        for (_, content) in content_lines(text) {
            match line::format_hint(content) {
                Some(AuthorsFormat::Mailmap) => return AuthorsFormat::Mailmap,
                Some(format) if !saw_undecided_line => return format,
                Some(_) => return AuthorsFormat::SvnAllFastExport,
                None => saw_undecided_line = true,
            }
        }
        if saw_undecided_line {
            AuthorsFormat::SvnAllFastExport
        } else {
            AuthorsFormat::GitSvn
        }
    }
}

impl fmt::Display for AuthorsFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for AuthorsFormat {
    type Err = AuthorsFileError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name).ok_or_else(|| AuthorsFileError::UnknownFormat(name.to_owned()))
    }
}

/// What an entry maps from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuthorKey {
    /// An svn user, a TFS `DOMAIN\user`, or a raw hg user string such as `Bob <bob@x>`.
    User(String),
    /// A mailmap commit identity: the commit email, and the commit name when the
    /// entry only applies to that name.
    Identity { name: Option<String>, email: String },
}

/// One mapping line of an authors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorEntry {
    /// 1-based line number in the file.
    pub line: usize,
    pub key: AuthorKey,
    /// The mapped name; for mailmap, empty means "keep the commit's name".
    pub name: String,
    /// The mapped email, possibly empty; for mailmap, empty means "keep the commit's email".
    pub email: String,
}

/// A parsed authors file, entries in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorsFile {
    pub format: AuthorsFormat,
    pub entries: Vec<AuthorEntry>,
}

/// Why an authors file could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthorsFileError {
    /// A line does not fit the file's format.
    #[error("line {line}: expected {expected} ({problem})")]
    MalformedLine {
        line: usize,
        expected: &'static str,
        problem: String,
    },
    /// A format name that is not one of [`AuthorsFormat::ALL`].
    #[error(
        "unknown authors file format `{0}` (expected git-svn, svn-all-fast-export, hg-fast-export, git-tfs or mailmap)"
    )]
    UnknownFormat(String),
    /// [`render`] was given an author the format cannot write so that it reads back the same.
    #[error("cannot write author `{key}` as {format}: {reason}")]
    Unrepresentable {
        format: AuthorsFormat,
        key: String,
        reason: String,
    },
}

/// Parses an authors file, in `format` or else in the format [`AuthorsFormat::detect`] finds.
///
/// Every entry line is parsed with that one format; the first line that does not
/// fit is reported as [`AuthorsFileError::MalformedLine`].
pub fn parse(text: &str, format: Option<AuthorsFormat>) -> Result<AuthorsFile, AuthorsFileError> {
    let format = format.unwrap_or_else(|| AuthorsFormat::detect(text));
    let mut entries = Vec::new();
    for (line_number, content) in content_lines(text) {
        let parsed = line::parse_line(format, content).map_err(|problem| {
            AuthorsFileError::MalformedLine {
                line: line_number,
                expected: format.line_shape(),
                problem,
            }
        })?;
        entries.push(AuthorEntry {
            line: line_number,
            key: parsed.key,
            name: parsed.name,
            email: parsed.email,
        });
    }
    Ok(AuthorsFile { format, entries })
}

impl AuthorsFile {
    /// The mapped `(name, email)` for an author as srcimport records it, if an entry applies.
    ///
    /// * `remote_name`: the svn or TFS user, the raw hg user string, or the git commit name.
    /// * `remote_id`: srcimport's id for the author, e.g. `user@REPO-UUID` or `Name <email>`.
    /// * `email`: the author's current email.
    ///
    /// [`AuthorKey::User`] entries are tried against `remote_name` exactly, then
    /// `remote_id` exactly, then `remote_name` and `remote_id` ignoring case.
    ///
    /// [`AuthorKey::Identity`] entries compare their email with `email` ignoring
    /// case; an entry that also names a commit name must match the author's name
    /// (ignoring case) and wins over entries keyed by the email alone. The author's
    /// name is the name part of `remote_name` when that is a `Name <email>` string,
    /// else `remote_name` itself. When the mailmap entry leaves the name or email
    /// empty, the author's own name or `email` is returned in its place.
    ///
    /// Within each of these steps the last matching entry in the file wins.
    pub fn lookup<'a>(
        &'a self,
        remote_name: &'a str,
        remote_id: &'a str,
        email: &'a str,
    ) -> Option<(&'a str, &'a str)> {
        self.lookup_user(remote_name, remote_id)
            .or_else(|| self.lookup_identity(remote_name, email))
    }

    fn lookup_user(&self, remote_name: &str, remote_id: &str) -> Option<(&str, &str)> {
        let candidates: [&dyn Fn(&str) -> bool; 3] =
            [&|key| key == remote_name, &|key| key == remote_id, &|key| {
                same_ignoring_case(key, remote_name) || same_ignoring_case(key, remote_id)
            }];
        candidates.iter().find_map(|matches| {
            self.entries
                .iter()
                .rev()
                .find_map(|entry| match &entry.key {
                    AuthorKey::User(key) if matches(key) => {
                        Some((entry.name.as_str(), entry.email.as_str()))
                    }
                    _ => None,
                })
        })
    }

    fn lookup_identity<'a>(
        &'a self,
        remote_name: &'a str,
        email: &'a str,
    ) -> Option<(&'a str, &'a str)> {
        let commit_name = name_part(remote_name);
        let find = |wants_name: bool| {
            self.entries.iter().rev().find(|entry| match &entry.key {
                AuthorKey::Identity {
                    name: key_name,
                    email: key_email,
                } => {
                    same_ignoring_case(key_email, email)
                        && match key_name {
                            Some(key_name) => {
                                wants_name && same_ignoring_case(key_name, commit_name)
                            }
                            None => !wants_name,
                        }
                }
                AuthorKey::User(_) => false,
            })
        };
        let entry = find(true).or_else(|| find(false))?;
        let name = if entry.name.is_empty() {
            commit_name
        } else {
            entry.name.as_str()
        };
        let mapped_email = if entry.email.is_empty() {
            email
        } else {
            entry.email.as_str()
        };
        Some((name, mapped_email))
    }
}

/// The identity given to an author no entry maps: `user` as the name and
/// `user@domain` as the email (`--default-domain`).
///
/// A TFS `DOMAIN\user` contributes only `user` to the email, whitespace in the
/// user becomes `.`, a leading `@` on the domain is ignored, and a user that
/// already holds an `@` is used as the email unchanged. An empty domain leaves
/// the bare user as the email.
pub fn default_identity(user: &str, domain: &str) -> (String, String) {
    let user = user.trim();
    let domain = domain.trim();
    let domain = domain.strip_prefix('@').unwrap_or(domain);
    let local = user.rsplit('\\').next().unwrap_or(user);
    let local: String = local.split_whitespace().collect::<Vec<_>>().join(".");
    let email = if local.contains('@') || domain.is_empty() {
        local
    } else {
        format!("{local}@{domain}")
    };
    (user.to_owned(), email)
}

/// The entry lines of `text` with their 1-based numbers: BOM and `\r` removed,
/// blank and `#` comment lines skipped.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .enumerate()
        .map(|(index, raw)| (index + 1, raw.strip_suffix('\r').unwrap_or(raw)))
        .filter(|(_, content)| !is_blank_or_comment(content))
}

fn is_blank_or_comment(content: &str) -> bool {
    let trimmed = content.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// `Name` from `Name <email>`, else the whole text, trimmed.
fn name_part(user: &str) -> &str {
    let trimmed = user.trim();
    match trimmed.find('<') {
        Some(open) if trimmed.ends_with('>') => trimmed[..open].trim(),
        _ => trimmed,
    }
}

fn same_ignoring_case(left: &str, right: &str) -> bool {
    left.eq_ignore_ascii_case(right)
        || ((!left.is_ascii() || !right.is_ascii()) && left.to_lowercase() == right.to_lowercase())
}

/// Applies the import's uploaded authors file (if any) to its authors, in one transaction.
pub fn apply_stored(
    store: &dyn crate::store::JobStore,
    repo_id: i64,
) -> Result<usize, crate::store::StoreError> {
    let Some((format, text)) = store.authors_file(repo_id)? else {
        return Ok(0);
    };
    // The file was validated when it was uploaded; a file that no longer parses maps nothing.
    let Ok(file) = parse(&text, AuthorsFormat::parse(&format)) else {
        return Ok(0);
    };
    let mappings = mappings_for(&file, &store.authors(repo_id, 0)?);
    store.map_authors(repo_id, &mappings)?;
    Ok(mappings.len())
}

/// The mappings `file` gives for `authors`: `(author id, name, email)` for every author whose
/// identity it names and who is not already mapped to exactly that.
pub fn mappings_for(
    file: &AuthorsFile,
    authors: &[crate::store::AuthorRecord],
) -> Vec<(i64, String, String)> {
    authors
        .iter()
        .filter_map(|author| {
            let (name, email) = file.identity_of(author)?;
            (name != author.name || email != author.email).then_some((author.id, name, email))
        })
        .collect()
}

impl AuthorsFile {
    /// The `(name, email)` this file gives `author`, as srcimport records authors (see
    /// [`AuthorsFile::lookup`]): identity entries match the email the source wrote.
    pub fn identity_of(&self, author: &crate::store::AuthorRecord) -> Option<(String, String)> {
        let original_email = match author.remote_id.rfind('<') {
            Some(_) => crate::git::ident::name_and_email(&author.remote_id).1,
            None => author.email.clone(),
        };
        self.lookup(&author.remote_name, &author.remote_id, &original_email)
            .map(|(name, email)| (name.to_owned(), email.to_owned()))
    }
}
