//! The set commands: `SADD`, `SREM`, `SMEMBERS`, `SISMEMBER`, `SCARD`, `SMOVE`, `SPOP`,
//! `SRANDMEMBER`, the algebra (`SINTER`, `SUNION`, `SDIFF` and their `STORE` forms), `SSCAN`.

use super::Bytes;
use super::command::{CmdError, Ctx, int_arg, no_handler, positive_arg};
use super::keys::{ScanOptions, cursor_arg, scan_reply};
use super::keyspace::{Entry, Keyspace, Set, Value};
use super::protocol::Reply;

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    let key = &a[0];
    Ok(match name {
        "SADD" => {
            let set = ks.set_or_new(key, now)?;
            let added = a[1..].iter().filter(|m| set.insert(m)).count();
            if added > 0 {
                ks.touch(key);
            }
            Reply::count(added)
        }
        "SREM" => {
            let Some(set) = ks.set(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let removed = a[1..].iter().filter(|m| set.remove(m)).count();
            if removed > 0 {
                ks.touch(key);
            }
            ks.drop_if_empty(key);
            Reply::count(removed)
        }
        "SMEMBERS" => ks
            .set(key, now)?
            .map_or(Reply::Array(Vec::new()), |s| members(s)),
        "SISMEMBER" => Reply::bool(ks.set(key, now)?.is_some_and(|s| s.contains(&a[1]))),
        "SMISMEMBER" => {
            let set = ks.set(key, now)?;
            Reply::Array(
                a[1..]
                    .iter()
                    .map(|m| Reply::bool(set.as_ref().is_some_and(|s| s.contains(m))))
                    .collect(),
            )
        }
        "SCARD" => Reply::count(ks.set(key, now)?.map_or(0, |s| s.len())),
        "SMOVE" => smove(ks, key, &a[1], &a[2], now)?,
        "SPOP" => spop(ks, a, now)?,
        "SRANDMEMBER" => srandmember(ks, a, now)?,
        "SINTER" | "SUNION" | "SDIFF" => members(&algebra(ks, name, a, now)?),
        "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" => {
            let result = algebra(ks, &name[..name.len() - 5], &a[1..], now)?;
            let len = result.len();
            if result.is_empty() {
                ks.remove(key, now);
            } else {
                ks.insert(key, Entry::new(Value::Set(result)));
            }
            Reply::count(len)
        }
        "SSCAN" => {
            cursor_arg(&a[1])?;
            let Some(set) = ks.set(key, now)? else {
                return Ok(scan_reply(0, Vec::new()));
            };
            let options = ScanOptions::parse(&a[2..], false)?;
            let items = set
                .members()
                .into_iter()
                .filter(|m| options.matches(m))
                .map(|m| Reply::Bulk(m.clone()))
                .collect();
            scan_reply(0, items)
        }
        _ => return Err(no_handler(name)),
    })
}

fn members(set: &Set) -> Reply {
    Reply::Array(
        set.members()
            .into_iter()
            .map(|m| Reply::Bulk(m.clone()))
            .collect(),
    )
}

/// `SMOVE src dst member`. A missing `src` answers 0 before any type is checked, as in Redis.
fn smove(
    ks: &mut Keyspace,
    src: &[u8],
    dst: &[u8],
    member: &[u8],
    now: std::time::Instant,
) -> Result<Reply, CmdError> {
    if ks.live(src, now).is_none() {
        return Ok(Reply::Int(0));
    }
    let in_src = ks.set(src, now)?.is_some_and(|s| s.contains(member));
    ks.set(dst, now)?;
    if src == dst {
        return Ok(Reply::bool(in_src));
    }
    if !in_src {
        return Ok(Reply::Int(0));
    }
    if let Some(set) = ks.set(src, now)? {
        set.remove(member);
    }
    ks.touch(src);
    ks.drop_if_empty(src);
    ks.set_or_new(dst, now)?.insert(member);
    ks.touch(dst);
    Ok(Reply::Int(1))
}

/// `count` distinct members chosen at random, in no particular order.
fn sample(set: &Set, count: usize) -> Vec<Bytes> {
    let mut all: Vec<Bytes> = set.members().into_iter().cloned().collect();
    fastrand::shuffle(&mut all);
    all.truncate(count);
    all
}

/// `SPOP key [count]`.
fn spop(ks: &mut Keyspace, a: &[Bytes], now: std::time::Instant) -> Result<Reply, CmdError> {
    let key = &a[0];
    let count = match a {
        [_] => None,
        [_, count] => Some(positive_arg(count)?),
        _ => return Err(CmdError::Syntax),
    };
    let Some(set) = ks.set(key, now)? else {
        return Ok(count.map_or(Reply::Nil, |_| Reply::Array(Vec::new())));
    };
    let (reply, popped) = match count {
        None => {
            let member = sample(set, 1).pop();
            (
                member.clone().map_or(Reply::Nil, Reply::Bulk),
                member.into_iter().collect(),
            )
        }
        Some(0) => return Ok(Reply::Array(Vec::new())),
        Some(n) if n >= set.len() => {
            let all: Vec<Bytes> = set.members().into_iter().cloned().collect();
            (
                Reply::Array(all.iter().cloned().map(Reply::Bulk).collect()),
                all,
            )
        }
        Some(n) => {
            let some = sample(set, n);
            (
                Reply::Array(some.iter().cloned().map(Reply::Bulk).collect()),
                some,
            )
        }
    };
    for member in &popped {
        set.remove(member);
    }
    ks.touch(key);
    ks.drop_if_empty(key);
    Ok(reply)
}

/// `SRANDMEMBER key [count]`: a negative count may repeat members.
fn srandmember(ks: &mut Keyspace, a: &[Bytes], now: std::time::Instant) -> Result<Reply, CmdError> {
    let count = match a {
        [_] => None,
        [_, count] => {
            let n = int_arg(count)?;
            if n == i64::MIN {
                return Err(super::command::err("value is out of range"));
            }
            Some(n)
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some(set) = ks.set(&a[0], now)? else {
        return Ok(count.map_or(Reply::Nil, |_| Reply::Array(Vec::new())));
    };
    Ok(match count {
        None => sample(set, 1).pop().map_or(Reply::Nil, Reply::Bulk),
        Some(n) if n >= 0 && n as usize >= set.len() => members(set),
        Some(n) if n >= 0 => Reply::Array(
            sample(set, n as usize)
                .into_iter()
                .map(Reply::Bulk)
                .collect(),
        ),
        Some(n) => {
            let all = set.members();
            Reply::Array(
                (0..n.unsigned_abs())
                    .map(|_| Reply::Bulk(all[fastrand::usize(..all.len())].clone()))
                    .collect(),
            )
        }
    })
}

/// `SINTER`, `SUNION` or `SDIFF` of the sets at `keys` (missing keys are empty sets; a key
/// of another type is an error even after a missing one).
fn algebra(
    ks: &mut Keyspace,
    op: &str,
    keys: &[Bytes],
    now: std::time::Instant,
) -> Result<Set, CmdError> {
    let mut sets = Vec::with_capacity(keys.len());
    for key in keys {
        sets.push(ks.set(key, now)?.map(|s| s.clone()));
    }
    let empty = Set::default();
    let sets: Vec<&Set> = sets.iter().map(|s| s.as_ref().unwrap_or(&empty)).collect();
    Ok(match op {
        "SINTER" => {
            // Redis walks the smallest set and answers in its order.
            let Some(smallest) = sets.iter().min_by_key(|s| s.len()) else {
                return Ok(Set::default());
            };
            smallest
                .members()
                .into_iter()
                .filter(|m| sets.iter().all(|s| s.contains(m)))
                .collect()
        }
        "SUNION" => sets.iter().flat_map(|s| s.members()).collect(),
        _ => sets[0]
            .members()
            .into_iter()
            .filter(|m| !sets[1..].iter().any(|s| s.contains(m)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, WRONGTYPE, bulk, bulks, error};

    #[test]
    fn add_remove_members() {
        let mut h = Harness::new();
        assert_eq!(h.run("SADD s 3 1 2 1"), Reply::Int(3));
        assert_eq!(
            h.run("SMEMBERS s"),
            bulks(&["1", "2", "3"]),
            "intsets are in order"
        );
        assert_eq!(h.run("SADD s 10"), Reply::Int(1));
        assert_eq!(
            h.run("SMEMBERS s"),
            bulks(&["1", "2", "3", "10"]),
            "numeric order"
        );
        assert_eq!(h.run("SADD s b a"), Reply::Int(2));
        assert_eq!(h.run("SREM s a b nope"), Reply::Int(2));
        assert_eq!(
            h.run("SMEMBERS s"),
            bulks(&["1", "10", "2", "3"]),
            "no longer an intset: Redis's order is arbitrary, this one is sorted"
        );
        assert_eq!(h.run("SISMEMBER s 10"), Reply::Int(1));
        assert_eq!(h.run("SISMEMBER s 11"), Reply::Int(0));
        assert_eq!(
            h.run("SMISMEMBER s 1 9"),
            Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
        );
        assert_eq!(h.run("SCARD s"), Reply::Int(4));
        assert_eq!(h.run("SCARD nope"), Reply::Int(0));
        assert_eq!(h.run("SMEMBERS nope"), bulks(&[]));
        assert_eq!(h.run("SREM s 1 2 3 10"), Reply::Int(4));
        assert_eq!(
            h.run("EXISTS s"),
            Reply::Int(0),
            "an emptied set is deleted"
        );
        h.run("SET str x");
        assert_eq!(h.run("SADD str m"), error(WRONGTYPE));
        assert_eq!(h.run("SMEMBERS str"), error(WRONGTYPE));
    }

    #[test]
    fn move_pop_random() {
        let mut h = Harness::new();
        h.run("SADD a 1 2");
        assert_eq!(h.run("SMOVE nope a 1"), Reply::Int(0));
        assert_eq!(h.run("SMOVE a a 1"), Reply::Int(1));
        assert_eq!(h.run("SMOVE a b 9"), Reply::Int(0));
        assert_eq!(h.run("SMOVE a b 1"), Reply::Int(1));
        assert_eq!(h.run("SMEMBERS b"), bulks(&["1"]));
        h.run("SET str x");
        assert_eq!(h.run("SMOVE a str 2"), error(WRONGTYPE));
        assert_eq!(h.run("SPOP nope"), Reply::Nil);
        assert_eq!(h.run("SPOP nope 2"), bulks(&[]));
        assert_eq!(h.run("SPOP a 0"), bulks(&[]));
        assert_eq!(
            h.run("SPOP a -1"),
            error("ERR value is out of range, must be positive")
        );
        assert_eq!(h.run("SPOP a 1 2"), error("ERR syntax error"));
        assert_eq!(h.run("SRANDMEMBER a"), bulk("2"));
        assert_eq!(h.run("SRANDMEMBER a -3"), bulks(&["2", "2", "2"]));
        assert_eq!(h.run("SRANDMEMBER a 5"), bulks(&["2"]));
        assert_eq!(h.run("SRANDMEMBER a x"), error(NOT_INT));
        assert_eq!(h.run("SRANDMEMBER nope 3"), bulks(&[]));
        assert_eq!(h.run("SPOP a"), bulk("2"));
        assert_eq!(h.run("EXISTS a"), Reply::Int(0));
        h.run("SADD c 1 2 3");
        let Reply::Array(two) = h.run("SPOP c 2") else {
            panic!()
        };
        assert_eq!(two.len(), 2);
        assert_eq!(h.run("SCARD c"), Reply::Int(1));
    }

    #[test]
    fn algebra_and_scan() {
        let mut h = Harness::new();
        h.run("SADD a 1 2 3 x");
        h.run("SADD b 2 3 4");
        assert_eq!(h.run("SINTER a b"), bulks(&["2", "3"]));
        assert_eq!(h.run("SINTER a nope"), bulks(&[]));
        assert_eq!(h.run("SUNION a b"), bulks(&["1", "2", "3", "4", "x"]));
        assert_eq!(h.run("SUNION b nope"), bulks(&["2", "3", "4"]));
        assert_eq!(h.run("SDIFF a b"), bulks(&["1", "x"]));
        assert_eq!(h.run("SDIFF nope a"), bulks(&[]));
        assert_eq!(h.run("SINTERSTORE d a b"), Reply::Int(2));
        assert_eq!(h.run("SMEMBERS d"), bulks(&["2", "3"]));
        assert_eq!(h.run("SDIFFSTORE d a a"), Reply::Int(0));
        assert_eq!(h.run("EXISTS d"), Reply::Int(0));
        h.run("SET str x");
        assert_eq!(h.run("SINTER nope str"), error(WRONGTYPE));
        assert_eq!(
            h.run("SUNIONSTORE str a"),
            Reply::Int(4),
            "overwrites the destination"
        );
        assert_eq!(
            h.run("SSCAN b 0"),
            Reply::Array(vec![bulk("0"), bulks(&["2", "3", "4"])])
        );
        assert_eq!(
            h.run("SSCAN b 0 MATCH 3"),
            Reply::Array(vec![bulk("0"), bulks(&["3"])])
        );
        assert_eq!(
            h.run("SSCAN nope 0"),
            Reply::Array(vec![bulk("0"), bulks(&[])])
        );
    }
}
