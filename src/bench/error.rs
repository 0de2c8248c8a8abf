//! Why `rootwalk bench` could not run: a bad names file, a plot that could
//! not be drawn or written, or no mode chosen.

/// A bench that could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Neither `--lab` nor `--names` was given.
    #[error("nothing to measure: give --lab (the lab's glue cases) or --names FILE")]
    NoMode,
    /// The names file could not be read.
    #[error("cannot read names file {path}: {source}")]
    NamesIo {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A line of the names file is not `NAME [TYPE]`.
    #[error("{path}:{line}: {problem}")]
    NamesSyntax {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The names file holds no name.
    #[error("{path}: no names to resolve")]
    NoNames {
        /// The file.
        path: String,
    },
    /// The plot could not be drawn.
    #[error("cannot draw the plot {path}: {problem}")]
    Plot {
        /// The SVG file asked for.
        path: String,
        /// What plotters said.
        problem: String,
    },
    /// The plot could not be written.
    #[error("cannot write the plot {path}: {source}")]
    PlotIo {
        /// The SVG file asked for.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}
