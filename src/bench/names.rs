//! The names file of `rootwalk bench --names FILE`: one name per line,
//! optionally followed by a record type; `#` starts a comment; blank lines
//! are skipped. Every problem names the file and the line.

use std::path::Path;
use std::str::FromStr;

use hickory_proto::rr::{Name, RecordType};

use super::BenchError;

/// One question of the names file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// The name, fully qualified.
    pub name: Name,
    /// The type asked (A when the line gives none).
    pub rtype: RecordType,
    /// 1-based line number in the file.
    pub line: usize,
}

/// Reads and parses the names file at `path`.
pub fn read(path: &Path) -> Result<Vec<NameEntry>, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::NamesIo {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses names-file text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Vec<NameEntry>, BenchError> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or_default();
        let mut fields = content.split_whitespace();
        let Some(name_text) = fields.next() else {
            continue;
        };
        let syntax = |problem: String| BenchError::NamesSyntax {
            path: source.to_string(),
            line,
            problem,
        };
        let mut name = Name::from_str(name_text)
            .map_err(|e| syntax(format!("invalid domain name `{name_text}`: {e}")))?;
        name.set_fqdn(true);
        let rtype = match fields.next() {
            None => RecordType::A,
            Some(text) => RecordType::from_str(&text.to_ascii_uppercase())
                .map_err(|_| syntax(format!("unknown record type `{text}`")))?,
        };
        if let Some(extra) = fields.next() {
            return Err(syntax(format!(
                "unexpected `{extra}` (expected: NAME [TYPE])"
            )));
        }
        entries.push(NameEntry { name, rtype, line });
    }
    if entries.is_empty() {
        return Err(BenchError::NoNames {
            path: source.to_string(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_types_comments_and_blank_lines() {
        let text = "# lab names\n\nwww.a.tld1\n  www.c.tld2.  aaaa  # glueless\nmx.a.tld1 MX\n";
        let entries = parse(text, "names.txt").unwrap();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.name.to_string(), e.rtype, e.line))
            .collect();
        assert_eq!(
            got,
            [
                ("www.a.tld1.".to_string(), RecordType::A, 3),
                ("www.c.tld2.".to_string(), RecordType::AAAA, 4),
                ("mx.a.tld1.".to_string(), RecordType::MX, 5),
            ]
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = |text: &str| parse(text, "n.txt").unwrap_err().to_string();
        assert_eq!(
            err("www.a.tld1\nwww.b.tld1 BOGUS\n"),
            "n.txt:2: unknown record type `BOGUS`"
        );
        assert_eq!(
            err("\nwww.a.tld1 A extra"),
            "n.txt:2: unexpected `extra` (expected: NAME [TYPE])"
        );
        assert!(err("a..b\n").starts_with("n.txt:1: invalid domain name `a..b`"));
        assert_eq!(err("# nothing\n\n"), "n.txt: no names to resolve");
    }
}
