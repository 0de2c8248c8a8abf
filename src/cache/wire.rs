//! Cache keys in wire form: owner names lowercased, as length-prefixed
//! labels, built on the stack for lookups and boxed once for storage.
//!
//! A hickory `Name` is about 80 bytes inline (more on the heap for long
//! names), and a `LowerName` copy per key adds another; a key as wire bytes
//! costs its length and compares with one `memcmp`.
//!
//! An ancestor's wire form is a suffix of its descendant's, so a lookup
//! that walks up the tree ([`Ancestors`]) builds one key for the name and
//! looks each ancestor up by a slice of it: no hickory `Name` is built for
//! an ancestor that is not cached (`Name::trim_to` allocates twice).

use hickory_proto::rr::Name;

/// Longest name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE: usize = 255;

/// Room in a [`KeyBuf`]: a name and up to 17 bytes after it (a type and
/// class, or an IPv6 address and its family).
pub const KEY_CAPACITY: usize = MAX_NAME_WIRE + 17;

/// Most labels a name can have: 127 one-byte labels and the root fill
/// [`MAX_NAME_WIRE`].
pub const MAX_LABELS: usize = MAX_NAME_WIRE / 2;

/// A key being built on the stack.
///
/// Zero-filled once when made (a few hundred bytes, one `memset`); the
/// ancestor walks build one per name and reuse it for every ancestor and
/// type.
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

    /// Cuts the key back to its first `len` bytes (no-op when shorter).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The bytes from `start` to the end: the key of an ancestor, when
    /// the key is a name then a tail and `start` is one of the name's
    /// label boundaries.
    pub(crate) fn suffix(&self, start: usize) -> &[u8] {
        self.as_slice().get(start..).unwrap_or(&[])
    }
}

/// A name's key and where each of its ancestors starts in it, for lookups
/// that walk up the tree: the key of the ancestor with `k` labels is the
/// bytes from [`Ancestors::start`]`(k)` on, whatever tail (type, class)
/// follows the name.
pub(crate) struct Ancestors {
    key: KeyBuf,
    /// Where the name's wire form ends (after its root label).
    name_len: usize,
    /// `starts[i]`: where the name's `i`th label starts (0 for the first);
    /// `starts[labels]` is the root label.
    starts: [u8; MAX_LABELS + 1],
    /// Labels of the name, the root not counted (a wildcard counted).
    labels: usize,
}

impl Ancestors {
    /// `name`'s key; `None` when it is too long to be a DNS name.
    pub(crate) fn new(name: &Name) -> Option<Self> {
        let mut key = KeyBuf::default();
        key.push_name(name)?;
        let name_len = key.len;
        let mut starts = [0; MAX_LABELS + 1];
        let mut labels = 0;
        let mut at = 0;
        loop {
            // Offsets stay below MAX_NAME_WIRE, so they fit a byte.
            *starts.get_mut(labels)? = u8::try_from(at).ok()?;
            let length = usize::from(*key.bytes.get(at)?);
            if length == 0 {
                break;
            }
            labels += 1;
            at += 1 + length;
        }
        Some(Self {
            key,
            name_len,
            starts,
            labels,
        })
    }

    /// Labels of the name, the root not counted (a wildcard counted, as
    /// `Name::trim_to` counts them).
    pub(crate) fn labels(&self) -> usize {
        self.labels
    }

    /// Puts `tail` (a type, a type and class) after the name, in place of
    /// the tail before.
    pub(crate) fn set_tail(&mut self, tail: &[u8]) -> Option<()> {
        self.key.truncate(self.name_len);
        self.key.push(tail)
    }

    /// Where the ancestor with `labels` labels (the name's last `labels`;
    /// 0 for the root) starts in the key; `None` above the name's count.
    fn start(&self, labels: usize) -> Option<usize> {
        let index = self.labels.checked_sub(labels)?;
        self.starts.get(index).map(|&at| usize::from(at))
    }

    /// The key (with the current tail) of the ancestor with `labels`
    /// labels: the name itself for [`Ancestors::labels`], the root for 0.
    pub(crate) fn key(&self, labels: usize) -> Option<&[u8]> {
        Some(self.key.suffix(self.start(labels)?))
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

    /// Each ancestor's key is the slice of the name's key from that
    /// ancestor's first label on, with the tail kept; lowercased.
    #[test]
    fn ancestors_are_suffixes_of_the_key() {
        let mut walk = Ancestors::new(&Name::from_ascii("Ab.C.xyz.").unwrap()).unwrap();
        assert_eq!(walk.labels(), 3);
        walk.set_tail(&[0, 2]).unwrap();
        assert_eq!(walk.key(3), Some(&b"\x02ab\x01c\x03xyz\x00\x00\x02"[..]));
        assert_eq!(walk.key(2), Some(&b"\x01c\x03xyz\x00\x00\x02"[..]));
        assert_eq!(walk.key(1), Some(&b"\x03xyz\x00\x00\x02"[..]));
        assert_eq!(walk.key(0), Some(&b"\x00\x00\x02"[..]));
        assert_eq!(walk.key(4), None);
        walk.set_tail(&[0, 39, 0, 1]).unwrap();
        assert_eq!(walk.key(1), Some(&b"\x03xyz\x00\x00\x27\x00\x01"[..]));
        let root = Ancestors::new(&Name::root()).unwrap();
        assert_eq!((root.labels(), root.key(0)), (0, Some(&b"\x00"[..])));
        assert_eq!(root.key(1), None);
        // A wildcard is a label like any other here.
        let wild = Ancestors::new(&Name::from_ascii("*.a.").unwrap()).unwrap();
        assert_eq!((wild.labels(), wild.key(1)), (2, Some(&b"\x01a\x00"[..])));
    }

    #[test]
    fn the_longest_names_walk_every_label() {
        let short = vec!["a"; MAX_LABELS].join(".") + ".";
        let mut walk = Ancestors::new(&Name::from_ascii(&short).unwrap()).unwrap();
        assert_eq!(walk.labels(), MAX_LABELS);
        walk.set_tail(&[0; 17]).unwrap();
        assert_eq!(walk.key(MAX_LABELS).unwrap().len(), MAX_NAME_WIRE + 17);
        let top = [&b"\x01a\x00"[..], &[0; 17]].concat();
        assert_eq!(walk.key(1), Some(&top[..]));
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
