//! The list commands that never block: pushes, pops, ranges, `LPOS`, `LSET`, `LINSERT`,
//! `LTRIM`, `LREM`, `LMOVE`. The blocking ones are in [`super::blocking`].

use std::collections::VecDeque;

use super::Bytes;
use super::command::{CmdError, Ctx, err, int_arg, is, no_handler, positive_arg};
use super::keyspace::End;
use super::protocol::Reply;

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    let key = &a[0];
    Ok(match name {
        "LPUSH" | "RPUSH" | "LPUSHX" | "RPUSHX" => {
            if name.ends_with('X') && ks.list(key, now)?.is_none() {
                return Ok(Reply::Int(0));
            }
            let list = ks.list_or_new(key, now)?;
            for v in &a[1..] {
                if name.starts_with('L') {
                    list.push_front(v.clone());
                } else {
                    list.push_back(v.clone());
                }
            }
            let len = list.len();
            ks.touch(key);
            Reply::count(len)
        }
        "LPOP" | "RPOP" => {
            let end = if name == "LPOP" {
                End::Left
            } else {
                End::Right
            };
            match a {
                [_] => ks.pop(key, end, now)?.map_or(Reply::Nil, Reply::Bulk),
                [_, count] => {
                    let count = positive_arg(count)?;
                    if ks.list(key, now)?.is_none() {
                        return Ok(Reply::NilArray);
                    }
                    let mut popped = Vec::new();
                    while popped.len() < count {
                        match ks.pop(key, end, now)? {
                            Some(v) => popped.push(Reply::Bulk(v)),
                            None => break,
                        }
                    }
                    Reply::Array(popped)
                }
                _ => return Err(CmdError::Arity(name.to_ascii_lowercase())),
            }
        }
        "LLEN" => Reply::count(ks.list(key, now)?.map_or(0, |l| l.len())),
        "LRANGE" => {
            let (start, stop) = (int_arg(&a[1])?, int_arg(&a[2])?);
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Array(Vec::new()));
            };
            Reply::Array(match list_range(start, stop, list.len()) {
                Some((from, to)) => list
                    .range(from..=to)
                    .map(|v| Reply::Bulk(v.clone()))
                    .collect(),
                None => Vec::new(),
            })
        }
        "LINDEX" => {
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Nil);
            };
            let index = int_arg(&a[1])?;
            list_index(list.len(), index)
                .and_then(|i| list.get(i))
                .map_or(Reply::Nil, |v| Reply::Bulk(v.clone()))
        }
        "LPOS" => lpos(ks.list(key, now), a)?,
        "LSET" => {
            let list = ks.list(key, now)?.ok_or(CmdError::NoSuchKey)?;
            let index = int_arg(&a[1])?;
            let slot = list_index(list.len(), index)
                .and_then(|i| list.get_mut(i))
                .ok_or_else(|| err("index out of range"))?;
            slot.clone_from(&a[2]);
            ks.touch(key);
            Reply::OK
        }
        "LINSERT" => {
            let after = if is(&a[1], "AFTER") {
                true
            } else if is(&a[1], "BEFORE") {
                false
            } else {
                return Err(CmdError::Syntax);
            };
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let Some(at) = list.iter().position(|v| *v == a[2]) else {
                return Ok(Reply::Int(-1));
            };
            list.insert(at + usize::from(after), a[3].clone());
            let len = list.len();
            ks.touch(key);
            Reply::count(len)
        }
        "LTRIM" => {
            let (start, stop) = (int_arg(&a[1])?, int_arg(&a[2])?);
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::OK);
            };
            match list_range(start, stop, list.len()) {
                Some((from, to)) => {
                    list.truncate(to + 1);
                    list.drain(..from);
                }
                None => list.clear(),
            }
            ks.touch(key);
            ks.drop_if_empty(key);
            Reply::OK
        }
        "LREM" => {
            let count = int_arg(&a[1])?;
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let removed = list_remove(list, count, &a[2]);
            if removed > 0 {
                ks.touch(key);
            }
            ks.drop_if_empty(key);
            Reply::count(removed)
        }
        "LMOVE" => {
            let (from, to) = (end_arg(&a[2])?, end_arg(&a[3])?);
            ks.lmove(key, &a[1], from, to, now)?
                .map_or(Reply::Nil, Reply::Bulk)
        }
        "RPOPLPUSH" => ks
            .lmove(key, &a[1], End::Right, End::Left, now)?
            .map_or(Reply::Nil, Reply::Bulk),
        _ => return Err(no_handler(name)),
    })
}

/// `LEFT` or `RIGHT`.
pub(super) fn end_arg(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "LEFT") {
        Ok(End::Left)
    } else if is(arg, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

/// The position of `index` (negative from the end) in a list of `len`, if inside.
fn list_index(len: usize, index: i64) -> Option<usize> {
    let index = if index < 0 { len as i64 + index } else { index };
    usize::try_from(index).ok().filter(|&i| i < len)
}

/// The inclusive index range `LRANGE start stop` (and `LTRIM`) selects, with Redis's rules for
/// negative and out-of-range indexes; `None` when empty.
fn list_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// `LREM`: removes up to `count` elements equal to `value`, from the head when `count > 0`,
/// from the tail when `count < 0`, all when 0. Returns how many were removed.
fn list_remove(list: &mut VecDeque<Bytes>, count: i64, value: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    if count >= 0 {
        let mut i = 0;
        while i < list.len() && removed < limit {
            if list[i] == value {
                list.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = list.len();
        while i > 0 && removed < limit {
            i -= 1;
            if list[i] == value {
                list.remove(i);
                removed += 1;
            }
        }
    }
    removed
}

/// `LPOS key element [RANK rank] [COUNT num] [MAXLEN len]`. The options are checked before
/// the key, as in Redis.
fn lpos(
    list: Result<Option<&mut VecDeque<Bytes>>, CmdError>,
    a: &[Bytes],
) -> Result<Reply, CmdError> {
    let (mut rank, mut count, mut maxlen) = (1_i64, None, 0_i64);
    let mut i = 2;
    while i < a.len() {
        let value = a.get(i + 1).ok_or(CmdError::Syntax)?;
        if is(&a[i], "RANK") {
            rank = int_arg(value)?;
            if rank == 0 {
                return Err(err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
                     or use negative to start from the end of the list",
                ));
            }
        } else if is(&a[i], "COUNT") {
            let n = int_arg(value)?;
            if n < 0 {
                return Err(err("COUNT can't be negative"));
            }
            count = Some(n as u64);
        } else if is(&a[i], "MAXLEN") {
            maxlen = int_arg(value)?;
            if maxlen < 0 {
                return Err(err("MAXLEN can't be negative"));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let none = || {
        if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        }
    };
    let Some(list) = list? else {
        return Ok(none());
    };
    // Redis negates the rank in C: `RANK -9223372036854775808` stays negative there and so
    // matches from the first candidate.
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let len = list.len();
    let scan = (0..len).take(if maxlen == 0 { len } else { maxlen as usize });
    let positions: Box<dyn Iterator<Item = usize>> = if from_tail {
        Box::new(scan.map(|i| len - 1 - i))
    } else {
        Box::new(scan)
    };
    let mut matches = 0_i64;
    let mut found = Vec::new();
    for pos in positions {
        if list[pos] != a[1] {
            continue;
        }
        matches += 1;
        if matches >= rank {
            found.push(Reply::count(pos));
            if count.is_none_or(|c| c != 0 && found.len() as u64 >= c) {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, WRONGTYPE, bulk, bulks, error};

    #[test]
    fn push_pop_range() {
        let mut h = Harness::new();
        assert_eq!(h.run("RPUSH l b c"), Reply::Int(2));
        assert_eq!(h.run("LPUSH l a z"), Reply::Int(4));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["z", "a", "b", "c"]));
        assert_eq!(h.run("LRANGE l -2 -1"), bulks(&["b", "c"]));
        assert_eq!(h.run("LRANGE l 1 100"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run("LRANGE l -100 0"), bulks(&["z"]));
        assert_eq!(h.run("LRANGE l 3 1"), bulks(&[]));
        assert_eq!(h.run("LRANGE nope 0 -1"), bulks(&[]));
        assert_eq!(h.run("LINDEX l -1"), bulk("c"));
        assert_eq!(h.run("LINDEX l 9"), Reply::Nil);
        assert_eq!(h.run("LINDEX l x"), error(NOT_INT));
        assert_eq!(h.run("LLEN l"), Reply::Int(4));
        assert_eq!(h.run("LPOP l"), bulk("z"));
        assert_eq!(h.run("RPOP l"), bulk("c"));
        assert_eq!(h.run("LPOP l 0"), bulks(&[]));
        assert_eq!(h.run("LPOP l 5"), bulks(&["a", "b"]));
        assert_eq!(
            h.run("EXISTS l"),
            Reply::Int(0),
            "an emptied list is deleted"
        );
        assert_eq!(h.run("LPOP l"), Reply::Nil);
        assert_eq!(h.run("LPOP l 2"), Reply::NilArray);
        assert_eq!(
            h.run("LPOP l -1"),
            error("ERR value is out of range, must be positive")
        );
        assert_eq!(h.run("LPUSHX l a"), Reply::Int(0));
        assert_eq!(h.run("RPUSHX l a b"), Reply::Int(0));
        assert_eq!(
            h.run("EXISTS l"),
            Reply::Int(0),
            "the X pushes create nothing"
        );
        h.run("RPUSH l m");
        assert_eq!(h.run("LPUSHX l a"), Reply::Int(2));
        assert_eq!(h.run("RPUSHX l y z"), Reply::Int(4));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "m", "y", "z"]));
        h.run("SET s x");
        assert_eq!(h.run("LPUSH s x"), error(WRONGTYPE));
        assert_eq!(h.run("LPUSHX s x"), error(WRONGTYPE));
        assert_eq!(h.run("LLEN s"), error(WRONGTYPE));
        assert_eq!(h.run("GET s"), bulk("x"), "a failed push changes nothing");
    }

    #[test]
    fn lset_linsert_ltrim() {
        let mut h = Harness::new();
        assert_eq!(h.run("LSET nope 0 x"), error("ERR no such key"));
        h.run("RPUSH l a b c");
        assert_eq!(h.run("LSET l 5 x"), error("ERR index out of range"));
        assert_eq!(h.run("LSET l x y"), error(NOT_INT));
        assert_eq!(h.run("LSET l -1 z"), Reply::OK);
        assert_eq!(h.run("LINSERT l BEFORE b X"), Reply::Int(4));
        assert_eq!(h.run("LINSERT l after b Y"), Reply::Int(5));
        assert_eq!(h.run("LINSERT l AFTER nope X"), Reply::Int(-1));
        assert_eq!(h.run("LINSERT nope AFTER a X"), Reply::Int(0));
        assert_eq!(h.run("LINSERT l MIDDLE a X"), error("ERR syntax error"));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "X", "b", "Y", "z"]));
        assert_eq!(h.run("LTRIM l 1 -2"), Reply::OK);
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["X", "b", "Y"]));
        assert_eq!(h.run("LTRIM nope 0 1"), Reply::OK);
        assert_eq!(h.run("LTRIM l 5 10"), Reply::OK);
        assert_eq!(
            h.run("EXISTS l"),
            Reply::Int(0),
            "trimmed to nothing: deleted"
        );
    }

    #[test]
    fn lpos_options() {
        let mut h = Harness::new();
        h.run("RPUSH l a b c a b c");
        assert_eq!(h.run("LPOS l a"), Reply::Int(0));
        assert_eq!(h.run("LPOS l a RANK 2"), Reply::Int(3));
        assert_eq!(h.run("LPOS l a RANK -1"), Reply::Int(3));
        assert_eq!(h.run("LPOS l a RANK -2"), Reply::Int(0));
        assert_eq!(h.run("LPOS l a RANK -9223372036854775808"), Reply::Int(3));
        assert_eq!(
            h.run("LPOS l a COUNT 0"),
            Reply::Array(vec![Reply::Int(0), Reply::Int(3)])
        );
        assert_eq!(
            h.run("LPOS l a MAXLEN 2 COUNT 0"),
            Reply::Array(vec![Reply::Int(0)])
        );
        assert_eq!(h.run("LPOS l z"), Reply::Nil);
        assert_eq!(h.run("LPOS l z COUNT 2"), bulks(&[]));
        assert_eq!(h.run("LPOS nope a COUNT 1"), bulks(&[]));
        assert!(
            matches!(h.run("LPOS l a RANK 0"), Reply::Error(e) if e.starts_with("ERR RANK can't be zero"))
        );
        assert_eq!(
            h.run("LPOS l a COUNT -1"),
            error("ERR COUNT can't be negative")
        );
        assert_eq!(
            h.run("LPOS l a MAXLEN -1"),
            error("ERR MAXLEN can't be negative")
        );
        assert_eq!(h.run("LPOS l a RANK"), error("ERR syntax error"));
        assert_eq!(h.run("LPOS l a FOO 1"), error("ERR syntax error"));
    }

    #[test]
    fn lrem_counts_from_either_end() {
        let mut h = Harness::new();
        h.run("RPUSH l a x b x c x");
        assert_eq!(h.run("LREM l 1 x"), Reply::Int(1));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "x", "c", "x"]));
        assert_eq!(h.run("LREM l -1 x"), Reply::Int(1));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "x", "c"]));
        h.run("RPUSH l x");
        assert_eq!(h.run("LREM l 0 x"), Reply::Int(2));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run("LREM l 0 nope"), Reply::Int(0));
        assert_eq!(h.run("LREM nope 0 x"), Reply::Int(0));
    }

    #[test]
    fn lmove_and_rpoplpush() {
        let mut h = Harness::new();
        h.run("RPUSH src 1 2 3");
        assert_eq!(h.run("LMOVE src dst RIGHT LEFT"), bulk("3"));
        assert_eq!(h.run("LMOVE src dst left right"), bulk("1"));
        assert_eq!(h.run("LRANGE dst 0 -1"), bulks(&["3", "1"]));
        assert_eq!(h.run("RPOPLPUSH src dst"), bulk("2"));
        assert_eq!(h.run("EXISTS src"), Reply::Int(0));
        assert_eq!(h.run("LMOVE src dst LEFT LEFT"), Reply::Nil);
        assert_eq!(h.run("LMOVE dst dst RIGHT LEFT"), bulk("1"), "rotation");
        assert_eq!(h.run("LRANGE dst 0 -1"), bulks(&["1", "2", "3"]));
        assert_eq!(h.run("LMOVE dst x UP LEFT"), error("ERR syntax error"));
        h.run("SET s x");
        assert_eq!(h.run("LMOVE dst s LEFT LEFT"), error(WRONGTYPE));
        assert_eq!(h.run("LLEN dst"), Reply::Int(3), "nothing moved");
    }
}
