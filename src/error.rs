//! The one error type of the core.
//!
//! Every failure that a user can cause (a bad programme file, a bad row in a
//! transaction table, a demand model out of range, a request too large to
//! fit in memory) is reported as an [`Error`] whose message names *where* the
//! problem is (field path and file line, or table row and column) and *what
//! was expected*. The Python binding maps each variant to one exception class
//! (see `src/python/`), so the mapping is exhaustive by construction.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem located at a field of a structured document (programme or
/// demand model), e.g. `components[2].tiers[1].from`, optionally with the
/// line and column in the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// File the document was read from, if any.
    pub file: Option<String>,
    /// Dotted field path, e.g. `components[0].tiers[2].percent`. Empty for the document root.
    pub path: String,
    /// 1-based line in the file, where the format and the parser can tell.
    pub line: Option<usize>,
    /// 1-based column in the file, where known.
    pub column: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
    /// Further errors found by the same check, in document order (every component of a
    /// programme is checked, so that one pass reports a mistake in each of them): see
    /// [`FieldError::further`]. Boxed, so that the error stays small (every `Result` of the
    /// crate carries one).
    #[allow(clippy::box_collection)]
    pub(crate) further: Option<Box<Vec<FieldError>>>,
}

impl FieldError {
    /// A field error without file position.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            file: None,
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            further: None,
        }
    }

    /// The error without line and column (for a document generated from a value tree, whose
    /// positions mean nothing to the caller), the further ones' too.
    pub fn without_position(mut self) -> Self {
        self.line = None;
        self.column = None;
        if let Some(more) = &mut self.further {
            for e in more.iter_mut() {
                e.line = None;
                e.column = None;
            }
        }
        self
    }

    /// The further errors found by the same check, in document order (shown after this one,
    /// a line each).
    pub fn further(&self) -> &[FieldError] {
        self.further.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The further errors, to edit them (e.g. to add their file positions).
    pub fn further_mut(&mut self) -> &mut [FieldError] {
        self.further
            .as_deref_mut()
            .map_or(&mut [], Vec::as_mut_slice)
    }

    /// This error with `more` as its further errors.
    pub fn with_further(mut self, more: Vec<FieldError>) -> Self {
        self.further = (!more.is_empty()).then(|| Box::new(more));
        self
    }

    /// This error, then the further ones.
    pub fn all(&self) -> impl Iterator<Item = &FieldError> {
        std::iter::once(self).chain(self.further())
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            wrote = true;
        }
        if let Some(line) = self.line {
            write!(f, "{}line {line}", if wrote { ", " } else { "" })?;
            if let Some(col) = self.column {
                write!(f, ", column {col}")?;
            }
            wrote = true;
        }
        if !self.path.is_empty() {
            write!(f, "{}{}", if wrote { ": " } else { "" }, self.path)?;
            wrote = true;
        }
        if wrote {
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        for e in self.further() {
            write!(f, "\n  also {e}")?;
        }
        Ok(())
    }
}

/// A problem located in a table (partner table, transactions, actuals):
/// which table, which data row (1-based, header excluded) and which column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// Name of the table or file, e.g. `transactions.csv` or `transactions`.
    pub table: String,
    /// 1-based data row (the header is row 0), where the problem is in a row.
    pub row: Option<usize>,
    /// Column name, where the problem is in a column.
    pub column: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.table)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column '{col}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error the core can return.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The programme definition is invalid (syntax, type or rule).
    #[error("invalid programme: {0}")]
    Programme(FieldError),
    /// The demand model (or population parameters) is invalid.
    #[error("invalid demand model: {0}")]
    Model(FieldError),
    /// A table (partners, transactions, actuals) has a bad row, column or value.
    #[error("invalid data: {0}")]
    Data(DataError),
    /// A design search's space is invalid: the field of the space file (its line and column
    /// where known) and what was expected.
    #[error("invalid search space: {0}")]
    Space(FieldError),
    /// A request that cannot be honoured as asked (e.g. its outputs would not fit in memory,
    /// zero scenarios, an unknown option).
    #[error("invalid request: {0}")]
    Request(String),
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file or folder concerned.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The caller asked to stop (Ctrl-C / KeyboardInterrupt) before the work finished.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// A programme error at `path` with `message` and no file position.
    pub fn programme(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Programme(FieldError::new(path, message))
    }

    /// A demand-model error at `path` with `message` and no file position.
    pub fn model(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model(FieldError::new(path, message))
    }

    /// A data error in `table` at an optional row and column.
    pub fn data(
        table: impl Into<String>,
        row: Option<usize>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Data(DataError {
            table: table.into(),
            row,
            column: column.map(str::to_owned),
            message: message.into(),
        })
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            message: err.to_string(),
        }
    }
}
