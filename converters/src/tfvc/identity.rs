//! TFVC users as Git identities: the `uniqueName` is the author list's `remote_id`, and
//! the identity written is a deterministic placeholder made from it alone (so the mapping
//! stage can find the bytes again from the `remote_id`):
//! - `DOMAIN\user` → `user <user@DOMAIN>` (the Windows domain as the mail domain);
//! - `someone@example.com` → `someone <someone@example.com>`;
//! - anything else → `name <name@tfvc>`; no user at all → `no-author <no-author@tfvc>`.

use super::model::IdentityRef;

/// The `remote_id` used when a changeset names no author.
pub const NO_AUTHOR: &str = "no-author";

/// The `remote_id` of an author: its `uniqueName` (or display name, or [`NO_AUTHOR`]).
pub fn remote_id(author: Option<&IdentityRef>) -> String {
    author
        .and_then(|a| a.unique_name.as_deref().or(a.display_name.as_deref()))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(NO_AUTHOR)
        .to_owned()
}

/// The placeholder Git identity (`name <email>`) for a `remote_id`.
pub fn git_identity(remote_id: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .filter(|c| !matches!(c, '<' | '>' | '\n' | '\0'))
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let email_part = |text: &str| -> String {
        clean(text)
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .collect()
    };
    let (name, email) = match remote_id.split_once('\\') {
        Some((domain, user)) if !user.is_empty() && !domain.is_empty() => (
            clean(user),
            format!("{}@{}", email_part(user), email_part(domain)),
        ),
        _ => match remote_id.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                (clean(local), email_part(remote_id))
            }
            _ => (clean(remote_id), format!("{}@tfvc", email_part(remote_id))),
        },
    };
    let name = if name.is_empty() {
        NO_AUTHOR.to_owned()
    } else {
        name
    };
    format!("{name} <{email}>")
}

/// Parses an ISO 8601 date (`2020-01-02T03:04:05.123Z`, or with a `±hh:mm` offset) into
/// seconds since the epoch.
pub fn parse_date(date: &str) -> Option<i64> {
    let date = date.trim();
    let (body, offset) = match date.rfind(['+', '-']).filter(|i| *i > 10) {
        Some(i) => {
            let (body, offset) = date.split_at(i);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let mut parts = offset[1..].split(':');
            let hours: i64 = parts.next()?.parse().ok()?;
            let minutes: i64 = parts.next().unwrap_or("0").parse().ok()?;
            (body, sign * (hours * 3600 + minutes * 60))
        }
        None => (date, 0),
    };
    let seconds = crate::svn::convert::revprops::parse_date(body.trim_end_matches('Z'))?;
    Some(seconds - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_deterministic_and_git_safe() {
        assert_eq!(git_identity("CONTOSO\\alice"), "alice <alice@CONTOSO>");
        assert_eq!(git_identity("bob@contoso.com"), "bob <bob@contoso.com>");
        assert_eq!(
            git_identity("Build Agent"),
            "Build Agent <Build_Agent@tfvc>"
        );
        assert_eq!(git_identity("<x>"), "x <x@tfvc>");
        assert_eq!(remote_id(None), NO_AUTHOR);
    }

    #[test]
    fn dates_parse_with_offsets() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-01T01:00:00.5+01:00"), Some(0));
        assert_eq!(parse_date("2020-01-01T12:00:00.123Z"), Some(1_577_880_000));
    }
}
