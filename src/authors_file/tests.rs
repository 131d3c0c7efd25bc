//! Unit tests for author-map parsing, detection, lookup and rendering.

use super::*;

fn user(key: &str) -> AuthorKey {
    AuthorKey::User(key.to_owned())
}

fn identity(name: Option<&str>, email: &str) -> AuthorKey {
    AuthorKey::Identity {
        name: name.map(str::to_owned),
        email: email.to_owned(),
    }
}

fn entry(line: usize, key: AuthorKey, name: &str, email: &str) -> AuthorEntry {
    AuthorEntry {
        line,
        key,
        name: name.to_owned(),
        email: email.to_owned(),
    }
}

fn parsed(text: &str, format: Option<AuthorsFormat>) -> AuthorsFile {
    match parse(text, format) {
        Ok(file) => file,
        Err(error) => panic!("expected {text:?} to parse, got: {error}"),
    }
}

fn malformed_line(text: &str, format: Option<AuthorsFormat>) -> usize {
    match parse(text, format) {
        Err(AuthorsFileError::MalformedLine { line, .. }) => line,
        other => panic!("expected a malformed line in {text:?}, got {other:?}"),
    }
}

#[test]
fn format_names_round_trip_and_unknown_names_fail() {
    for format in AuthorsFormat::ALL {
        assert_eq!(AuthorsFormat::parse(format.as_str()), Some(format));
        assert_eq!(format.as_str().parse::<AuthorsFormat>(), Ok(format));
        assert_eq!(format.to_string(), format.as_str());
    }
    assert_eq!(
        AuthorsFormat::parse(" Git-SVN "),
        Some(AuthorsFormat::GitSvn)
    );
    assert_eq!(AuthorsFormat::parse("svn"), None);
    let error = "cvs2git".parse::<AuthorsFormat>();
    assert_eq!(
        error,
        Err(AuthorsFileError::UnknownFormat("cvs2git".to_owned()))
    );
    let message = AuthorsFileError::UnknownFormat("cvs2git".to_owned()).to_string();
    assert!(message.contains("`cvs2git`") && message.contains("hg-fast-export"));
}

#[test]
fn git_svn_realistic_sample() {
    let text = "\
# authors for the svn import
jdoe = John Doe <jdoe@example.com>
jose.muller = José Müller <jose.mueller@example.de>
bruce-lee = 李小龙 <bruce@example.cn>
(no author) = No Author <>
  spaced   =   Spaced Out   <  spaced@example.com  >
";
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::GitSvn);
    assert_eq!(
        file.entries,
        vec![
            entry(2, user("jdoe"), "John Doe", "jdoe@example.com"),
            entry(
                3,
                user("jose.muller"),
                "José Müller",
                "jose.mueller@example.de"
            ),
            entry(4, user("bruce-lee"), "李小龙", "bruce@example.cn"),
            entry(5, user("(no author)"), "No Author", ""),
            entry(6, user("spaced"), "Spaced Out", "spaced@example.com"),
        ]
    );
}

#[test]
fn svn_all_fast_export_realistic_sample() {
    let text = "\
jdoe John Doe <jdoe@example.com>
jose.muller\tJosé Müller <jose.mueller@example.de>
bruce-lee 李小龙 <bruce@example.cn>
nobody Nobody <>
";
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::SvnAllFastExport);
    assert_eq!(
        file.entries,
        vec![
            entry(1, user("jdoe"), "John Doe", "jdoe@example.com"),
            entry(
                2,
                user("jose.muller"),
                "José Müller",
                "jose.mueller@example.de"
            ),
            entry(3, user("bruce-lee"), "李小龙", "bruce@example.cn"),
            entry(4, user("nobody"), "Nobody", ""),
        ]
    );
}

#[test]
fn hg_fast_export_realistic_sample() {
    let text = r#"
"Bob <bob@x>"="Robert Smith <robert@example.com>"
"jose"="José Müller"
"李小龙 <bruce@old>" = "李小龙 <bruce@example.cn>"
"say \"hi\" <q@x>"="Quoted \"Nick\" Name <q@example.com>"
"CORP\\alice"="Alice <alice@example.com>"
"CORP\bob"="Bob <bob@example.com>"
"#;
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::HgFastExport);
    assert_eq!(
        file.entries,
        vec![
            entry(2, user("Bob <bob@x>"), "Robert Smith", "robert@example.com"),
            entry(3, user("jose"), "José Müller", ""),
            entry(4, user("李小龙 <bruce@old>"), "李小龙", "bruce@example.cn"),
            entry(
                5,
                user("say \"hi\" <q@x>"),
                "Quoted \"Nick\" Name",
                "q@example.com"
            ),
            entry(6, user("CORP\\alice"), "Alice", "alice@example.com"),
            entry(7, user("CORP\\bob"), "Bob", "bob@example.com"),
        ]
    );
}

#[test]
fn git_tfs_realistic_sample() {
    let text = "\
CORP\\jdoe = John Doe <jdoe@example.com>
EU-DOMAIN\\jose.muller = José Müller <jose@example.de>
CORP\\svc_build = Build Service <>
";
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::GitTfs);
    assert_eq!(
        file.entries,
        vec![
            entry(1, user("CORP\\jdoe"), "John Doe", "jdoe@example.com"),
            entry(
                2,
                user("EU-DOMAIN\\jose.muller"),
                "José Müller",
                "jose@example.de"
            ),
            entry(3, user("CORP\\svc_build"), "Build Service", ""),
        ]
    );
}

#[test]
fn mailmap_all_four_forms_and_trailing_comments() {
    let text = "\
# git mailmap
<jane@example.com> <jane@laptop.local>
Jane Doe <jane@example.com>   # fix the name only
José Müller <jose@example.de> jose <JOSE@old.example>
李小龙 <bruce@example.cn> <bruce@old.example> # old address
Joe R. Developer <joe@example.com> Joe <bugs@example.com>
";
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::Mailmap);
    assert_eq!(
        file.entries,
        vec![
            entry(
                2,
                identity(None, "jane@laptop.local"),
                "",
                "jane@example.com"
            ),
            entry(3, identity(None, "jane@example.com"), "Jane Doe", ""),
            entry(
                4,
                identity(Some("jose"), "JOSE@old.example"),
                "José Müller",
                "jose@example.de"
            ),
            entry(
                5,
                identity(None, "bruce@old.example"),
                "李小龙",
                "bruce@example.cn"
            ),
            entry(
                6,
                identity(Some("Joe"), "bugs@example.com"),
                "Joe R. Developer",
                "joe@example.com"
            ),
        ]
    );
}

#[test]
fn detection_picks_each_format_from_the_first_entry_lines() {
    let cases = [
        ("a = A <a@x>\n", AuthorsFormat::GitSvn),
        ("a=A <a@x>\n", AuthorsFormat::GitSvn),
        ("D\\a = A <a@x>\n", AuthorsFormat::GitTfs),
        ("a A <a@x>\n", AuthorsFormat::SvnAllFastExport),
        ("\"a\"=\"A <a@x>\"\n", AuthorsFormat::HgFastExport),
        ("<a@x> <b@x>\n", AuthorsFormat::Mailmap),
        ("A <a@x> B <b@x>\n", AuthorsFormat::Mailmap),
        // One-identity lines wait for a line that is certainly mailmap.
        (
            "Jane Doe <jane@x>\n<j@x> <jane@old>\n",
            AuthorsFormat::Mailmap,
        ),
        (
            "# comment\n\n   \n\"a\"=\"A\"\n",
            AuthorsFormat::HgFastExport,
        ),
        ("", AuthorsFormat::GitSvn),
        ("# only comments\n", AuthorsFormat::GitSvn),
    ];
    for (text, expected) in cases {
        assert_eq!(AuthorsFormat::detect(text), expected, "detecting {text:?}");
        assert_eq!(
            parse(text, None).map(|file| file.format),
            Ok(expected),
            "{text:?}"
        );
    }
}

#[test]
fn explicit_format_overrides_detection() {
    // Detection would call this svn-all-fast-export; as mailmap it maps a name.
    let text = "Jane Doe <jane@example.com>\n";
    assert_eq!(parsed(text, None).format, AuthorsFormat::SvnAllFastExport);
    let as_mailmap = parsed(text, Some(AuthorsFormat::Mailmap));
    assert_eq!(as_mailmap.format, AuthorsFormat::Mailmap);
    assert_eq!(
        as_mailmap.entries,
        vec![entry(1, identity(None, "jane@example.com"), "Jane Doe", "")]
    );
    // A git-svn-shaped file read as git-tfs keeps its entries and the named format.
    let as_tfs = parsed("jdoe = John <j@x>\n", Some(AuthorsFormat::GitTfs));
    assert_eq!(as_tfs.format, AuthorsFormat::GitTfs);
    assert_eq!(as_tfs.entries, vec![entry(1, user("jdoe"), "John", "j@x")]);
}

#[test]
fn mixed_formats_report_the_first_line_that_does_not_fit() {
    let text = "a = A <a@x>\nb = B <b@x>\n\n# c\nc C <c@x>\nd = D <d@x>\n";
    assert_eq!(malformed_line(text, None), 5);
    let text = "\"a\"=\"A\"\nb = B <b@x>\n";
    assert_eq!(malformed_line(text, None), 2);
    let text = "a A <a@x>\nb B <b@x>\nc = C <c@x>\n";
    assert_eq!(malformed_line(text, None), 3);
    let text = "<a@x> <b@x>\nc = C <c@x>\n";
    assert_eq!(malformed_line(text, None), 2);
}

#[test]
fn malformed_lines_name_their_line_in_every_format() {
    let cases: &[(AuthorsFormat, &str)] = &[
        (AuthorsFormat::GitSvn, "jdoe John Doe <j@x>"),
        (AuthorsFormat::GitSvn, " = John <j@x>"),
        (AuthorsFormat::GitSvn, "jdoe = <j@x>"),
        (AuthorsFormat::GitSvn, "jdoe = John j@x"),
        (AuthorsFormat::GitSvn, "jdoe = John <j@x"),
        (AuthorsFormat::GitSvn, "jdoe = John <j@x> trailing"),
        (AuthorsFormat::GitSvn, "jdoe = John <j <@x>"),
        (AuthorsFormat::GitSvn, "jdoe = John <j @x>"),
        (AuthorsFormat::GitTfs, "CORP\\jdoe John <j@x>"),
        (AuthorsFormat::GitTfs, "CORP\\jdoe = John"),
        (AuthorsFormat::SvnAllFastExport, "jdoe"),
        (AuthorsFormat::SvnAllFastExport, "jdoe = John <j@x>"),
        (AuthorsFormat::SvnAllFastExport, "jdoe <j@x>"),
        (AuthorsFormat::SvnAllFastExport, "<j@x> John"),
        (AuthorsFormat::SvnAllFastExport, "jdoe John"),
        (AuthorsFormat::HgFastExport, "jdoe=\"John <j@x>\""),
        (AuthorsFormat::HgFastExport, "\"jdoe\"=John <j@x>"),
        (AuthorsFormat::HgFastExport, "\"jdoe\"\"John <j@x>\""),
        (AuthorsFormat::HgFastExport, "\"jdoe=\"John <j@x>"),
        (AuthorsFormat::HgFastExport, "\"jdoe\"=\"John <j@x>\" extra"),
        (AuthorsFormat::HgFastExport, "\"\"=\"John <j@x>\""),
        (AuthorsFormat::HgFastExport, "\"jdoe\"=\"\""),
        (AuthorsFormat::HgFastExport, "\"jdoe\"=\"<j@x>\""),
        (AuthorsFormat::HgFastExport, "\"jdoe\"=\"John <j@x\""),
        (AuthorsFormat::HgFastExport, "\"jdoe\\"),
        (AuthorsFormat::Mailmap, "<j@x>"),
        (AuthorsFormat::Mailmap, "John"),
        (AuthorsFormat::Mailmap, "John <j@x> Old"),
        (AuthorsFormat::Mailmap, "John <j@x> <old@x> trailing"),
        (AuthorsFormat::Mailmap, "John <j@x> <old@x"),
        (AuthorsFormat::Mailmap, "John> <j@x>"),
    ];
    for &(format, bad_line) in cases {
        let text = format!("# header\n{}\n\n{}\n", good_line(format), bad_line);
        match parse(&text, Some(format)) {
            Err(
                error @ AuthorsFileError::MalformedLine {
                    line: 4, expected, ..
                },
            ) => {
                assert_eq!(expected, format.line_shape());
                let message = error.to_string();
                assert!(
                    message.starts_with(&format!("line 4: expected {}", format.line_shape())),
                    "{message}"
                );
            }
            other => panic!("{format}: expected line 4 to be malformed in {text:?}, got {other:?}"),
        }
    }
}

fn good_line(format: AuthorsFormat) -> &'static str {
    match format {
        AuthorsFormat::GitSvn => "jdoe = John Doe <jdoe@example.com>",
        AuthorsFormat::SvnAllFastExport => "jdoe John Doe <jdoe@example.com>",
        AuthorsFormat::HgFastExport => "\"John <jdoe@old>\"=\"John Doe <jdoe@example.com>\"",
        AuthorsFormat::GitTfs => "CORP\\jdoe = John Doe <jdoe@example.com>",
        AuthorsFormat::Mailmap => "John Doe <jdoe@example.com> <jdoe@old>",
    }
}

#[test]
fn error_message_reads_naturally() {
    let error = parse("a = A <a@x>\n\n\n\n\n\nbroken\n", None);
    let message = match error {
        Err(error) => error.to_string(),
        Ok(file) => panic!("expected an error, parsed {file:?}"),
    };
    assert_eq!(
        message,
        "line 7: expected `user = Name <email>` (missing `=`)"
    );
}

#[test]
fn crlf_bom_and_comments_are_accepted() {
    let text = "\u{feff}# authors\r\njdoe = John Doe <jdoe@example.com>\r\n\r\n   # indented comment\r\njose = José Müller <jose@example.de>\r\n";
    let file = parsed(text, None);
    assert_eq!(file.format, AuthorsFormat::GitSvn);
    assert_eq!(
        file.entries,
        vec![
            entry(2, user("jdoe"), "John Doe", "jdoe@example.com"),
            entry(5, user("jose"), "José Müller", "jose@example.de"),
        ]
    );
    let hg = parsed("\u{feff}\"a\"=\"A <a@x>\"\r\n", None);
    assert_eq!(hg.entries, vec![entry(1, user("a"), "A", "a@x")]);
    let mailmap = parsed("\u{feff}<a@x> <b@x> # c\r\n", None);
    assert_eq!(
        mailmap.entries,
        vec![entry(1, identity(None, "b@x"), "", "a@x")]
    );
    // A stray carriage return inside a line is not silently kept in a name.
    assert_eq!(malformed_line("a = A\rB <a@x>\n", None), 1);
    // A byte-order mark anywhere but the start is not either.
    assert_eq!(
        malformed_line("a = A <a@x>\n\u{feff}b = B <b@x>\n", None),
        2
    );
}

#[test]
fn later_entries_win_for_the_same_key() {
    let file = parsed(
        "jdoe = Old Name <old@x>\nother = Other <o@x>\njdoe = New Name <new@x>\n",
        None,
    );
    assert_eq!(
        file.lookup("jdoe", "jdoe@uuid", "jdoe@uuid"),
        Some(("New Name", "new@x"))
    );
    let mailmap = parsed(
        "Old <old@x> <c@x>\nNew <new@x> <C@X>\nNamed Old <n1@x> Joe <c@x>\nNamed New <n2@x> joe <c@x>\n",
        None,
    );
    assert_eq!(
        mailmap.lookup("Someone", "Someone <c@x>", "c@x"),
        Some(("New", "new@x"))
    );
    assert_eq!(
        mailmap.lookup("Joe", "Joe <c@x>", "c@x"),
        Some(("Named New", "n2@x"))
    );
}

#[test]
fn user_keys_match_exactly_before_ignoring_case() {
    let file = parsed(
        "JDoe = Upper <upper@x>\njdoe = Lower <lower@x>\nuser@1234-uuid = By Id <id@x>\nCORP\\Alice = Alice <alice@x>\n",
        None,
    );
    assert_eq!(file.lookup("JDoe", "", ""), Some(("Upper", "upper@x")));
    assert_eq!(file.lookup("jdoe", "", ""), Some(("Lower", "lower@x")));
    // No exact match: the last entry equal ignoring case wins.
    assert_eq!(file.lookup("JDOE", "", ""), Some(("Lower", "lower@x")));
    assert_eq!(
        file.lookup("corp\\alice", "", ""),
        Some(("Alice", "alice@x"))
    );
    // remote_id is tried exactly after remote_name.
    assert_eq!(
        file.lookup("user", "user@1234-uuid", ""),
        Some(("By Id", "id@x"))
    );
    assert_eq!(
        file.lookup("user", "USER@1234-UUID", ""),
        Some(("By Id", "id@x"))
    );
    assert_eq!(file.lookup("stranger", "stranger@uuid", "s@x"), None);
    // Unicode case folding.
    let unicode = parsed("josé = José <j@x>\n", None);
    assert_eq!(unicode.lookup("JOSÉ", "", ""), Some(("José", "j@x")));
}

#[test]
fn hg_keys_match_the_raw_user_string() {
    let file = parsed(
        "\"Bob <bob@x>\"=\"Robert <robert@x>\"\n\"alice\"=\"Alice\"\n",
        None,
    );
    assert_eq!(
        file.lookup("Bob <bob@x>", "Bob <bob@x>", "bob@x"),
        Some(("Robert", "robert@x"))
    );
    assert_eq!(
        file.lookup("Bob <BOB@X>", "Bob <BOB@X>", "BOB@X"),
        Some(("Robert", "robert@x"))
    );
    // A name-only target maps to an empty email, as written.
    assert_eq!(file.lookup("alice", "alice", ""), Some(("Alice", "")));
    assert_eq!(file.lookup("Bob", "Bob", "bob@x"), None);
}

#[test]
fn mailmap_lookup_rules() {
    let file = parsed(
        "\
<jane@example.com> <jane@laptop>
Jane Doe <jane@example.com>
Joe Developer <joe@example.com> Joe <bugs@example.com>
Everyone Else <else@example.com> <bugs@example.com>
",
        None,
    );
    // Keeps the commit name, replaces the email; the email matches ignoring case.
    assert_eq!(
        file.lookup("Jane D.", "Jane D. <JANE@laptop>", "JANE@laptop"),
        Some(("Jane D.", "jane@example.com"))
    );
    // Replaces the name only, keeping the commit's email as given.
    assert_eq!(
        file.lookup("jane", "jane <Jane@Example.com>", "Jane@Example.com"),
        Some(("Jane Doe", "Jane@Example.com"))
    );
    // A name-specific entry wins over the email-only one, even when written first.
    assert_eq!(
        file.lookup("joe", "joe <bugs@example.com>", "bugs@example.com"),
        Some(("Joe Developer", "joe@example.com"))
    );
    assert_eq!(
        file.lookup("Mallory", "Mallory <bugs@example.com>", "bugs@example.com"),
        Some(("Everyone Else", "else@example.com"))
    );
    // hg-style remote names contribute only their name part.
    assert_eq!(
        file.lookup(
            "Joe <bugs@example.com>",
            "Joe <bugs@example.com>",
            "bugs@example.com"
        ),
        Some(("Joe Developer", "joe@example.com"))
    );
    // Mailmap keys never match by user name.
    assert_eq!(file.lookup("jane@laptop", "jane@laptop", "other@x"), None);
}

#[test]
fn default_identity_builds_user_at_domain() {
    let cases = [
        ("jdoe", "example.com", ("jdoe", "jdoe@example.com")),
        ("jdoe", "@example.com", ("jdoe", "jdoe@example.com")),
        (" jdoe ", " example.com ", ("jdoe", "jdoe@example.com")),
        (
            "CORP\\jdoe",
            "example.com",
            ("CORP\\jdoe", "jdoe@example.com"),
        ),
        (
            "john doe",
            "example.com",
            ("john doe", "john.doe@example.com"),
        ),
        (
            "jdoe@corp.example",
            "example.com",
            ("jdoe@corp.example", "jdoe@corp.example"),
        ),
        ("jdoe", "", ("jdoe", "jdoe")),
        ("josé", "example.com", ("josé", "josé@example.com")),
    ];
    for (user_name, domain, (name, email)) in cases {
        assert_eq!(
            default_identity(user_name, domain),
            (name.to_owned(), email.to_owned()),
            "{user_name:?} @ {domain:?}"
        );
    }
}

fn sample_authors(format: AuthorsFormat) -> Vec<(String, String, String)> {
    let rows: &[(&str, &str, &str)] = match format {
        AuthorsFormat::GitSvn => &[
            ("jdoe", "John Doe", "jdoe@example.com"),
            ("jose.muller", "José Müller", "jose@example.de"),
            ("bruce-lee", "李小龙", "bruce@example.cn"),
            ("(no author)", "No Author", ""),
        ],
        AuthorsFormat::SvnAllFastExport => &[
            ("jdoe", "John Doe", "jdoe@example.com"),
            ("jose.muller", "José Müller", "jose@example.de"),
            ("bruce-lee", "李小龙", "bruce@example.cn"),
            ("nobody", "Nobody", ""),
        ],
        AuthorsFormat::HgFastExport => &[
            ("Bob <bob@x>", "Robert", "robert@example.com"),
            ("say \"hi\"", "Quoted \"Nick\"", "q@example.com"),
            ("CORP\\alice", "Alice", ""),
            ("李小龙 <bruce@old>", "李小龙", "bruce@example.cn"),
            ("trailing\\", "Back Slash", "b@x"),
        ],
        AuthorsFormat::GitTfs => &[
            ("CORP\\jdoe", "John Doe", "jdoe@example.com"),
            ("EU-DOMAIN\\jose.muller", "José Müller", "jose@example.de"),
            ("CORP\\svc", "Service", ""),
        ],
        AuthorsFormat::Mailmap => &[
            ("Joe <bugs@example.com>", "Joe Developer", "joe@example.com"),
            ("<jane@laptop>", "", "jane@example.com"),
            ("jane@example.com", "Jane Doe", ""),
            ("李小龙 <bruce@old>", "李小龙", "bruce@example.cn"),
            ("keep@example.com", "", ""),
        ],
    };
    rows.iter()
        .map(|&(key, name, email)| (key.to_owned(), name.to_owned(), email.to_owned()))
        .collect()
}

fn expected_key(format: AuthorsFormat, key: &str) -> AuthorKey {
    if format != AuthorsFormat::Mailmap {
        return user(key);
    }
    match key.split_once('<') {
        Some((name, email)) => {
            let name = name.trim();
            identity(
                (!name.is_empty()).then_some(name),
                email.trim_end_matches('>'),
            )
        }
        None => identity(None, key),
    }
}

#[test]
fn render_round_trips_through_parse_in_every_format() {
    for format in AuthorsFormat::ALL {
        let authors = sample_authors(format);
        let text = match render(format, &authors) {
            Ok(text) => text,
            Err(error) => panic!("{format}: {error}"),
        };
        assert_eq!(
            text.lines().count(),
            authors.len(),
            "{format}: one line per author"
        );
        let file = parsed(&text, Some(format));
        let expected: Vec<AuthorEntry> = authors
            .iter()
            .enumerate()
            .map(|(index, (key, name, email))| {
                entry(index + 1, expected_key(format, key), name, email)
            })
            .collect();
        assert_eq!(file.entries, expected, "{format}:\n{text}");
        // Detection agrees, except git-tfs without backslashes, which is not the case here.
        assert_eq!(AuthorsFormat::detect(&text), format, "{format}:\n{text}");
    }
}

#[test]
fn render_writes_the_expected_lines() {
    let one = [("jdoe", "John Doe", "j@x")];
    assert_eq!(
        render(AuthorsFormat::GitSvn, &one),
        Ok("jdoe = John Doe <j@x>\n".to_owned())
    );
    assert_eq!(
        render(AuthorsFormat::SvnAllFastExport, &one),
        Ok("jdoe John Doe <j@x>\n".to_owned())
    );
    assert_eq!(
        render(AuthorsFormat::HgFastExport, &[("a \"b\" \\c", "N", "")]),
        Ok("\"a \\\"b\\\" \\\\c\"=\"N <>\"\n".to_owned())
    );
    assert_eq!(
        render(AuthorsFormat::Mailmap, &[("Old <o@x>", "New", "n@x")]),
        Ok("New <n@x> Old <o@x>\n".to_owned())
    );
    let empty: [(&str, &str, &str); 0] = [];
    assert_eq!(render(AuthorsFormat::GitSvn, &empty), Ok(String::new()));
}

#[test]
fn render_refuses_authors_that_would_not_read_back() {
    let cases: &[(AuthorsFormat, (&str, &str, &str))] = &[
        (AuthorsFormat::SvnAllFastExport, ("john doe", "John", "j@x")),
        (AuthorsFormat::GitSvn, ("a=b", "John", "j@x")),
        (AuthorsFormat::GitSvn, ("", "John", "j@x")),
        (AuthorsFormat::GitSvn, ("#jdoe", "John", "j@x")),
        (AuthorsFormat::GitSvn, ("jdoe", "", "j@x")),
        (AuthorsFormat::GitSvn, ("jdoe", "John <x>", "j@x")),
        (AuthorsFormat::GitSvn, ("jdoe", " John", "j@x")),
        (AuthorsFormat::GitSvn, ("jdoe", "John", "j>x")),
        (AuthorsFormat::GitTfs, ("CORP\\jdoe\n", "John", "j@x")),
        (AuthorsFormat::HgFastExport, ("", "John", "j@x")),
        (AuthorsFormat::HgFastExport, ("bob", "John\r", "j@x")),
        (AuthorsFormat::Mailmap, ("two words", "John", "j@x")),
        (AuthorsFormat::Mailmap, ("Old <o@x> extra", "John", "j@x")),
        (AuthorsFormat::Mailmap, ("o@x", "John <", "j@x")),
    ];
    for &(format, (key, name, email)) in cases {
        match render(format, &[(key, name, email)]) {
            Err(AuthorsFileError::Unrepresentable {
                format: reported,
                key: reported_key,
                reason,
            }) => {
                assert_eq!(reported, format);
                assert_eq!(reported_key, key);
                assert!(!reason.is_empty());
            }
            other => {
                panic!("{format}: expected {key:?}/{name:?}/{email:?} to be refused, got {other:?}")
            }
        }
    }
}

/// Deterministic variants of `line`: truncations, deletions, and insertions of
/// characters that matter to the parsers, at every character boundary.
fn mangled_variants(line: &str) -> Vec<String> {
    const INSERTS: [&str; 14] = [
        "<", ">", "\"", "\\", "=", "#", " ", "\t", "\r", "\u{feff}", "é", "李", "<>", "\\\"",
    ];
    let boundaries: Vec<usize> = line
        .char_indices()
        .map(|(index, _)| index)
        .chain(std::iter::once(line.len()))
        .collect();
    let mut variants = Vec::new();
    for (position, &boundary) in boundaries.iter().enumerate() {
        variants.push(line[..boundary].to_owned());
        variants.push(line[boundary..].to_owned());
        if let Some(&next) = boundaries.get(position + 1) {
            variants.push(format!("{}{}", &line[..boundary], &line[next..]));
            variants.push(format!("{}{}", &line[..next], &line[boundary..]));
        }
        for insert in INSERTS {
            variants.push(format!(
                "{}{insert}{}",
                &line[..boundary],
                &line[boundary..]
            ));
        }
    }
    variants
}

#[test]
fn mangled_lines_never_panic_and_errors_name_a_real_line() {
    let mut outcomes = (0usize, 0usize);
    for source_format in AuthorsFormat::ALL {
        for variant in mangled_variants(good_line(source_format)) {
            let text = format!("# c\n{}\n{variant}\n", good_line(source_format));
            let formats = AuthorsFormat::ALL.into_iter().map(Some).chain([None]);
            for format in formats {
                match parse(&text, format) {
                    Ok(file) => {
                        outcomes.0 += 1;
                        assert!(file.entries.iter().all(|e| e.line == 2 || e.line == 3));
                        // Whatever parsed renders and reads back where the format can hold it.
                        let rows: Vec<(String, String, String)> = file
                            .entries
                            .iter()
                            .filter_map(|e| match &e.key {
                                AuthorKey::User(key) => {
                                    Some((key.clone(), e.name.clone(), e.email.clone()))
                                }
                                AuthorKey::Identity { .. } => None,
                            })
                            .collect();
                        if let Ok(rendered) = render(file.format, &rows) {
                            let reread = parse(&rendered, Some(file.format));
                            assert_eq!(reread.map(|f| f.entries.len()), Ok(rows.len()));
                        }
                    }
                    Err(AuthorsFileError::MalformedLine { line, .. }) => {
                        outcomes.1 += 1;
                        assert!(line == 2 || line == 3, "line {line} in {text:?}");
                    }
                    Err(other) => panic!("unexpected error {other:?} for {text:?}"),
                }
            }
        }
    }
    assert!(outcomes.0 > 100 && outcomes.1 > 100, "{outcomes:?}");
}

#[test]
fn lookup_on_an_empty_file_finds_nothing() {
    let file = parsed("", None);
    assert!(file.entries.is_empty());
    assert_eq!(file.lookup("jdoe", "jdoe@uuid", "jdoe@uuid"), None);
    assert_eq!(file.lookup("", "", ""), None);
}
