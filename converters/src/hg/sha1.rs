//! SHA-1 for node ids, through the `sha1` crate.

use sha1::Digest;

/// Incremental SHA-1 hasher.
pub(crate) struct Sha1(sha1::Sha1);

impl Sha1 {
    pub(crate) fn new() -> Self {
        Sha1(sha1::Sha1::new())
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub(crate) fn finish(self) -> [u8; 20] {
        self.0.finalize().into()
    }
}

/// SHA-1 of `data` in one call.
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    sha1::Sha1::digest(data).into()
}
