//! DNAME records (RFC 6672), which hickory 0.26 can neither parse from zone
//! files nor represent as typed RDATA: the lab reads DNAME lines itself and
//! carries the records as unknown-type RDATA (type 39, the uncompressed
//! target name), which encodes as the real thing on the wire.

use std::str::FromStr;

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

/// The RDATA of a DNAME record pointing at `target`: the uncompressed wire
/// form of the name (RFC 6672 §2.1), carried as hickory's unknown-type
/// data since hickory 0.26 has no DNAME RDATA.
pub fn rdata(target: &Name) -> Result<RData, String> {
    let wire = target
        .to_bytes()
        .map_err(|e| format!("DNAME target {target}: {e}"))?;
    Ok(RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(wire),
    })
}

/// The target of a DNAME record built by [`rdata`] or decoded off the
/// wire; `None` for any other record.
pub fn target(record: &Record) -> Option<Name> {
    match &record.data {
        RData::Unknown { code, rdata } if *code == RecordType::DNAME => {
            Name::from_bytes(&rdata.anything).ok()
        }
        _ => None,
    }
}

/// Most DNAME lines a zone file may hold.
const MAX_DNAMES_PER_ZONE: usize = 1_000;

/// Takes the DNAME lines out of zone file `text` (each replaced by an empty line, so
/// line numbers stay right) and parses them; the error is (1-based line,
/// problem).
pub fn split_lines(text: &str, origin: &Name) -> Result<(String, Vec<Record>), (usize, String)> {
    let mut kept = String::with_capacity(text.len());
    let mut dnames = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let data = line.split(';').next().unwrap_or_default();
        let tokens: Vec<&str> = data.split_whitespace().collect();
        let is_dname = tokens
            .iter()
            .take(4)
            .any(|t| t.eq_ignore_ascii_case("DNAME"));
        if !is_dname {
            kept.push_str(line);
            kept.push('\n');
            continue;
        }
        let line_number = index + 1;
        if dnames.len() >= MAX_DNAMES_PER_ZONE {
            return Err((
                line_number,
                format!("more than {MAX_DNAMES_PER_ZONE} DNAMEs"),
            ));
        }
        let record = parse_dname(&tokens, origin).map_err(|problem| (line_number, problem))?;
        dnames.push(record);
        kept.push('\n');
    }
    Ok((kept, dnames))
}

/// One DNAME line: `owner TTL IN DNAME target`.
fn parse_dname(tokens: &[&str], origin: &Name) -> Result<Record, String> {
    let [owner, ttl, class, rtype, target] = tokens else {
        return Err("DNAME lines must read `owner TTL IN DNAME target`".to_string());
    };
    if !class.eq_ignore_ascii_case("IN") || !rtype.eq_ignore_ascii_case("DNAME") {
        return Err("DNAME lines must read `owner TTL IN DNAME target`".to_string());
    }
    let ttl: u32 = ttl
        .parse()
        .map_err(|_| format!("DNAME TTL `{ttl}` is not a number of seconds"))?;
    let owner = zone_name(owner, origin)?;
    let target = zone_name(target, origin)?;
    Ok(Record::from_rdata(owner, ttl, rdata(&target)?))
}

/// A name in a zone file: `@`, absolute, or relative to `origin`.
fn zone_name(text: &str, origin: &Name) -> Result<Name, String> {
    if text == "@" {
        return Ok(origin.clone());
    }
    let name = Name::from_str(text).map_err(|e| format!("`{text}`: {e}"))?;
    if text.ends_with('.') {
        Ok(name)
    } else {
        name.append_domain(origin)
            .map_err(|e| format!("`{text}`: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn rdata_round_trips_through_the_wire() {
        let record = Record::from_rdata(name("old.t."), 60, rdata(&name("new.example.")).unwrap());
        assert_eq!(record.record_type(), RecordType::DNAME);
        assert_eq!(target(&record), Some(name("new.example.")));
        let mut message = hickory_proto::op::Message::query();
        message.add_answer(record);
        let decoded = hickory_proto::op::Message::from_vec(&message.to_vec().unwrap()).unwrap();
        assert_eq!(target(&decoded.answers[0]), Some(name("new.example.")));
    }

    #[test]
    fn lines_are_split_out_and_names_made_absolute() {
        let text = "$TTL 60\n@ 10 IN DNAME x.\nold 300 IN DNAME new\nwww IN TXT \"DNAME\"\n";
        let (kept, dnames) = split_lines(text, &name("t.")).unwrap();
        assert_eq!(kept, "$TTL 60\n\n\nwww IN TXT \"DNAME\"\n");
        assert_eq!(dnames[0].name, name("t."));
        assert_eq!(target(&dnames[1]), Some(name("new.t.")));
        assert_eq!(dnames[1].ttl, 300);
        let err = split_lines("a\nold IN DNAME new.\n", &name("t.")).unwrap_err();
        assert_eq!(err.0, 2);
    }
}
