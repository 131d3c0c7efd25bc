//! Git identity lines: `Name <email> timestamp tz`, split without losing a byte.

/// An identity line split at the closing `>` of the email.
#[derive(Debug, PartialEq, Eq)]
pub struct IdentLine<'a> {
    /// `Name <email>` exactly as stored; the author's `remote_id`.
    pub identity: &'a [u8],
    /// ` timestamp tz`, kept verbatim.
    pub when: &'a [u8],
}

impl<'a> IdentLine<'a> {
    pub fn parse(line: &'a [u8]) -> Option<IdentLine<'a>> {
        let end = line.iter().rposition(|&b| b == b'>')? + 1;
        Some(IdentLine {
            identity: &line[..end],
            when: &line[end..],
        })
    }
}

/// Splits `Name <email>` into name and email (trimmed), as text.
pub fn name_and_email(identity: &str) -> (String, String) {
    match identity.rfind('<') {
        Some(open) => {
            let name = identity[..open].trim();
            let email = identity[open + 1..].trim_end_matches('>').trim();
            (name.to_owned(), email.to_owned())
        }
        None => (identity.trim().to_owned(), String::new()),
    }
}

/// Formats a name and email as a Git identity, dropping characters Git cannot store there.
pub fn format_identity(name: &str, email: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '<' | '>' | '\n' | '\0'))
            .collect::<String>()
            .trim()
            .to_owned()
    };
    format!("{} <{}>", clean(name), clean(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identity_and_time() {
        let line = IdentLine::parse(b"A U Thor <a@x> 1700000000 +0100").expect("parses");
        assert_eq!(line.identity, b"A U Thor <a@x>");
        assert_eq!(line.when, b" 1700000000 +0100");
        assert_eq!(
            name_and_email("A U Thor <a@x>"),
            ("A U Thor".into(), "a@x".into())
        );
        assert_eq!(format_identity("Eve <x>", "e\n@y"), "Eve x <e@y>");
    }
}
