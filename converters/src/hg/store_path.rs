//! Store path encoding: where a tracked file's revlog lives inside `.hg/store`.
//!
//! Mercurial escapes tracked paths so they survive case-insensitive and
//! Windows filesystems (see the wiki pages "fncacheRepoFormat" and
//! "CaseFoldingPlan"):
//! - directory components ending in `.hg`, `.i` or `.d` get `.hg` appended;
//! - uppercase letters become `_` plus the lowercase letter, `_` becomes `__`;
//! - control bytes, bytes from 126 (`~`) up and `\:*?"<>|` become `~xx`;
//! - with fncache, Windows reserved names (`aux`, `con`, `lpt1`, ...) get
//!   their third byte escaped, a trailing `.` or space is escaped, and with
//!   dotencode a leading `.` or space is escaped too;
//! - with fncache, an encoded path longer than 120 bytes is replaced by a
//!   hashed `dh/` form built from shortened directories, a filler taken from
//!   the file name, the SHA-1 of the unencoded path and the extension.

use super::sha1::sha1;

/// How a repository's store names its filelogs, decided by its requirements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreLayout {
    /// No `store` requirement: revlogs directly under `.hg/`, only directory
    /// names are escaped.
    Basic,
    /// `store` without `fncache`: the reversible character encoding.
    Encoded,
    /// `store` + `fncache`: the encoding plus Windows names and `dh/` hashing.
    Fncache { dotencode: bool },
}

/// Which of a revlog's two files to name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevlogFile {
    Index,
    Data,
}

const MAX_STORE_PATH_LEN: usize = 120;
const HASHED_DIR_PREFIX_LEN: usize = 8;
const MAX_HASHED_DIRS_LEN: usize = 8 * (HASHED_DIR_PREFIX_LEN + 1) - 4;
const WINDOWS_RESERVED_CHARS: &[u8] = b"\\:*?\"<>|";
const WINDOWS_RESERVED_3: [&[u8]; 4] = [b"aux", b"con", b"prn", b"nul"];
const WINDOWS_RESERVED_4: [&[u8]; 2] = [b"com", b"lpt"];

/// The store-relative path (bytes, `/`-separated) of the filelog index or
/// data file for the tracked path `tracked_path`.
pub fn filelog_store_path(layout: StoreLayout, tracked_path: &[u8], file: RevlogFile) -> Vec<u8> {
    let mut path = Vec::with_capacity(tracked_path.len() + 7);
    path.extend_from_slice(b"data/");
    path.extend_from_slice(tracked_path);
    path.extend_from_slice(match file {
        RevlogFile::Index => b".i",
        RevlogFile::Data => b".d",
    });
    let path = encode_directories(&path);
    match layout {
        StoreLayout::Basic => path,
        StoreLayout::Encoded => encode_filename(&path),
        StoreLayout::Fncache { dotencode } => hybrid_encode(&path, dotencode),
    }
}

/// Appends `.hg` to directory components ending in `.hg`, `.i` or `.d`, so
/// that a directory never collides with a revlog file.
fn encode_directories(path: &[u8]) -> Vec<u8> {
    if !path.starts_with(b"data/") {
        return path.to_vec();
    }
    let mut out = Vec::with_capacity(path.len() + 8);
    let component_count = path.split(|&b| b == b'/').count();
    for (index, component) in path.split(|&b| b == b'/').enumerate() {
        if index > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(component);
        let is_directory = index + 1 < component_count;
        if is_directory
            && (component.ends_with(b".hg")
                || component.ends_with(b".i")
                || component.ends_with(b".d"))
        {
            out.extend_from_slice(b".hg");
        }
    }
    out
}

fn needs_tilde_escape(byte: u8) -> bool {
    !(32..126).contains(&byte) || WINDOWS_RESERVED_CHARS.contains(&byte)
}

fn push_tilde_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'~',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 15)],
    ]);
}

/// The reversible encoding: `A` -> `_a`, `_` -> `__`, reserved -> `~xx`.
fn encode_filename(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() * 2);
    for &byte in path {
        match byte {
            b'A'..=b'Z' => out.extend_from_slice(&[b'_', byte.to_ascii_lowercase()]),
            b'_' => out.extend_from_slice(b"__"),
            _ if needs_tilde_escape(byte) => push_tilde_escape(&mut out, byte),
            _ => out.push(byte),
        }
    }
    out
}

/// The lossy encoding used inside hashed paths: uppercase is lowered,
/// reserved bytes become `~xx`, `_` stays.
fn lower_encode(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() * 2);
    for &byte in path {
        match byte {
            b'A'..=b'Z' => out.push(byte.to_ascii_lowercase()),
            _ if needs_tilde_escape(byte) => push_tilde_escape(&mut out, byte),
            _ => out.push(byte),
        }
    }
    out
}

fn is_windows_reserved_name(component: &[u8]) -> bool {
    let stem_len = component
        .iter()
        .position(|&b| b == b'.')
        .unwrap_or(component.len());
    let prefix = &component[..stem_len.min(3)];
    match stem_len {
        3 => WINDOWS_RESERVED_3.contains(&prefix),
        4 => (b'1'..=b'9').contains(&component[3]) && WINDOWS_RESERVED_4.contains(&prefix),
        _ => false,
    }
}

/// Escapes Windows reserved names, trailing `.`/space and (with dotencode)
/// leading `.`/space in each component.
fn aux_encode_component(component: &[u8], dotencode: bool) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(component.len() + 6);
    match component.first() {
        None => return encoded,
        Some(&first) if dotencode && (first == b'.' || first == b' ') => {
            push_tilde_escape(&mut encoded, first);
            encoded.extend_from_slice(&component[1..]);
        }
        Some(_) if is_windows_reserved_name(component) => {
            encoded.extend_from_slice(&component[..2]);
            push_tilde_escape(&mut encoded, component[2]);
            encoded.extend_from_slice(&component[3..]);
        }
        Some(_) => encoded.extend_from_slice(component),
    }
    if let Some(&last) = encoded.last().filter(|&&last| last == b'.' || last == b' ') {
        encoded.pop();
        push_tilde_escape(&mut encoded, last);
    }
    encoded
}

fn aux_encode(components: &[&[u8]], dotencode: bool) -> Vec<Vec<u8>> {
    components
        .iter()
        .map(|component| aux_encode_component(component, dotencode))
        .collect()
}

fn join_components(components: &[Vec<u8>]) -> Vec<u8> {
    components.join(&b'/')
}

fn hybrid_encode(path: &[u8], dotencode: bool) -> Vec<u8> {
    let encoded = encode_filename(path);
    let components: Vec<&[u8]> = encoded.split(|&b| b == b'/').collect();
    let result = join_components(&aux_encode(&components, dotencode));
    if result.len() > MAX_STORE_PATH_LEN {
        hash_encode(path, dotencode)
    } else {
        result
    }
}

/// The extension as Python's `os.path.splitext` finds it: from the last dot,
/// provided something other than dots precedes it.
fn extension(basename: &[u8]) -> &[u8] {
    match basename.iter().rposition(|&b| b == b'.') {
        Some(dot) if basename[..dot].iter().any(|&b| b != b'.') => &basename[dot..],
        _ => b"",
    }
}

fn hash_encode(path: &[u8], dotencode: bool) -> Vec<u8> {
    let digest: Vec<u8> = sha1(path)
        .iter()
        .flat_map(|byte| format!("{byte:02x}").into_bytes())
        .collect();
    let lowered = lower_encode(path.get(5..).unwrap_or_default());
    let components: Vec<&[u8]> = lowered.split(|&b| b == b'/').collect();
    let parts = aux_encode(&components, dotencode);
    let (basename, directories) = match parts.split_last() {
        Some(split) => split,
        None => (&Vec::new(), &[][..]),
    };
    let ext = extension(basename);

    let mut short_dirs: Vec<u8> = Vec::new();
    for directory in directories {
        let mut short = directory[..directory.len().min(HASHED_DIR_PREFIX_LEN)].to_vec();
        if let Some(last) = short
            .last_mut()
            .filter(|last| **last == b'.' || **last == b' ')
        {
            *last = b'_';
        }
        let new_len = if short_dirs.is_empty() {
            short.len()
        } else {
            short_dirs.len() + 1 + short.len()
        };
        if !short_dirs.is_empty() && new_len > MAX_HASHED_DIRS_LEN {
            break;
        }
        if !short_dirs.is_empty() {
            short_dirs.push(b'/');
        }
        short_dirs.extend_from_slice(&short);
    }
    if !short_dirs.is_empty() {
        short_dirs.push(b'/');
    }

    let mut result = b"dh/".to_vec();
    result.extend_from_slice(&short_dirs);
    let space_left = MAX_STORE_PATH_LEN.saturating_sub(result.len() + digest.len() + ext.len());
    if space_left > 0 {
        result.extend_from_slice(&basename[..basename.len().min(space_left)]);
    }
    result.extend_from_slice(&digest);
    result.extend_from_slice(ext);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_path(layout: StoreLayout, path: &str) -> String {
        String::from_utf8_lossy(&filelog_store_path(
            layout,
            path.as_bytes(),
            RevlogFile::Index,
        ))
        .into_owned()
    }

    const FNCACHE: StoreLayout = StoreLayout::Fncache { dotencode: true };

    #[test]
    fn plain_paths_are_unchanged() {
        assert_eq!(index_path(FNCACHE, "src/a.c"), "data/src/a.c.i");
        assert_eq!(
            String::from_utf8_lossy(&filelog_store_path(FNCACHE, b"src/a.c", RevlogFile::Data)),
            "data/src/a.c.d"
        );
    }

    #[test]
    fn case_and_reserved_characters() {
        assert_eq!(
            index_path(FNCACHE, "README_Upper.TXT"),
            "data/_r_e_a_d_m_e___upper._t_x_t.i"
        );
        assert_eq!(
            index_path(FNCACHE, "odd/we:ird*na?me\"<>|~x.txt"),
            "data/odd/we~3aird~2ana~3fme~22~3c~3e~7c~7ex.txt.i"
        );
        assert_eq!(
            index_path(FNCACHE, "odd/caf\u{e9}.txt"),
            "data/odd/caf~c3~a9.txt.i"
        );
    }

    #[test]
    fn windows_names_and_dots() {
        assert_eq!(index_path(FNCACHE, "odd/aux"), "data/odd/au~78.i");
        assert_eq!(index_path(FNCACHE, "odd/CON.txt"), "data/odd/_c_o_n.txt.i");
        assert_eq!(index_path(FNCACHE, "odd/con.txt"), "data/odd/co~6e.txt.i");
        assert_eq!(index_path(FNCACHE, "odd/lpt1.c"), "data/odd/lp~741.c.i");
        assert_eq!(index_path(FNCACHE, "odd/com9"), "data/odd/co~6d9.i");
        assert_eq!(index_path(FNCACHE, "odd/com0"), "data/odd/com0.i");
        assert_eq!(index_path(FNCACHE, "odd/.dotfile"), "data/odd/~2edotfile.i");
        assert_eq!(index_path(FNCACHE, "odd/ space"), "data/odd/~20space.i");
        assert_eq!(index_path(FNCACHE, "trail./file"), "data/trail~2e/file.i");
        assert_eq!(index_path(FNCACHE, "odd/trailing."), "data/odd/trailing..i");
        assert_eq!(
            index_path(StoreLayout::Fncache { dotencode: false }, ".hgtags"),
            "data/.hgtags.i"
        );
    }

    #[test]
    fn directories_named_like_revlogs() {
        assert_eq!(index_path(FNCACHE, "x.i/inner"), "data/x.i.hg/inner.i");
        assert_eq!(index_path(FNCACHE, "z.hg/inner"), "data/z.hg.hg/inner.i");
        assert_eq!(
            index_path(StoreLayout::Basic, "y.d/Inner"),
            "data/y.d.hg/Inner.i"
        );
        assert_eq!(
            index_path(StoreLayout::Encoded, "y.d/Inner"),
            "data/y.d.hg/_inner.i"
        );
    }

    #[test]
    fn long_paths_are_hashed() {
        let long = "Very_Long_Directory_Name.With.Dots/AND UPPER Case Segment/another-really-long-directory-component-name/deeper. /and_even_deeper_directory_level/Final_File_Name_That_Is_Long.Extension";
        assert_eq!(
            index_path(FNCACHE, long),
            "dh/very_lon/and uppe/another-/deeper.~/and_even/final_file_name_that_is_long.e653acb45d4e876e161a7e645b829aec977c5950e.i"
        );
        let component = "c".repeat(150);
        assert_eq!(
            index_path(FNCACHE, &format!("a/b/{component}/ShortName.TXT")),
            "dh/a/b/cccccccc/shortname.txt.i9573d0fb31a3a9c5ded4ada9b510108e84e57280.i"
        );
    }

    #[test]
    fn splitext_like_python() {
        assert_eq!(extension(b"a.txt.i"), b".i");
        assert_eq!(extension(b".i"), b"");
        assert_eq!(extension(b"..i"), b"");
        assert_eq!(extension(b"noext"), b"");
    }
}
