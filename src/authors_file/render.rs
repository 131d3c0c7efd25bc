//! Writing an authors list in one of the author-map formats, checked to read back unchanged.

use super::line::{self, LineEntry};
use super::{is_blank_or_comment, AuthorKey, AuthorsFileError, AuthorsFormat};

/// Writes one line per author, `(key, name, email)`, in `format` (for
/// `srcimport authors --format`).
///
/// The key is the svn/TFS user or raw hg user string; for mailmap it is the
/// commit identity, either `Commit Name <commit@email>`, `<commit@email>` or a
/// bare `commit@email`. Every line is parsed back before it is accepted, so the
/// output always reads back as the same entries with [`super::parse`] given the
/// same format; an author the format cannot hold (a svn-all-fast-export user
/// with a space, a git-svn user with `=`, a name with `<`, surrounding spaces,
/// line breaks, ...) is an [`AuthorsFileError::Unrepresentable`] error.
pub fn render<Key, Name, Email>(
    format: AuthorsFormat,
    authors: &[(Key, Name, Email)],
) -> Result<String, AuthorsFileError>
where
    Key: AsRef<str>,
    Name: AsRef<str>,
    Email: AsRef<str>,
{
    let mut output = String::new();
    for (key, name, email) in authors {
        let (key, name, email) = (key.as_ref(), name.as_ref(), email.as_ref());
        let unrepresentable = |reason: String| AuthorsFileError::Unrepresentable {
            format,
            key: key.to_owned(),
            reason,
        };
        let expected = LineEntry {
            key: match format {
                AuthorsFormat::Mailmap => mailmap_key(key).map_err(unrepresentable)?,
                _ => AuthorKey::User(key.to_owned()),
            },
            name: name.to_owned(),
            email: email.to_owned(),
        };
        let rendered = render_line(format, &expected);
        check_reads_back(format, &rendered, &expected).map_err(unrepresentable)?;
        output.push_str(&rendered);
        output.push('\n');
    }
    Ok(output)
}

fn render_line(format: AuthorsFormat, entry: &LineEntry) -> String {
    let LineEntry { key, name, email } = entry;
    match (format, key) {
        (AuthorsFormat::GitSvn | AuthorsFormat::GitTfs, AuthorKey::User(user)) => {
            format!("{user} = {name} <{email}>")
        }
        (AuthorsFormat::SvnAllFastExport, AuthorKey::User(user)) => {
            format!("{user} {name} <{email}>")
        }
        (AuthorsFormat::HgFastExport, AuthorKey::User(user)) => format!(
            "\"{}\"=\"{} <{}>\"",
            escape_quoted(user),
            escape_quoted(name),
            escape_quoted(email)
        ),
        (
            _,
            AuthorKey::Identity {
                name: commit_name,
                email: commit_email,
            },
        ) => {
            let proper = identity_text(name, email);
            let commit = identity_text(commit_name.as_deref().unwrap_or(""), commit_email);
            format!("{proper} {commit}")
        }
        (AuthorsFormat::Mailmap, AuthorKey::User(user)) => {
            // Not produced by `render`, which turns mailmap keys into identities.
            format!("{} <{user}>", identity_text(name, email))
        }
    }
}

fn identity_text(name: &str, email: &str) -> String {
    if name.is_empty() {
        format!("<{email}>")
    } else {
        format!("{name} <{email}>")
    }
}

fn escape_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The commit identity a mailmap key string stands for.
fn mailmap_key(key: &str) -> Result<AuthorKey, String> {
    let trimmed = key.trim();
    if !trimmed.contains('<') {
        if trimmed.is_empty() || trimmed.contains(char::is_whitespace) || trimmed.contains('>') {
            return Err("a mailmap key must be `Name <email>`, `<email>` or an email".to_owned());
        }
        return Ok(AuthorKey::Identity {
            name: None,
            email: trimmed.to_owned(),
        });
    }
    let identity = line::split_identity(trimmed)?;
    if !identity.rest.trim().is_empty() {
        return Err(format!("unexpected `{}` after `>`", identity.rest.trim()));
    }
    Ok(AuthorKey::Identity {
        name: (!identity.name.is_empty()).then(|| identity.name.to_owned()),
        email: identity.email.to_owned(),
    })
}

fn check_reads_back(
    format: AuthorsFormat,
    rendered: &str,
    expected: &LineEntry,
) -> Result<(), String> {
    if rendered.starts_with('\u{feff}') || is_blank_or_comment(rendered) {
        return Err("the line would read back as a comment".to_owned());
    }
    let read_back = line::parse_line(format, rendered)?;
    if &read_back == expected {
        Ok(())
    } else {
        Err(format!(
            "`{rendered}` would read back differently (characters the format cannot hold, or surrounding spaces)"
        ))
    }
}
