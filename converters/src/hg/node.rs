//! Node ids: the 20-byte SHA-1 that names every revision.

use std::fmt;

/// A 20-byte Mercurial node id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node(pub [u8; 20]);

impl Node {
    /// The null node (all zero), parent of root revisions.
    pub const NULL: Node = Node([0; 20]);

    /// Parses 40 hexadecimal digits (either case).
    pub fn from_hex(hex: &[u8]) -> Option<Node> {
        crate::hex::decode_id(hex).map(Node)
    }

    /// Lowercase hexadecimal form, as Mercurial prints it.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    pub fn is_null(&self) -> bool {
        *self == Node::NULL
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.0))
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let text = "0123456789abcdef0123456789ABCDEF01234567";
        let node = Node::from_hex(text.as_bytes()).expect("valid hex");
        assert_eq!(node.to_hex(), text.to_lowercase());
        assert!(Node::from_hex(b"12").is_none());
        assert!(Node::from_hex(&[b'g'; 40]).is_none());
        assert!(Node::NULL.is_null());
    }
}
