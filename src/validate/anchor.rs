//! Trust anchors: the DS or DNSKEY records a validator trusts without
//! proof (RFC 4033 §2, RFC 4035 §4.4). Built in: the IANA root KSKs,
//! KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696), as the DS
//! records IANA publishes at <https://data.iana.org/root-anchors/>. From a
//! file: DS and DNSKEY lines in zone-file format, the format of Unbound's
//! `trust-anchor-file` (comments with `;`, records across lines in
//! parentheses, TTL and class optional).
//!
//! Limits: no RFC 5011 rollover (the built-in anchors change with a new
//! build), no XML (`root-anchors.xml`), no BIND `trust-anchors { }`
//! clauses; at most [`MAX_ANCHORS`] records and [`MAX_ANCHOR_FILE_BYTES`]
//! bytes per file.

use std::path::Path;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::dnssec::{Algorithm, DigestType, PublicKeyBuf};
use hickory_proto::rr::{Name, RData, Record};

use super::{as_dnskey, as_ds};

/// Records one anchor file may hold.
pub const MAX_ANCHORS: usize = 256;

/// Largest anchor file read (a DNSKEY line is under 1 KB).
pub const MAX_ANCHOR_FILE_BYTES: u64 = 1 << 20;

/// The root's DS records as IANA publishes them (root-anchors.xml):
/// (key tag, algorithm, digest type, SHA-256 digest in hex).
pub const IANA_ROOT_DS: [(u16, u8, u8, &str); 2] = [
    // KSK-2017, valid from 2017-02-02.
    (
        20326,
        8,
        2,
        "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ),
    // KSK-2024, valid from 2024-07-18.
    (
        38696,
        8,
        2,
        "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
    ),
];

/// One trusted record: a DS or a DNSKEY at a zone's apex name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorRecord {
    /// A DS: trust the DNSKEY it matches.
    Ds(DS),
    /// A DNSKEY: trust it as it is.
    Dnskey(DNSKEY),
}

/// One trust anchor: a zone and a trusted record for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The zone (lowercase).
    pub zone: Name,
    /// The trusted record.
    pub record: AnchorRecord,
}

/// A set of trust anchors, possibly for several zones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

/// Reading a trust anchor file failed.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a DS or DNSKEY record we can use.
    #[error("{file}:{line}: {problem}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line where the record starts.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The file holds no DS or DNSKEY record.
    #[error("{file}: no DS or DNSKEY record (a trust anchor file needs at least one)")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file is larger than [`MAX_ANCHOR_FILE_BYTES`] or holds more
    /// than [`MAX_ANCHORS`] records.
    #[error("{file}: too large for a trust anchor file")]
    TooLarge {
        /// The file.
        file: String,
    },
}

impl TrustAnchors {
    /// The IANA root anchors, KSK-2017 and KSK-2024, as DS records.
    pub fn iana_root() -> TrustAnchors {
        let anchors = IANA_ROOT_DS
            .iter()
            .filter_map(|(tag, algorithm, digest_type, hex)| {
                let digest = decode_hex(hex)?;
                Some(Anchor {
                    zone: Name::root(),
                    record: AnchorRecord::Ds(DS::new(
                        *tag,
                        Algorithm::from_u8(*algorithm),
                        DigestType::from(*digest_type),
                        digest,
                    )),
                })
            })
            .collect();
        TrustAnchors { anchors }
    }

    /// Anchors from records (DS and DNSKEY; other types are skipped).
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> TrustAnchors {
        let anchors = records
            .into_iter()
            .filter_map(|r| {
                let record = match (as_ds(r), as_dnskey(r)) {
                    (Some(ds), _) => AnchorRecord::Ds(ds.clone()),
                    (_, Some(key)) => AnchorRecord::Dnskey(key.clone()),
                    _ => return None,
                };
                Some(Anchor {
                    zone: r.name.to_lowercase(),
                    record,
                })
            })
            .collect();
        TrustAnchors { anchors }
    }

    /// Reads an anchor file (see the module docs for the format).
    pub fn from_file(path: &Path) -> Result<TrustAnchors, AnchorError> {
        let file = path.display().to_string();
        let io = |source| AnchorError::Io {
            path: file.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_ANCHOR_FILE_BYTES {
            return Err(AnchorError::TooLarge { file });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        TrustAnchors::parse(&text, &file)
    }

    /// Parses anchor file text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<TrustAnchors, AnchorError> {
        let mut anchors = Vec::new();
        for (line, entry) in entries(text) {
            let bad = |problem: String| AnchorError::Parse {
                file: file.to_string(),
                line,
                problem,
            };
            let parsed = parse_entry(&entry).map_err(bad)?;
            anchors.push(parsed);
            if anchors.len() > MAX_ANCHORS {
                return Err(AnchorError::TooLarge {
                    file: file.to_string(),
                });
            }
        }
        if anchors.is_empty() {
            return Err(AnchorError::Empty {
                file: file.to_string(),
            });
        }
        Ok(TrustAnchors { anchors })
    }

    /// Every anchor, in file order.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// Whether there is no anchor.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The closest anchored zone at or above `name`, if any: where
    /// validation of `name` starts (RFC 4035 §5).
    pub fn closest(&self, name: &Name) -> Option<&Name> {
        self.anchors
            .iter()
            .map(|a| &a.zone)
            .filter(|zone| zone.zone_of(name))
            .max_by_key(|zone| zone.num_labels())
    }

    /// The DS anchors of `zone`.
    pub fn ds_for(&self, zone: &Name) -> Vec<DS> {
        self.anchors
            .iter()
            .filter(|a| a.zone == *zone)
            .filter_map(|a| match &a.record {
                AnchorRecord::Ds(ds) => Some(ds.clone()),
                AnchorRecord::Dnskey(_) => None,
            })
            .collect()
    }

    /// The DNSKEY anchors of `zone`.
    pub fn dnskeys_for(&self, zone: &Name) -> Vec<DNSKEY> {
        self.anchors
            .iter()
            .filter(|a| a.zone == *zone)
            .filter_map(|a| match &a.record {
                AnchorRecord::Dnskey(key) => Some(key.clone()),
                AnchorRecord::Ds(_) => None,
            })
            .collect()
    }

    /// The anchors as records (TTL 3600), e.g. to write with
    /// [`TrustAnchors::to_text`].
    pub fn to_records(&self) -> Vec<Record> {
        self.anchors
            .iter()
            .map(|a| {
                let data = match &a.record {
                    AnchorRecord::Ds(ds) => RData::DNSSEC(DNSSECRData::DS(ds.clone())),
                    AnchorRecord::Dnskey(key) => RData::from(key.clone()),
                };
                Record::from_rdata(a.zone.clone(), 3600, data)
            })
            .collect()
    }

    /// The anchors as an anchor file: one record per line, readable by
    /// [`TrustAnchors::parse`] and by Unbound's `trust-anchor-file`.
    pub fn to_text(&self) -> String {
        self.to_records().iter().map(|r| format!("{r}\n")).collect()
    }
}

/// Splits anchor text into records: (1-based first line, text), comments
/// removed, parenthesised continuations joined.
fn entries(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut depth: i32 = 0;
    for (index, raw) in text.lines().enumerate() {
        let data = raw.split(';').next().unwrap_or_default();
        if data.trim().is_empty() && depth == 0 {
            continue;
        }
        if current.is_empty() {
            start = index + 1;
        }
        for c in data.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
        }
        current.push(' ');
        current.push_str(data.replace(['(', ')'], " ").trim());
        if depth <= 0 {
            out.push((start, std::mem::take(&mut current)));
            depth = 0;
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current));
    }
    out
}

/// One record: `owner [TTL] [IN] DS|DNSKEY rdata` (TTL and class in
/// either order). Read here rather than with hickory's zone parser, which
/// refuses DNSKEY records in zone text.
fn parse_entry(entry: &str) -> Result<Anchor, String> {
    let mut tokens = entry.split_whitespace();
    let owner = tokens.next().unwrap_or_default();
    if owner.starts_with('$') {
        return Err(format!("directive `{owner}` is not supported here"));
    }
    if !owner.ends_with('.') {
        return Err(format!("owner `{owner}` must be absolute (end with `.`)"));
    }
    let zone = Name::from_ascii(owner)
        .map_err(|e| format!("bad owner `{owner}`: {e}"))?
        .to_lowercase();
    let mut rtype = "";
    for token in tokens.by_ref() {
        if token.eq_ignore_ascii_case("IN") || token.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        rtype = token;
        break;
    }
    if !rtype.eq_ignore_ascii_case("DS") && !rtype.eq_ignore_ascii_case("DNSKEY") {
        return Err(format!(
            "a trust anchor is a DS or DNSKEY record, not `{rtype}`"
        ));
    }
    let fields: Vec<&str> = tokens.collect();
    let number = |index: usize, what: &str| -> Result<u16, String> {
        let text = fields.get(index).copied().unwrap_or_default();
        text.parse::<u16>()
            .map_err(|_| format!("{what} `{text}` is not a number"))
    };
    let octet = |index: usize, what: &str| -> Result<u8, String> {
        u8::try_from(number(index, what)?).map_err(|_| format!("{what} is above 255"))
    };
    let rest = fields.get(3..).map(|r| r.concat()).unwrap_or_default();
    if rest.is_empty() {
        return Err(format!("{rtype} record lacks fields"));
    }
    let record = if rtype.eq_ignore_ascii_case("DS") {
        let digest = decode_hex(&rest).ok_or_else(|| format!("digest `{rest}` is not hex"))?;
        AnchorRecord::Ds(DS::new(
            number(0, "key tag")?,
            Algorithm::from_u8(octet(1, "algorithm")?),
            DigestType::from(octet(2, "digest type")?),
            digest,
        ))
    } else {
        let flags = number(0, "flags")?;
        if octet(1, "protocol")? != 3 {
            return Err("DNSKEY protocol must be 3 (RFC 4034 §2.1.2)".to_string());
        }
        let algorithm = Algorithm::from_u8(octet(2, "algorithm")?);
        let key = data_encoding::BASE64
            .decode(rest.as_bytes())
            .map_err(|e| format!("public key is not base64: {e}"))?;
        AnchorRecord::Dnskey(DNSKEY::with_flags(flags, PublicKeyBuf::new(key, algorithm)))
    };
    Ok(Anchor { zone, record })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::dnssec::{PublicKey, TrustAnchors as HickoryAnchors};

    use super::*;

    #[test]
    fn iana_ds_match_the_root_keys_hickory_ships() {
        // hickory carries the two root KSKs' public keys; the DS digests we
        // built in must be their SHA-256 digests (RFC 4034 §5.1.4), and the
        // key tags 20326 and 38696 (RFC 4034 Appendix B).
        let ours = TrustAnchors::iana_root();
        assert_eq!(ours.anchors().len(), 2);
        let theirs = HickoryAnchors::default();
        for (index, (tag, _, _, _)) in IANA_ROOT_DS.iter().enumerate() {
            let public = theirs.get(index).unwrap();
            let key = DNSKEY::with_flags(257, public.clone());
            assert_eq!(public.algorithm(), Algorithm::RSASHA256);
            assert_eq!(key.calculate_key_tag().unwrap(), *tag);
            let AnchorRecord::Ds(ds) = &ours.anchors()[index].record else {
                panic!("DS expected");
            };
            assert_eq!(ds.key_tag(), *tag);
            assert!(ds.covers(&Name::root(), &key).unwrap(), "DS {tag}");
        }
    }

    #[test]
    fn file_with_ds_and_multiline_dnskey_parses() {
        let text = "; root anchors\n\
            . IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n\
            \n\
            example. 3600 IN DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d\n\
                xCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== ) ; KSK\n";
        let anchors = TrustAnchors::parse(text, "anchors.txt").unwrap();
        assert_eq!(anchors.anchors().len(), 2);
        assert_eq!(anchors.ds_for(&Name::root()).len(), 1);
        let example = Name::from_str("example.").unwrap();
        let keys = anchors.dnskeys_for(&example);
        assert_eq!(keys.len(), 1);
        assert_eq!(
            hickory_proto::dnssec::Verifier::algorithm(&keys[0]),
            Algorithm::ECDSAP256SHA256
        );
        let below = Name::from_str("www.example.").unwrap();
        assert_eq!(anchors.closest(&below), Some(&example));
        // What we write, we read back.
        let again = TrustAnchors::parse(&anchors.to_text(), "again").unwrap();
        assert_eq!(again, anchors);
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "; comment\n. IN DS 20326 8 2 E06D44B8\nexample. IN A 192.0.2.1\n";
        let err = TrustAnchors::parse(text, "ta.txt").unwrap_err().to_string();
        assert!(err.starts_with("ta.txt:3:"), "{err}");
        assert!(err.contains("not `A`"), "{err}");
        let err = TrustAnchors::parse("\n\n. IN DS 1 8 2 zz\n", "ta.txt")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ta.txt:3:"), "{err}");
        let err = TrustAnchors::parse("example IN DS 1 8 2 00\n", "ta.txt")
            .unwrap_err()
            .to_string();
        assert!(err.contains("absolute"), "{err}");
        let err = TrustAnchors::parse("; nothing\n", "ta.txt").unwrap_err();
        assert!(matches!(err, AnchorError::Empty { .. }));
    }
}
