//! API tokens: loaded from a file or the environment, generated on first start.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Who a token belongs to and which owners it may act for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub login: String,
    /// Lower-case owner names; `None` means every owner.
    pub owners: Option<Vec<String>>,
}

impl Principal {
    pub fn may_act_for(&self, owner: &str) -> bool {
        let owner = owner.to_lowercase();
        owner == self.login.to_lowercase()
            || self
                .owners
                .as_ref()
                .is_none_or(|list| list.contains(&owner))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected `TOKEN LOGIN [OWNER,OWNER|*]`")]
    Malformed { path: PathBuf, line: usize },
    #[error("cannot generate a token: {0}")]
    Random(String),
}

pub struct Tokens {
    entries: Vec<(String, Principal)>,
}

impl Tokens {
    pub fn single_admin(token: String) -> Tokens {
        Tokens {
            entries: vec![(token, admin())],
        }
    }

    /// Loads `path`; if it does not exist, creates it with one new admin token and returns
    /// that token so it can be shown once.
    pub fn load_or_create(path: &Path) -> Result<(Tokens, Option<String>), TokenError> {
        let io = |source| TokenError::Io {
            path: path.to_owned(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => Ok((Tokens::parse(path, &text)?, None)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let token = generate()?;
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io)?;
                }
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(io)?;
                writeln!(file, "# TOKEN LOGIN [OWNER,OWNER|*]\n{token} admin *").map_err(io)?;
                Ok((Tokens::single_admin(token.clone()), Some(token)))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Tokens, TokenError> {
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = || TokenError::Malformed {
                path: path.to_owned(),
                line: index + 1,
            };
            let mut fields = line.split_whitespace();
            let token = fields.next().ok_or_else(malformed)?;
            let login = fields.next().ok_or_else(malformed)?;
            let owners = match fields.next() {
                None => Some(Vec::new()),
                Some("*") => None,
                Some(list) => Some(list.split(',').map(str::to_lowercase).collect()),
            };
            if fields.next().is_some() {
                return Err(malformed());
            }
            entries.push((
                token.to_owned(),
                Principal {
                    login: login.to_owned(),
                    owners,
                },
            ));
        }
        Ok(Tokens { entries })
    }

    /// Whether some token belongs to `login` (a user); other owners are organizations.
    pub fn has_login(&self, login: &str) -> bool {
        self.entries
            .iter()
            .any(|(_, principal)| principal.login.eq_ignore_ascii_case(login))
    }

    /// The principal for `token`, compared in constant time per entry.
    pub fn authenticate(&self, token: &str) -> Option<&Principal> {
        self.entries
            .iter()
            .find(|(known, _)| constant_time_eq(known.as_bytes(), token.as_bytes()))
            .map(|(_, principal)| principal)
    }
}

fn admin() -> Principal {
    Principal {
        login: "admin".into(),
        owners: None,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn generate() -> Result<String, TokenError> {
    let mut bytes = [0u8; 20];
    getrandom::getrandom(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(format!("sit_{}", crate::git::objects::hex(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rights_and_rejects_garbage() {
        let tokens = Tokens::parse(Path::new("t"), "# c\nA alice\nB bob org1,Org2\nC root *\n")
            .expect("parses");
        let bob = tokens.authenticate("B").expect("bob");
        assert!(bob.may_act_for("bob") && bob.may_act_for("org2") && !bob.may_act_for("alice"));
        assert!(tokens
            .authenticate("C")
            .expect("root")
            .may_act_for("anyone"));
        assert!(!tokens.authenticate("A").expect("alice").may_act_for("bob"));
        assert!(tokens.authenticate("D").is_none());
        assert!(matches!(
            Tokens::parse(Path::new("t"), "lonely\n"),
            Err(TokenError::Malformed { line: 1, .. })
        ));
    }
}
