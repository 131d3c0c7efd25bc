//! Caps on what the parser holds in memory, so length fields cannot force huge allocations.

/// Memory caps applied while parsing. Texts are never held in memory and are
/// not limited; everything else that is buffered is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest header line, in bytes (a `Node-path` is one such line).
    pub max_header_line: usize,
    /// Most header lines in one record.
    pub max_headers_per_record: usize,
    /// Largest property block (`Prop-content-length`), in bytes.
    pub max_property_block: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_line: 64 * 1024,
            max_headers_per_record: 256,
            max_property_block: 64 * 1024 * 1024,
        }
    }
}
