//! Revision properties as Git sees them: `svn:author` as an identity, `svn:date` as a
//! timestamp, `svn:log` as the message.

use crate::svn::dump::{property, Properties};

/// The user name written for a revision without `svn:author`.
pub const NO_AUTHOR: &str = "no-author";

/// Who made a revision, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevisionInfo {
    /// The Subversion user name (or [`NO_AUTHOR`]).
    pub user: String,
    /// `user <user@UUID>`, made safe for Git.
    pub identity: String,
    /// Seconds since the epoch, UTC.
    pub time: i64,
    pub message: Vec<u8>,
}

impl RevisionInfo {
    pub fn from_properties(properties: &Properties, uuid: &str) -> RevisionInfo {
        let text = |name: &[u8]| property(properties, name).flatten();
        let user = text(b"svn:author")
            .map(|u| String::from_utf8_lossy(u).trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| NO_AUTHOR.to_owned());
        let time = text(b"svn:date")
            .and_then(|d| parse_date(&String::from_utf8_lossy(d)))
            .unwrap_or(0);
        RevisionInfo {
            identity: git_identity(&user, uuid),
            user,
            time,
            message: text(b"svn:log").unwrap_or_default().to_vec(),
        }
    }

    /// `identity seconds +0000`, as in a commit's author line.
    pub fn signature(&self) -> String {
        self.signature_as(&self.identity)
    }

    /// [`RevisionInfo::signature`] with another identity.
    pub fn signature_as(&self, identity: &str) -> String {
        format!("{identity} {} +0000", self.time)
    }
}

/// The Git identity for a Subversion user: `user <user@UUID>`, with what Git cannot store in
/// a name or an email dropped (and spaces in the email made `_`).
pub fn git_identity(user: &str, uuid: &str) -> String {
    let name: String = user
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '\n' | '\0'))
        .collect();
    let name = name.trim();
    let local: String = name
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    format!("{name} <{local}@{uuid}>")
}

/// The author list's `remote_id` for a Subversion user: `user@UUID`, as GitHub gave it.
pub fn remote_id(user: &str, uuid: &str) -> String {
    format!("{user}@{uuid}")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` into seconds since the epoch.
pub fn parse_date(date: &str) -> Option<i64> {
    let date = date.trim();
    let (day, time) = date.split_once('T')?;
    let mut d = day.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, mday) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&mday) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, mday) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_epoch_seconds() {
        assert_eq!(parse_date("1970-01-01T00:00:00.000000Z"), Some(0));
        assert_eq!(
            parse_date("2020-01-01T12:00:00.000000Z"),
            Some(1_577_880_000)
        );
        assert_eq!(parse_date("2000-02-29T23:59:59Z"), Some(951_868_799));
        assert_eq!(parse_date("garbage"), None);
    }

    #[test]
    fn identities_are_git_safe() {
        assert_eq!(git_identity("alice", "U"), "alice <alice@U>");
        assert_eq!(git_identity("Dom User<x>", "U"), "Dom Userx <Dom_Userx@U>");
        let none = RevisionInfo::from_properties(&Vec::new(), "U");
        assert_eq!(none.identity, "no-author <no-author@U>");
        assert_eq!(none.time, 0);
    }
}
