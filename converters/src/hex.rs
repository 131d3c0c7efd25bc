//! Hexadecimal text of 20-byte SHA-1 ids (Git object ids, Mercurial nodes).

/// Lowercase hexadecimal of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Parses exactly 40 hexadecimal digits (either case).
pub fn decode_id(text: &[u8]) -> Option<[u8; 20]> {
    if text.len() != 40 {
        return None;
    }
    let mut bytes = [0u8; 20];
    for (out, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *out = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(bytes)
}

fn digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let text = "0123456789abcdef0123456789ABCDEF01234567";
        let id = decode_id(text.as_bytes()).expect("valid hex");
        assert_eq!(encode(&id), text.to_lowercase());
        assert!(decode_id(b"12").is_none());
        assert!(decode_id(&[b'g'; 40]).is_none());
        assert!(decode_id("é123456789abcdef0123456789abcdef0123456".as_bytes()).is_none());
    }
}
