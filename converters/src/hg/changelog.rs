//! Changelog entries: the changeset metadata of each revision.
//!
//! Text layout: manifest node (hex), user, `time tz [extras]`, one changed
//! file per line, an empty line, then the description. Extras are
//! `key:value` pairs separated by NUL, escaped with `\\`, `\n`, `\r`, `\0`.

use std::collections::BTreeMap;

use super::error::{Result, RevlogError};
use super::node::Node;
use super::revlog::{Revision, Revlog};

/// One parsed changeset. Byte strings are kept as stored: Mercurial writes
/// UTF-8, but old or converted changesets may hold other bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changeset {
    pub revision: Revision,
    pub node: Node,
    /// Parent revisions; `None` for the null revision.
    pub parents: [Option<Revision>; 2],
    pub manifest_node: Node,
    pub user: Vec<u8>,
    /// Seconds since the epoch (a fractional part, if any, is dropped).
    pub timestamp: i64,
    /// Mercurial's offset: seconds *west* of UTC (`+0100` is -3600).
    pub tz_offset: i32,
    /// Extras as stored; Mercurial omits `branch` for the default branch
    /// (see [`Changeset::branch`]).
    pub extras: BTreeMap<Vec<u8>, Vec<u8>>,
    pub files: Vec<Vec<u8>>,
    pub description: Vec<u8>,
}

impl Changeset {
    /// The named branch: the `branch` extra, `default` without one.
    pub fn branch(&self) -> &[u8] {
        self.extras
            .get(b"branch".as_slice())
            .map_or(b"default", Vec::as_slice)
    }

    /// Whether this changeset closes its branch (`close` extra).
    pub fn closes_branch(&self) -> bool {
        self.extras.contains_key(b"close".as_slice())
    }
}

/// The changelog revlog.
#[derive(Debug)]
pub struct Changelog {
    revlog: Revlog,
}

impl Changelog {
    pub(crate) fn new(revlog: Revlog) -> Changelog {
        Changelog { revlog }
    }

    /// The underlying revlog (node lookup, parents, raw texts).
    pub fn revlog(&self) -> &Revlog {
        &self.revlog
    }

    pub fn len(&self) -> usize {
        self.revlog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revlog.is_empty()
    }

    /// Reads and parses changeset `revision`.
    pub fn changeset(&self, revision: Revision) -> Result<Changeset> {
        let info = self.revlog.info(revision)?;
        let text = self.revlog.revision_text(revision)?;
        parse_changeset_text(&text)
            .map_err(|reason| RevlogError::CorruptChangeset {
                path: self.revlog.index_path().to_path_buf(),
                revision,
                reason,
            })
            .map(|fields| Changeset {
                revision,
                node: info.node,
                parents: info.parents,
                manifest_node: fields.manifest_node,
                user: fields.user,
                timestamp: fields.timestamp,
                tz_offset: fields.tz_offset,
                extras: fields.extras,
                files: fields.files,
                description: fields.description,
            })
    }
}

struct ChangesetFields {
    manifest_node: Node,
    user: Vec<u8>,
    timestamp: i64,
    tz_offset: i32,
    extras: BTreeMap<Vec<u8>, Vec<u8>>,
    files: Vec<Vec<u8>>,
    description: Vec<u8>,
}

fn parse_changeset_text(text: &[u8]) -> std::result::Result<ChangesetFields, String> {
    let header_end = find(text, b"\n\n").ok_or("no empty line before the description")?;
    let description = text[header_end + 2..].to_vec();
    let mut lines = text[..header_end].split(|&b| b == b'\n');
    let manifest_line = lines.next().unwrap_or_default();
    let manifest_node =
        Node::from_hex(manifest_line).ok_or("manifest line is not a 40-digit hex node")?;
    let user = lines.next().ok_or("missing user line")?.to_vec();
    let date_line = lines.next().ok_or("missing date line")?;
    let (timestamp, tz_offset, extras) = parse_date_line(date_line)?;
    let files = lines.map(<[u8]>::to_vec).collect();
    Ok(ChangesetFields {
        manifest_node,
        user,
        timestamp,
        tz_offset,
        extras,
        files,
        description,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

type DateAndExtras = (i64, i32, BTreeMap<Vec<u8>, Vec<u8>>);

fn parse_date_line(line: &[u8]) -> std::result::Result<DateAndExtras, String> {
    let mut fields = line.splitn(3, |&b| b == b' ');
    let time = fields.next().unwrap_or_default();
    let tz = fields.next().ok_or("date line has no timezone")?;
    let time = std::str::from_utf8(time).map_err(|_| "time is not ASCII")?;
    let whole_seconds = time.split_once('.').map_or(time, |(whole, _)| whole);
    let timestamp: i64 = whole_seconds
        .parse()
        .map_err(|_| format!("bad time {time:?}"))?;
    let tz = std::str::from_utf8(tz).map_err(|_| "timezone is not ASCII")?;
    let tz_offset: i32 = tz.parse().map_err(|_| format!("bad timezone {tz:?}"))?;
    let mut extras = BTreeMap::new();
    if let Some(encoded) = fields.next() {
        for item in encoded.split(|&b| b == 0) {
            if item.is_empty() {
                continue;
            }
            let item = unescape_extra(item);
            let colon = item
                .iter()
                .position(|&b| b == b':')
                .ok_or("extra without ':'")?;
            extras.insert(item[..colon].to_vec(), item[colon + 1..].to_vec());
        }
    }
    Ok((timestamp, tz_offset, extras))
}

/// Undoes the escaping of extras: Python string escapes (`\\`, `\n`, `\r`,
/// `\t`, `\0`, `\xNN`, octal); an unknown escape keeps its backslash.
fn unescape_extra(escaped: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut index = 0;
    while index < escaped.len() {
        let byte = escaped[index];
        if byte != b'\\' || index + 1 >= escaped.len() {
            out.push(byte);
            index += 1;
            continue;
        }
        let next = escaped[index + 1];
        index += 2;
        match next {
            b'\\' => out.push(b'\\'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'\n' => {}
            b'x' => {
                let digits = escaped
                    .get(index..index + 2)
                    .and_then(|pair| std::str::from_utf8(pair).ok());
                match digits.and_then(|pair| u8::from_str_radix(pair, 16).ok()) {
                    Some(value) => {
                        out.push(value);
                        index += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                let mut digits = 1;
                while digits < 3 && index < escaped.len() && (b'0'..=b'7').contains(&escaped[index])
                {
                    value = value * 8 + u32::from(escaped[index] - b'0');
                    index += 1;
                    digits += 1;
                }
                out.push((value & 0xff) as u8);
            }
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_changeset() {
        let text = b"0123456789abcdef0123456789abcdef01234567\nAlice <a@example.com>\n1577880000 -3600 branch:stable\0close:1\0note:a\\nb\\\\c\\0d\nsrc/a.c\nREADME\n\nsubject\n\nbody \xe9";
        let fields = parse_changeset_text(text).expect("valid changeset");
        assert_eq!(fields.user, b"Alice <a@example.com>");
        assert_eq!((fields.timestamp, fields.tz_offset), (1_577_880_000, -3600));
        assert_eq!(fields.extras[b"branch".as_slice()], b"stable");
        assert_eq!(fields.extras[b"close".as_slice()], b"1");
        assert_eq!(fields.extras[b"note".as_slice()], b"a\nb\\c\0d");
        assert_eq!(fields.files, vec![b"src/a.c".to_vec(), b"README".to_vec()]);
        assert_eq!(fields.description, b"subject\n\nbody \xe9");
    }

    #[test]
    fn no_files_and_no_extras() {
        let text = b"0123456789abcdef0123456789abcdef01234567\nbob\n0 0\n\nmessage";
        let fields = parse_changeset_text(text).expect("valid changeset");
        assert!(fields.files.is_empty());
        assert!(fields.extras.is_empty());
        assert_eq!(fields.description, b"message");
    }

    #[test]
    fn rejects_malformed_text() {
        assert!(parse_changeset_text(b"").is_err());
        assert!(parse_changeset_text(b"zz\nuser\n0 0\n\nd").is_err());
        assert!(
            parse_changeset_text(b"0123456789abcdef0123456789abcdef01234567\nuser\n\n").is_err()
        );
        assert!(
            parse_changeset_text(b"0123456789abcdef0123456789abcdef01234567\nuser\nx 0\n\nd")
                .is_err()
        );
        assert!(parse_changeset_text(
            b"0123456789abcdef0123456789abcdef01234567\nuser\n0 0 noext\n\nd"
        )
        .is_err());
    }

    #[test]
    fn unescapes_python_escapes() {
        assert_eq!(unescape_extra(b"\\x41\\101\\q\\"), b"AA\\q\\");
    }
}
