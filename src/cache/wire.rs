//! Cache keys in wire form: owner names lowercased, as length-prefixed
//! labels, built on the stack for lookups and boxed once for storage.
//!
//! A hickory `Name` is about 80 bytes inline (more on the heap for long
//! names), and a `LowerName` copy per key adds another; a key as wire bytes
//! costs its length and compares with one `memcmp`.

use hickory_proto::rr::Name;

/// Longest name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE: usize = 255;

/// Room in a [`KeyBuf`]: a name and up to 17 bytes after it (a type and
/// class, or an IPv6 address and its family).
pub const KEY_CAPACITY: usize = MAX_NAME_WIRE + 17;

/// A key being built on the stack.
pub(crate) struct KeyBuf {
    bytes: [u8; KEY_CAPACITY],
    len: usize,
}

impl Default for KeyBuf {
    fn default() -> Self {
        Self {
            bytes: [0; KEY_CAPACITY],
            len: 0,
        }
    }
}

impl KeyBuf {
    /// Appends `name` lowercased in wire form (root label included, as if
    /// fully qualified). `None` when it would not fit (never for a valid
    /// name).
    pub(crate) fn push_name(&mut self, name: &Name) -> Option<()> {
        for label in name.iter() {
            let length = u8::try_from(label.len()).ok()?;
            self.push(&[length])?;
            let start = self.len;
            self.push(label)?;
            self.bytes[start..self.len].make_ascii_lowercase();
        }
        self.push(&[0])
    }

    /// Appends `bytes`; `None` when they do not fit.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.bytes.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }

    /// The key so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The key, boxed for storage.
    pub(crate) fn to_boxed(&self) -> Box<[u8]> {
        self.as_slice().into()
    }
}

/// Which owner names a flush covers (see [`super::NameScope`]), in the
/// wire form keys start with.
pub(crate) enum WireScope {
    /// Exactly this owner.
    Name(KeyBuf),
    /// This owner and every name below it.
    Zone(KeyBuf),
    /// Every owner.
    All,
}

impl WireScope {
    /// Whether the key `key` (an owner in wire form, then whatever
    /// follows it) has an owner in the scope.
    pub(crate) fn covers(&self, key: &[u8]) -> bool {
        let Some(owner) = owner_of(key) else {
            return false;
        };
        match self {
            Self::All => true,
            Self::Name(name) => owner == name.as_slice(),
            Self::Zone(zone) => {
                let zone = zone.as_slice();
                let mut at = 0;
                // Every label boundary of the owner, the owner itself first.
                loop {
                    if owner.get(at..) == Some(zone) {
                        return true;
                    }
                    match owner.get(at) {
                        Some(&0) | None => return false,
                        Some(&length) => at += 1 + usize::from(length),
                    }
                }
            }
        }
    }
}

/// The owner name at the start of `key`, through its root label; `None`
/// when the bytes do not end a name.
pub(crate) fn owner_of(key: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    loop {
        let length = usize::from(*key.get(at)?);
        at += 1 + length;
        if length == 0 {
            return key.get(..at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased_wire_form() {
        let mut key = KeyBuf::default();
        key.push_name(&Name::from_ascii("WwW.Ex.").unwrap())
            .unwrap();
        key.push(&[0, 1]).unwrap();
        assert_eq!(key.as_slice(), b"\x03www\x02ex\x00\x00\x01");
        let mut root = KeyBuf::default();
        root.push_name(&Name::root()).unwrap();
        assert_eq!(root.as_slice(), b"\x00");
    }

    fn wire(name: &str) -> KeyBuf {
        let mut key = KeyBuf::default();
        key.push_name(&Name::from_ascii(name).unwrap()).unwrap();
        key
    }

    #[test]
    fn scopes_cover_the_name_the_zone_below_or_all() {
        let key = |name: &str| {
            let mut key = wire(name);
            key.push(&[0, 1, 0, 1]).unwrap();
            key
        };
        let www = key("www.Example.");
        let apex = key("example.");
        let other = key("wwwexample.");
        let name = WireScope::Name(wire("WWW.example."));
        assert!(name.covers(www.as_slice()));
        assert!(!name.covers(apex.as_slice()));
        let zone = WireScope::Zone(wire("example."));
        assert!(zone.covers(www.as_slice()));
        assert!(zone.covers(apex.as_slice()));
        assert!(!zone.covers(other.as_slice()), "label boundaries only");
        assert!(WireScope::Zone(wire(".")).covers(other.as_slice()));
        assert!(WireScope::All.covers(other.as_slice()));
        assert!(!WireScope::All.covers(b"\x05ab"), "not a name");
        assert_eq!(owner_of(apex.as_slice()), Some(&b"\x07example\x00"[..]));
    }

    #[test]
    fn the_longest_name_fits_with_its_suffix() {
        let label = "a".repeat(63);
        let long = format!("{label}.{label}.{label}.{}.", "b".repeat(61));
        let name = Name::from_ascii(&long).unwrap();
        let mut key = KeyBuf::default();
        key.push_name(&name).unwrap();
        assert_eq!(key.as_slice().len(), MAX_NAME_WIRE);
        key.push(&[0; 17]).unwrap();
        assert!(key.push(&[0]).is_none());
    }
}
