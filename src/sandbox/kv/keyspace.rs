//! The data model: sixteen [`Keyspace`]s of [`Value`]s with lazy expiry, and the bookkeeping
//! behind `WATCH`. No I/O and no locking; every method takes `now`, so expiry is testable.
//!
//! **Touching.** Every change to a key's value or expiry must call [`Keyspace::touch`]: that is
//! what makes a `WATCH`ing client's `EXEC` fail. The methods that write by themselves
//! ([`Keyspace::insert`], [`Keyspace::remove`], [`Keyspace::pop`], [`Keyspace::lmove`],
//! [`Keyspace::flush`], and the lazy removal of an expired key) touch; a handler that changes a
//! value in place through [`Keyspace::live`], [`Keyspace::string`], [`Keyspace::list_or_new`]
//! and friends touches the key itself, and only when it really changed something (Redis
//! does not count `SADD s x` with `x` already there, nor `DEL` of a missing key).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Instant;

use super::command::CmdError;
use super::protocol::parse_i64;
use super::{Bytes, DATABASES};

/// Redis's `set-max-intset-entries`: a set of integers up to this size lists them in order.
const INTSET_MAX: usize = 512;

/// A value: Redis's string, list, hash and set types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Hash(Hash),
    Set(Set),
}

impl Value {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
        }
    }

    fn is_empty_container(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }
}

/// A value and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) value: Value,
    pub(super) expires: Option<Instant>,
}

impl Entry {
    pub(super) fn new(value: Value) -> Entry {
        Entry {
            value,
            expires: None,
        }
    }

    fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// A hash that keeps its fields in insertion order, as Redis does for the small hashes a
/// learner makes (a listpack: `HGETALL` answers in the order the fields were first set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Hash {
    fields: Vec<(Bytes, Bytes)>,
    index: HashMap<Bytes, usize>,
}

impl Hash {
    pub(super) fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.index.get(field).map(|&i| &self.fields[i].1)
    }

    pub(super) fn contains(&self, field: &[u8]) -> bool {
        self.index.contains_key(field)
    }

    /// Sets `field`, in place if it exists; true if it is new.
    pub(super) fn insert(&mut self, field: &[u8], value: Bytes) -> bool {
        if let Some(&i) = self.index.get(field) {
            self.fields[i].1 = value;
            return false;
        }
        self.index.insert(field.to_vec(), self.fields.len());
        self.fields.push((field.to_vec(), value));
        true
    }

    /// Removes `field`; true if it was there. Later fields keep their order.
    pub(super) fn remove(&mut self, field: &[u8]) -> bool {
        let Some(i) = self.index.remove(field) else {
            return false;
        };
        self.fields.remove(i);
        for (f, _) in &self.fields[i..] {
            if let Some(slot) = self.index.get_mut(f) {
                *slot -= 1;
            }
        }
        true
    }

    pub(super) fn len(&self) -> usize {
        self.fields.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Fields and values in Redis's order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.fields.iter().map(|(f, v)| (f, v))
    }
}

/// A set. Redis lists a small set of integers (an intset) in numeric order and any other set
/// in hash-table order, which differs between servers; this one answers sorted then. Like
/// Redis, a set stops being an intset for good once it held a non-integer or grew too big.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Set {
    members: BTreeSet<Bytes>,
    intset: bool,
}

impl Default for Set {
    fn default() -> Set {
        Set {
            members: BTreeSet::new(),
            intset: true,
        }
    }
}

impl Set {
    /// True if `member` is new.
    pub(super) fn insert(&mut self, member: &[u8]) -> bool {
        if self.members.contains(member) {
            return false;
        }
        self.members.insert(member.to_vec());
        if self.members.len() > INTSET_MAX || parse_i64(member).is_none() {
            self.intset = false;
        }
        true
    }

    pub(super) fn remove(&mut self, member: &[u8]) -> bool {
        self.members.remove(member)
    }

    pub(super) fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in the order Redis lists them (see [`Set`]).
    pub(super) fn members(&self) -> Vec<&Bytes> {
        let mut members: Vec<&Bytes> = self.members.iter().collect();
        if self.intset {
            members.sort_by_key(|m| parse_i64(m));
        }
        members
    }
}

impl<'a> FromIterator<&'a Bytes> for Set {
    fn from_iter<I: IntoIterator<Item = &'a Bytes>>(iter: I) -> Set {
        let mut set = Set::default();
        for member in iter {
            set.insert(member);
        }
        set
    }
}

/// The two ends of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Left,
    Right,
}

/// All the data: [`DATABASES`] keyspaces.
#[derive(Debug)]
pub(super) struct Store {
    pub(super) dbs: Vec<Keyspace>,
}

impl Store {
    pub(super) fn new() -> Store {
        Store {
            dbs: (0..DATABASES).map(|_| Keyspace::default()).collect(),
        }
    }

    /// True if a key connection `conn` watches was touched since it watched it.
    pub(super) fn is_dirty(&self, conn: u64) -> bool {
        self.dbs.iter().any(|ks| ks.dirty.contains(&conn))
    }

    /// Forgets what `conn` watches (`keys` as `(db, key)`) and whether any of it changed.
    pub(super) fn unwatch(&mut self, conn: u64, keys: &[(usize, Bytes)]) {
        for (db, key) in keys {
            if let Some(ks) = self.dbs.get_mut(*db) {
                ks.unwatch(key, conn);
            }
        }
        for ks in &mut self.dbs {
            ks.dirty.remove(&conn);
        }
    }
}

/// One database. Expired entries are removed when touched (and by `keys`/`len`); containers
/// that become empty are removed, as in Redis.
#[derive(Debug, Default)]
pub(super) struct Keyspace {
    map: HashMap<Bytes, Entry>,
    /// Who `WATCH`es which key.
    watched: HashMap<Bytes, Vec<u64>>,
    /// Connections one of whose watched keys was touched.
    dirty: HashSet<u64>,
}

impl Keyspace {
    /// Records that `key` changed, for `WATCH`.
    pub(super) fn touch(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(conns) = self.watched.get(key) {
            self.dirty.extend(conns);
        }
    }

    /// `conn` watches `key`. A key that already expired counts as missing from now on.
    pub(super) fn watch(&mut self, key: &[u8], conn: u64, now: Instant) {
        self.live(key, now);
        let conns = self.watched.entry(key.to_vec()).or_default();
        if !conns.contains(&conn) {
            conns.push(conn);
        }
    }

    fn unwatch(&mut self, key: &[u8], conn: u64) {
        if let Some(conns) = self.watched.get_mut(key) {
            conns.retain(|&c| c != conn);
            if conns.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// The live entry for `key`, dropping it first if it has expired.
    pub(super) fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        if self.map.get(key)?.is_expired(now) {
            self.map.remove(key);
            self.touch(key);
            return None;
        }
        self.map.get_mut(key)
    }

    /// The live value for `key`, read-only (for in-process inspection).
    pub(super) fn peek(&self, key: &[u8], now: Instant) -> Option<&Value> {
        self.map
            .get(key)
            .filter(|e| !e.is_expired(now))
            .map(|e| &e.value)
    }

    /// Removes `key`, returning its live entry.
    pub(super) fn take(&mut self, key: &[u8], now: Instant) -> Option<Entry> {
        self.live(key, now)?;
        self.touch(key);
        self.map.remove(key)
    }

    /// Removes `key`; true if it was live.
    pub(super) fn remove(&mut self, key: &[u8], now: Instant) -> bool {
        self.take(key, now).is_some()
    }

    /// Stores `entry` at `key`, replacing whatever was there.
    pub(super) fn insert(&mut self, key: &[u8], entry: Entry) {
        self.touch(key);
        self.map.insert(key.to_vec(), entry);
    }

    pub(super) fn set_string(&mut self, key: &[u8], value: Bytes, expires: Option<Instant>) {
        self.insert(
            key,
            Entry {
                value: Value::Str(value),
                expires,
            },
        );
    }

    pub(super) fn string(
        &mut self,
        key: &[u8],
        now: Instant,
    ) -> Result<Option<&mut Bytes>, CmdError> {
        match self.live(key, now).map(|e| &mut e.value) {
            None => Ok(None),
            Some(Value::Str(v)) => Ok(Some(v)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    pub(super) fn list(
        &mut self,
        key: &[u8],
        now: Instant,
    ) -> Result<Option<&mut VecDeque<Bytes>>, CmdError> {
        match self.live(key, now).map(|e| &mut e.value) {
            None => Ok(None),
            Some(Value::List(l)) => Ok(Some(l)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    pub(super) fn hash(&mut self, key: &[u8], now: Instant) -> Result<Option<&mut Hash>, CmdError> {
        match self.live(key, now).map(|e| &mut e.value) {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(h)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    pub(super) fn set(&mut self, key: &[u8], now: Instant) -> Result<Option<&mut Set>, CmdError> {
        match self.live(key, now).map(|e| &mut e.value) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    /// The list at `key`, created empty if missing. The caller must leave it non-empty (or
    /// call [`Keyspace::drop_if_empty`]) and touch the key if it changed it.
    pub(super) fn list_or_new(
        &mut self,
        key: &[u8],
        now: Instant,
    ) -> Result<&mut VecDeque<Bytes>, CmdError> {
        match &mut self
            .entry_or(key, now, || Value::List(VecDeque::new()))
            .value
        {
            Value::List(l) => Ok(l),
            _ => Err(CmdError::WrongType),
        }
    }

    /// The hash at `key`, created empty if missing; see [`Keyspace::list_or_new`].
    pub(super) fn hash_or_new(&mut self, key: &[u8], now: Instant) -> Result<&mut Hash, CmdError> {
        match &mut self
            .entry_or(key, now, || Value::Hash(Hash::default()))
            .value
        {
            Value::Hash(h) => Ok(h),
            _ => Err(CmdError::WrongType),
        }
    }

    /// The set at `key`, created empty if missing; see [`Keyspace::list_or_new`].
    pub(super) fn set_or_new(&mut self, key: &[u8], now: Instant) -> Result<&mut Set, CmdError> {
        match &mut self.entry_or(key, now, || Value::Set(Set::default())).value {
            Value::Set(s) => Ok(s),
            _ => Err(CmdError::WrongType),
        }
    }

    fn entry_or(&mut self, key: &[u8], now: Instant, empty: impl FnOnce() -> Value) -> &mut Entry {
        self.live(key, now);
        self.map
            .entry(key.to_vec())
            .or_insert_with(|| Entry::new(empty()))
    }

    /// Removes `key` if it holds an empty list, hash or set.
    pub(super) fn drop_if_empty(&mut self, key: &[u8]) {
        if self
            .map
            .get(key)
            .is_some_and(|e| e.value.is_empty_container())
        {
            self.map.remove(key);
        }
    }

    /// Pops one element from an end of the list at `key`.
    pub(super) fn pop(
        &mut self,
        key: &[u8],
        end: End,
        now: Instant,
    ) -> Result<Option<Bytes>, CmdError> {
        let Some(list) = self.list(key, now)? else {
            return Ok(None);
        };
        let value = match end {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        };
        if value.is_some() {
            self.touch(key);
        }
        self.drop_if_empty(key);
        Ok(value)
    }

    /// `LMOVE src dst from to`: nil when `src` is missing; the types of both keys are checked
    /// before anything moves.
    pub(super) fn lmove(
        &mut self,
        src: &[u8],
        dst: &[u8],
        from: End,
        to: End,
        now: Instant,
    ) -> Result<Option<Bytes>, CmdError> {
        if self.list(src, now)?.is_none() {
            return Ok(None);
        }
        self.list(dst, now)?;
        let Some(value) = self.pop(src, from, now)? else {
            return Ok(None);
        };
        let list = self.list_or_new(dst, now)?;
        match to {
            End::Left => list.push_front(value.clone()),
            End::Right => list.push_back(value.clone()),
        }
        self.touch(dst);
        Ok(Some(value))
    }

    /// Drops every expired entry.
    fn purge(&mut self, now: Instant) {
        let expired: Vec<Bytes> = self
            .map
            .iter()
            .filter(|(_, e)| e.is_expired(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.map.remove(&key);
            self.touch(&key);
        }
    }

    /// Removes every key (`FLUSHDB`).
    pub(super) fn flush(&mut self) {
        if !self.watched.is_empty() {
            let keys: Vec<Bytes> = self.map.keys().cloned().collect();
            for key in keys {
                self.touch(&key);
            }
        }
        self.map.clear();
    }

    /// Live keys matching a glob pattern, sorted.
    pub(super) fn keys(&mut self, pattern: &[u8], now: Instant) -> Vec<Bytes> {
        self.purge(now);
        let mut keys: Vec<Bytes> = self
            .map
            .keys()
            .filter(|k| glob_match(pattern, k))
            .cloned()
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Number of live keys.
    pub(super) fn len(&mut self, now: Instant) -> usize {
        self.purge(now);
        self.map.len()
    }

    /// Number of live keys with a time to live.
    pub(super) fn volatile_len(&mut self, now: Instant) -> usize {
        self.purge(now);
        self.map.values().filter(|e| e.expires.is_some()).count()
    }

    /// A live key chosen at random.
    pub(super) fn random_key(&mut self, now: Instant) -> Option<Bytes> {
        self.purge(now);
        if self.map.is_empty() {
            return None;
        }
        self.map
            .keys()
            .nth(fastrand::usize(..self.map.len()))
            .cloned()
    }

    /// One page of `SCAN`: up to about `count` keys from `cursor` on, and the cursor to go on
    /// with (0 when done). Keys are visited in the order of a fixed hash of their name and the
    /// cursor is the hash to resume at, so a key present for the whole iteration is returned
    /// at least once however the keyspace changes in between, as Redis promises.
    pub(super) fn scan(&mut self, cursor: u64, count: usize, now: Instant) -> (u64, Vec<Bytes>) {
        self.purge(now);
        let mut ahead: Vec<(u64, &Bytes)> = self
            .map
            .keys()
            .map(|k| (scan_position(k), k))
            .filter(|&(pos, _)| pos >= cursor)
            .collect();
        ahead.sort_unstable();
        let mut end = count.min(ahead.len());
        // Keys at the same position go in the same page: the cursor cannot split them.
        while end > 0 && end < ahead.len() && ahead[end].0 == ahead[end - 1].0 {
            end += 1;
        }
        let next = ahead.get(end).map_or(0, |&(pos, _)| pos);
        (next, ahead[..end].iter().map(|&(_, k)| k.clone()).collect())
    }
}

/// Where `SCAN` visits a key: FNV-1a of its name, never 0 (the cursor that ends a scan).
fn scan_position(key: &[u8]) -> u64 {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash.max(1)
}

/// Redis glob matching (as in `KEYS`): `*` any run, `?` any byte, `[abc]` a set, `[^a]` a
/// negated set, `[a-z]` a range, `\x` a literal `x`. Backtracks on the last `*` only, so
/// matching is O(pattern × key) even for hostile patterns.
pub(super) fn glob_match(pattern: &[u8], key: &[u8]) -> bool {
    let (mut p, mut k) = (0, 0);
    // Where to resume after the most recent `*`: (pattern index after it, key index).
    let mut star: Option<(usize, usize)> = None;
    while k < key.len() {
        if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            star = Some((p, k));
        } else if let Some(next) = match_one(pattern, p, key[k]) {
            p = next;
            k += 1;
        } else if let Some((star_p, star_k)) = star {
            // Let the `*` swallow one more byte and retry.
            p = star_p;
            k = star_k + 1;
            star = Some((star_p, star_k + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches the single-byte pattern element at `p` against `c`; the index after it on success.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match *pattern.get(p)? {
        b'?' => Some(p + 1),
        b'\\' if p + 1 < pattern.len() => (pattern[p + 1] == c).then_some(p + 2),
        b'[' => match_class(pattern, p + 1, c),
        literal => (literal == c).then_some(p + 1),
    }
}

/// Matches a `[...]` class starting after its `[`. As in Redis, an unclosed class runs to the
/// end of the pattern and a reversed range `[z-a]` works like `[a-z]`.
fn match_class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        match pattern.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                matched |= pattern[p + 1] == c;
                p += 2;
            }
            Some(&lo) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                let hi = pattern[p + 2];
                matched |= (lo.min(hi)..=lo.max(hi)).contains(&c);
                p += 3;
            }
            Some(&literal) => {
                matched |= literal == c;
                p += 1;
            }
        }
    }
    (matched != negate).then_some(p)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn glob_matches_like_redis() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("*", "", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "hllo", true),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h[b-a]llo", "hallo", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a[\\]]b", "a]b", true),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:age", false),
            ("*a*b*c", "xxaxxbxxc", true),
            ("*a*b*c", "xxaxxbxx", false),
            ("job:?", "job:10", false),
            ("trailing\\", "trailing\\", true),
            ("[abc", "b", true),
            ("", "", true),
            ("", "a", false),
            (
                "a*a*a*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), key.as_bytes()),
                *expected,
                "{pattern:?} vs {key:?}"
            );
        }
    }

    #[test]
    fn hashes_keep_insertion_order_through_updates_and_removals() {
        let mut h = Hash::default();
        for (f, v) in [("b", "1"), ("a", "2"), ("c", "3"), ("d", "4")] {
            assert!(h.insert(f.as_bytes(), v.as_bytes().to_vec()));
        }
        assert!(!h.insert(b"a", b"20".to_vec()), "an update is not new");
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert!(h.insert(b"b", b"5".to_vec()));
        let order: Vec<(&[u8], &[u8])> = h.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        assert_eq!(
            order,
            [
                (&b"a"[..], &b"20"[..]),
                (b"c", b"3"),
                (b"d", b"4"),
                (b"b", b"5")
            ]
        );
        assert_eq!(
            h.get(b"d"),
            Some(&b"4".to_vec()),
            "the index follows removals"
        );
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn small_integer_sets_list_in_numeric_order_until_they_are_not() {
        let members = |s: &Set| -> Vec<String> {
            s.members()
                .iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect()
        };
        let mut s = Set::default();
        for m in ["10", "-3", "2"] {
            s.insert(m.as_bytes());
        }
        assert_eq!(members(&s), ["-3", "2", "10"]);
        s.insert(b"x");
        s.remove(b"x");
        assert_eq!(
            members(&s),
            ["-3", "10", "2"],
            "no longer an intset: sorted as text"
        );
        let big: Set = (0..=INTSET_MAX)
            .map(|i| i.to_string().into_bytes())
            .collect::<Vec<_>>()
            .iter()
            .collect();
        assert!(
            !big.intset,
            "more than {INTSET_MAX} members is not an intset"
        );
    }

    #[test]
    fn touching_a_watched_key_marks_its_watchers() {
        let now = Instant::now();
        let mut store = Store::new();
        let ks = &mut store.dbs[0];
        ks.set_string(b"k", b"v".to_vec(), Some(now + Duration::from_millis(10)));
        ks.watch(b"k", 7, now);
        ks.watch(b"other", 8, now);
        assert!(!store.is_dirty(7));
        store.dbs[0].live(b"k", now + Duration::from_millis(10));
        assert!(store.is_dirty(7), "expiring counts as a change");
        assert!(!store.is_dirty(8));
        store.unwatch(7, &[(0, b"k".to_vec())]);
        assert!(!store.is_dirty(7));
        store.dbs[0].set_string(b"k", b"again".to_vec(), None);
        assert!(!store.is_dirty(7), "unwatched");
        store.dbs[0].flush();
        assert!(!store.is_dirty(8), "flushing touches only keys that exist");
        store.dbs[0].set_string(b"other", b"v".to_vec(), None);
        assert!(store.is_dirty(8));
    }

    #[test]
    fn scan_positions_are_never_the_final_cursor() {
        assert!((0..1000).all(|i| scan_position(format!("key:{i}").as_bytes()) != 0));
        assert_eq!(scan_position(b"a"), scan_position(b"a"));
    }
}
