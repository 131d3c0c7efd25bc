//! Parsing one entry line of each author-map format, and the per-line hints format detection uses.

use super::{AuthorKey, AuthorsFormat};

/// What one entry line maps, before it gets its line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LineEntry {
    pub key: AuthorKey,
    pub name: String,
    pub email: String,
}

/// Parses a non-blank, non-comment line; the error says what is wrong with it.
pub(super) fn parse_line(format: AuthorsFormat, content: &str) -> Result<LineEntry, String> {
    reject_control_characters(content)?;
    let content = content.trim();
    match format {
        AuthorsFormat::GitSvn | AuthorsFormat::GitTfs => parse_assignment(content),
        AuthorsFormat::SvnAllFastExport => parse_user_then_identity(content),
        AuthorsFormat::HgFastExport => parse_quoted_pair(content),
        AuthorsFormat::Mailmap => parse_mailmap(content),
    }
}

/// The format this line certainly belongs to, or `None` when it could be
/// svn-all-fast-export or a one-identity mailmap line (or is not an entry at all).
pub(super) fn format_hint(content: &str) -> Option<AuthorsFormat> {
    let content = content.trim();
    if content.starts_with('"') {
        return Some(AuthorsFormat::HgFastExport);
    }
    let first_open = content.find('<');
    if let Some(equals) = content.find('=') {
        if first_open.is_none_or(|open| equals < open) {
            let key = &content[..equals];
            return Some(if key.contains('\\') {
                AuthorsFormat::GitTfs
            } else {
                AuthorsFormat::GitSvn
            });
        }
    }
    if content.starts_with('<') || content.matches('<').count() >= 2 {
        return Some(AuthorsFormat::Mailmap);
    }
    None
}

/// Parses `Name <email>` as the target of a mapping: a name is required and
/// nothing may follow the `>`.
pub(super) fn parse_named_identity(text: &str) -> Result<(String, String), String> {
    let identity = split_identity(text)?;
    if identity.name.is_empty() {
        return Err("missing the name before `<email>`".to_owned());
    }
    let rest = identity.rest.trim();
    if !rest.is_empty() {
        return Err(format!("unexpected `{rest}` after `>`"));
    }
    Ok((identity.name.to_owned(), identity.email.to_owned()))
}

/// `Name <email>` split at the first `<` and the `>` after it; either part may be empty.
pub(super) struct SplitIdentity<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub rest: &'a str,
}

pub(super) fn split_identity(text: &str) -> Result<SplitIdentity<'_>, String> {
    let open = text.find('<').ok_or("missing `<email>`")?;
    let after_open = &text[open + 1..];
    let close = after_open.find('>').ok_or("missing `>` after the email")?;
    let email = after_open[..close].trim();
    if email.contains('<') {
        return Err("`<` inside the email".to_owned());
    }
    if email.contains(char::is_whitespace) {
        return Err(format!("whitespace inside the email `{email}`"));
    }
    let name = text[..open].trim();
    if name.contains('>') {
        return Err(format!("`>` inside the name `{name}`"));
    }
    Ok(SplitIdentity {
        name,
        email,
        rest: &after_open[close + 1..],
    })
}

fn reject_control_characters(content: &str) -> Result<(), String> {
    match content
        .chars()
        .find(|&character| (character.is_control() && character != '\t') || character == '\u{feff}')
    {
        Some(character) => Err(format!(
            "control character U+{:04X} in the line",
            u32::from(character)
        )),
        None => Ok(()),
    }
}

/// git-svn and git-tfs: `user = Name <email>`, split at the first `=`.
fn parse_assignment(content: &str) -> Result<LineEntry, String> {
    let (user, target) = content.split_once('=').ok_or("missing `=`")?;
    let user = user.trim();
    if user.is_empty() {
        return Err("missing the user before `=`".to_owned());
    }
    let (name, email) = parse_named_identity(target)?;
    Ok(LineEntry {
        key: AuthorKey::User(user.to_owned()),
        name,
        email,
    })
}

/// svn-all-fast-export: the first word is the user, the rest `Name <email>`.
fn parse_user_then_identity(content: &str) -> Result<LineEntry, String> {
    let (user, target) = content
        .split_once(char::is_whitespace)
        .ok_or("missing `Name <email>` after the user")?;
    if user.contains(['<', '>', '"', '=']) {
        return Err(format!(
            "`{user}` is not a user name; the line must start with the user"
        ));
    }
    let target = target.trim_start();
    if target.starts_with('=') {
        return Err("unexpected `=` after the user (a git-svn line?)".to_owned());
    }
    let (name, email) = parse_named_identity(target)?;
    Ok(LineEntry {
        key: AuthorKey::User(user.to_owned()),
        name,
        email,
    })
}

/// hg-fast-export: `"hg user"="Name <email>"` or `"hg user"="Name"`.
fn parse_quoted_pair(content: &str) -> Result<LineEntry, String> {
    let after_quote = content
        .strip_prefix('"')
        .ok_or("the hg user must be in double quotes")?;
    let (user, rest) = read_quoted(after_quote)?;
    let rest = rest
        .trim_start()
        .strip_prefix('=')
        .ok_or("missing `=` after the quoted hg user")?;
    let rest = rest
        .trim_start()
        .strip_prefix('"')
        .ok_or("the new author must be in double quotes")?;
    let (target, rest) = read_quoted(rest)?;
    let rest = rest.trim();
    if !rest.is_empty() {
        return Err(format!("unexpected `{rest}` after the closing quote"));
    }
    if user.trim().is_empty() {
        return Err("empty hg user".to_owned());
    }
    let (name, email) = if target.contains('<') {
        parse_named_identity(&target)?
    } else {
        let name = target.trim();
        if name.is_empty() {
            return Err("empty new author".to_owned());
        }
        if name.contains('>') {
            return Err(format!("`>` inside the name `{name}`"));
        }
        (name.to_owned(), String::new())
    };
    Ok(LineEntry {
        key: AuthorKey::User(user),
        name,
        email,
    })
}

/// Reads up to the closing `"` of a quoted string whose opening quote is already
/// consumed. `\"` and `\\` are escapes; any other backslash is kept as written.
/// Returns the unescaped text and what follows the closing quote.
fn read_quoted(text: &str) -> Result<(String, &str), String> {
    let mut unescaped = String::new();
    let mut characters = text.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((unescaped, &text[index + 1..])),
            '\\' => match characters.next() {
                Some((_, escaped @ ('"' | '\\'))) => unescaped.push(escaped),
                Some((_, other)) => {
                    unescaped.push('\\');
                    unescaped.push(other);
                }
                None => return Err("backslash at the end of the line".to_owned()),
            },
            other => unescaped.push(other),
        }
    }
    Err("missing closing `\"`".to_owned())
}

/// git mailmap, all four forms, with an optional trailing `# comment`.
fn parse_mailmap(content: &str) -> Result<LineEntry, String> {
    let first = split_identity(content)?;
    if first.name.contains('=') {
        return Err("unexpected `=` in the name (a git-svn line?)".to_owned());
    }
    let after_first = first.rest.trim_start();
    if is_end_or_comment(after_first) {
        if first.name.is_empty() {
            return Err(
                "a lone `<email>` maps nothing; add a proper name before it or a `<commit@email>` after it"
                    .to_owned(),
            );
        }
        return Ok(LineEntry {
            key: AuthorKey::Identity {
                name: None,
                email: first.email.to_owned(),
            },
            name: first.name.to_owned(),
            email: String::new(),
        });
    }
    let commit = split_identity(after_first)
        .map_err(|problem| format!("{problem} in the commit identity"))?;
    let after_commit = commit.rest.trim_start();
    if !is_end_or_comment(after_commit) {
        return Err(format!(
            "unexpected `{after_commit}` after the commit email"
        ));
    }
    Ok(LineEntry {
        key: AuthorKey::Identity {
            name: (!commit.name.is_empty()).then(|| commit.name.to_owned()),
            email: commit.email.to_owned(),
        },
        name: first.name.to_owned(),
        email: first.email.to_owned(),
    })
}

fn is_end_or_comment(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}
