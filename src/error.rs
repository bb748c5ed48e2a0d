use std::fmt;

/// What went wrong, broadly: lets callers pick an exit code or a message style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input had no header row at all (zero bytes, or only blank lines).
    EmptyInput,
    /// The input cannot be read as an Analytics export.
    Input,
    /// The query asks for something this export cannot answer, or is malformed.
    Query,
    /// The export will not fit in the memory a report may take here (see
    /// [`Ingester::set_memory_budget`](crate::Ingester::set_memory_budget)): reading stopped
    /// early; the message says how far it got, what the whole would need and the ways out.
    TooLarge,
    /// An allocation failed: the memory available here ran out before the budget did.
    OutOfMemory,
    /// The input is a people file (a user key column and attributes, no usage column), opened
    /// where an export was expected: it is to be joined to an export, not read as one.
    PeopleFile,
}

/// The one error type of the core. Its message says what and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn query(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Query, message)
    }

    /// The broad kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
