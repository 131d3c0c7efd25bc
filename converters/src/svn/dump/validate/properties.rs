//! Checks of `svn:` property values (encoding, line endings, `svn:date`, `svn:mergeinfo`).

use super::invalid;
use crate::svn::dump::error::DumpError;
use crate::svn::dump::record::Properties;

/// Checks the `svn:` properties of one revision or node.
pub(super) fn check_properties(
    properties: &Properties,
    offset: u64,
    owner: &str,
) -> Result<(), DumpError> {
    for (name, value) in properties {
        let Some(value) = value else { continue };
        if !name.starts_with(b"svn:") {
            continue;
        }
        let name_text = String::from_utf8_lossy(name);
        let text = std::str::from_utf8(value).map_err(|error| DumpError::InvalidUtf8 {
            offset,
            field: format!(
                "property '{name_text}' of {owner} (invalid byte at position {} of the value)",
                error.valid_up_to()
            ),
        })?;
        if text.contains('\r') {
            let message = format!(
                "property '{name_text}' of {owner} contains a carriage return \
                 (svn: properties use LF line endings)"
            );
            return Err(invalid(offset, message));
        }
        if name.as_slice() == b"svn:date" && !is_valid_svn_date(text) {
            let message = format!(
                "svn:date '{text}' of {owner} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ"
            );
            return Err(invalid(offset, message));
        }
        if name.as_slice() == b"svn:mergeinfo" {
            check_mergeinfo(text).map_err(|problem| {
                invalid(
                    offset,
                    format!("svn:mergeinfo of {owner} is invalid: {problem}"),
                )
            })?;
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` with plausible field ranges.
fn is_valid_svn_date(date: &str) -> bool {
    let bytes = date.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = bytes.get(range)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u32, |total, digit| {
            Some(total * 10 + u32::from(digit - b'0'))
        })
    };
    let separators_ok = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !separators_ok {
        return false;
    }
    let fields = (
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
    );
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = fields
    else {
        return false;
    };
    let ranges_ok = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60;
    let rest = &bytes[19..];
    let fraction_ok = match rest {
        [b'Z'] => true,
        [b'.', fraction @ .., b'Z'] => {
            (1..=6).contains(&fraction.len()) && fraction.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    ranges_ok && fraction_ok
}

/// Lines of `path:ranges`, ranges being `N`, `N-M`, optionally ending in `*`,
/// separated by commas; revision 0 is never valid.
fn check_mergeinfo(mergeinfo: &str) -> Result<(), String> {
    for line in mergeinfo.lines().filter(|line| !line.is_empty()) {
        let (path, ranges) = line
            .rsplit_once(':')
            .ok_or_else(|| format!("line '{line}' has no ':' between path and revisions"))?;
        if path.is_empty() {
            return Err(format!("line '{line}' has an empty path"));
        }
        for range in ranges.split(',') {
            let range = range.strip_suffix('*').unwrap_or(range);
            let (start, end) = range.split_once('-').unwrap_or((range, range));
            for bound in [start, end] {
                match bound.parse::<u64>() {
                    Ok(0) => {
                        return Err(format!("revision 0 in range list '{ranges}' of '{path}'"))
                    }
                    Ok(_) => {}
                    Err(_) => return Err(format!("'{range}' in '{path}' is not a revision range")),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_mergeinfo() {
        assert!(check_mergeinfo("/trunk:1-5,7*,9\n/branches/b:3").is_ok());
        assert!(check_mergeinfo("/a:0,1").is_err());
        assert!(check_mergeinfo("/b:0*,1").is_err());
        assert!(check_mergeinfo("/a:x").is_err());
        assert!(check_mergeinfo("no colon").is_err());
    }
}
