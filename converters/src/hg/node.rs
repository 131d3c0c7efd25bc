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
        if hex.len() != 40 {
            return None;
        }
        let mut bytes = [0u8; 20];
        for (out, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            *out = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Node(bytes))
    }

    /// Lowercase hexadecimal form, as Mercurial prints it.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    pub fn is_null(&self) -> bool {
        *self == Node::NULL
    }
}

fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
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
