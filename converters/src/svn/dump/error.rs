//! The error type of the dump parser, the svndiff applier and the validator.

use std::io;

/// Everything that can go wrong while reading a dump, applying an svndiff
/// delta or validating a dump's contents.
///
/// Every variant carries `offset`, the byte position where the problem was
/// found: in the dump for parser and validator errors, in the delta data for
/// svndiff errors (see [`DumpError::shifted`] to turn it into a dump offset).
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The underlying reader or writer failed.
    #[error("byte {offset}: I/O error: {source}")]
    Io {
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// The data ended where more was required.
    #[error("byte {offset}: unexpected end of data: {message}")]
    Truncated { offset: u64, message: String },
    /// The data does not follow the dump (or svndiff) syntax.
    #[error("byte {offset}: malformed dump: {message}")]
    Malformed { offset: u64, message: String },
    /// A path, header or other text field is not valid UTF-8.
    #[error("byte {offset}: {field} is not valid UTF-8")]
    InvalidUtf8 { offset: u64, field: String },
    /// A length field asks for more than this parser is willing to hold in memory.
    #[error("byte {offset}: {field} of {requested} bytes exceeds the limit of {limit} bytes")]
    LimitExceeded {
        offset: u64,
        field: String,
        requested: u64,
        limit: u64,
    },
    /// The dump declares a format version this parser does not read.
    #[error("byte {offset}: unsupported dump format version {version} (supported: 2, 3)")]
    UnsupportedVersion { offset: u64, version: u64 },
    /// A text delta (svndiff) is invalid.
    #[error("byte {offset}: invalid svndiff delta: {message}")]
    Svndiff { offset: u64, message: String },
    /// The dump is well formed but its contents are inconsistent or invalid
    /// (found by [`crate::svn::dump::DumpValidator`]).
    #[error("byte {offset}: invalid dump contents: {message}")]
    Invalid { offset: u64, message: String },
}

impl DumpError {
    /// The byte offset where the problem was found.
    pub fn offset(&self) -> u64 {
        match self {
            DumpError::Io { offset, .. }
            | DumpError::Truncated { offset, .. }
            | DumpError::Malformed { offset, .. }
            | DumpError::InvalidUtf8 { offset, .. }
            | DumpError::LimitExceeded { offset, .. }
            | DumpError::UnsupportedVersion { offset, .. }
            | DumpError::Svndiff { offset, .. }
            | DumpError::Invalid { offset, .. } => *offset,
        }
    }

    /// The same error with `base` added to its offset, e.g. to turn an offset
    /// inside a node's text into an offset inside the dump.
    pub fn shifted(mut self, base: u64) -> Self {
        match &mut self {
            DumpError::Io { offset, .. }
            | DumpError::Truncated { offset, .. }
            | DumpError::Malformed { offset, .. }
            | DumpError::InvalidUtf8 { offset, .. }
            | DumpError::LimitExceeded { offset, .. }
            | DumpError::UnsupportedVersion { offset, .. }
            | DumpError::Svndiff { offset, .. }
            | DumpError::Invalid { offset, .. } => *offset = offset.saturating_add(base),
        }
        self
    }

    /// Converts an I/O error seen at `offset`; an I/O error that already wraps
    /// a `DumpError` (as returned by [`crate::svn::dump::TextReader`]) is unwrapped.
    pub(crate) fn from_io(offset: u64, source: io::Error) -> Self {
        let wraps_dump_error = source
            .get_ref()
            .is_some_and(|inner| inner.is::<DumpError>());
        if !wraps_dump_error {
            return DumpError::Io { offset, source };
        }
        match source
            .into_inner()
            .map(|inner| inner.downcast::<DumpError>())
        {
            Some(Ok(dump_error)) => *dump_error,
            _ => DumpError::Io {
                offset,
                source: io::Error::other("wrapped dump error could not be recovered"),
            },
        }
    }

    /// Wraps this error in an `io::Error` so it can travel through `Read`.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            DumpError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            DumpError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }

    pub(crate) fn malformed(offset: u64, message: impl Into<String>) -> Self {
        DumpError::Malformed {
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn truncated(offset: u64, message: impl Into<String>) -> Self {
        DumpError::Truncated {
            offset,
            message: message.into(),
        }
    }
}
