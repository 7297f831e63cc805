//! The string commands: `GET`, `SET` (all options), `SETEX`, `GETEX`, `GETSET`, `MSET`,
//! `APPEND`, ranges, and the counters `INCR` .. `INCRBYFLOAT`.

use std::time::Instant;

use super::Bytes;
use super::command::{
    CmdError, Ctx, deadline_after, deadline_at, err, int_arg, invalid_expire, is, no_handler,
};
use super::float;
use super::keyspace::{Entry, Value};
use super::protocol::{Reply, parse_i64};

/// Redis's `proto-max-bulk-len`: the longest string `APPEND` and `SETRANGE` may make.
const MAX_STRING: usize = 512 * 1024 * 1024;

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    Ok(match name {
        "GET" => ctx
            .ks()
            .string(&a[0], now)?
            .map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
        "SET" => set(ctx, a)?,
        "SETNX" => {
            let ks = ctx.ks();
            let fresh = ks.live(&a[0], now).is_none();
            if fresh {
                ks.set_string(&a[0], a[1].clone(), None);
            }
            Reply::bool(fresh)
        }
        "SETEX" | "PSETEX" => {
            let unit = if name == "SETEX" {
                Unit::Seconds
            } else {
                Unit::Millis
            };
            let command = name.to_ascii_lowercase();
            let deadline = Expiry::In(unit, &a[1]).deadline(now, &command)?;
            ctx.ks().set_string(&a[0], a[2].clone(), Some(deadline));
            Reply::OK
        }
        "GETEX" => getex(ctx, a)?,
        "GETDEL" => {
            let ks = ctx.ks();
            let value = ks.string(&a[0], now)?.map(std::mem::take);
            ks.remove(&a[0], now);
            value.map_or(Reply::Nil, Reply::Bulk)
        }
        "GETSET" => {
            let ks = ctx.ks();
            let old = ks.string(&a[0], now)?.map(std::mem::take);
            ks.set_string(&a[0], a[1].clone(), None);
            old.map_or(Reply::Nil, Reply::Bulk)
        }
        "MGET" => {
            let ks = ctx.ks();
            Reply::Array(
                a.iter()
                    .map(|k| match ks.live(k, now) {
                        Some(Entry {
                            value: Value::Str(v),
                            ..
                        }) => Reply::Bulk(v.clone()),
                        _ => Reply::Nil,
                    })
                    .collect(),
            )
        }
        "MSET" | "MSETNX" => {
            if a.len() % 2 != 0 {
                return Err(CmdError::Arity(name.to_ascii_lowercase()));
            }
            let ks = ctx.ks();
            if name == "MSETNX" && a.chunks_exact(2).any(|p| ks.live(&p[0], now).is_some()) {
                return Ok(Reply::Int(0));
            }
            for pair in a.chunks_exact(2) {
                ks.set_string(&pair[0], pair[1].clone(), None);
            }
            if name == "MSET" {
                Reply::OK
            } else {
                Reply::Int(1)
            }
        }
        "APPEND" => {
            let ks = ctx.ks();
            let len = if let Some(v) = ks.string(&a[0], now)? {
                check_length(v.len(), a[1].len())?;
                v.extend_from_slice(&a[1]);
                v.len()
            } else {
                ks.set_string(&a[0], a[1].clone(), None);
                a[1].len()
            };
            ks.touch(&a[0]);
            Reply::count(len)
        }
        "STRLEN" => Reply::count(ctx.ks().string(&a[0], now)?.map_or(0, |v| v.len())),
        "GETRANGE" => {
            let (start, end) = (int_arg(&a[1])?, int_arg(&a[2])?);
            let value = ctx
                .ks()
                .string(&a[0], now)?
                .map_or(&[][..], |v| v.as_slice());
            Reply::bulk(substring(value, start, end))
        }
        "SETRANGE" => setrange(ctx, a)?,
        "INCR" | "DECR" | "INCRBY" | "DECRBY" => {
            let by = match name {
                "INCR" => 1,
                "DECR" => -1,
                "INCRBY" => int_arg(&a[1])?,
                _ => int_arg(&a[1])?
                    .checked_neg()
                    .ok_or_else(|| err("decrement would overflow"))?,
            };
            let ks = ctx.ks();
            let value = match ks.string(&a[0], now)? {
                Some(v) => parse_i64(v).ok_or(CmdError::NotInteger)?,
                None => 0,
            };
            let value = value
                .checked_add(by)
                .ok_or_else(|| err("increment or decrement would overflow"))?;
            store_keeping_ttl(ctx, &a[0], value.to_string().into_bytes())?;
            Reply::Int(value)
        }
        "INCRBYFLOAT" => {
            let ks = ctx.ks();
            let current = ks.string(&a[0], now)?.map_or(b"0".to_vec(), |v| v.clone());
            let sum = float::increment(&current, &a[1])
                .ok_or(CmdError::NotFloat)?
                .map_err(err)?;
            store_keeping_ttl(ctx, &a[0], sum.clone().into_bytes())?;
            Reply::Bulk(sum.into_bytes())
        }
        _ => return Err(no_handler(name)),
    })
}

/// Replaces the string at `key` (keeping its time to live, as Redis's counters do) or
/// creates it.
fn store_keeping_ttl(ctx: &mut Ctx, key: &[u8], text: Bytes) -> Result<(), CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    match ks.string(key, now)? {
        Some(v) => {
            *v = text;
            ks.touch(key);
        }
        None => ks.set_string(key, text, None),
    }
    Ok(())
}

/// Redis's `checkStringLength`.
fn check_length(len: usize, more: usize) -> Result<(), CmdError> {
    if len.saturating_add(more) > MAX_STRING {
        return Err(err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// `GETRANGE`'s slice: inclusive, negative indexes from the end, clamped.
fn substring(value: &[u8], start: i64, end: i64) -> &[u8] {
    let len = value.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return &[];
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end }.min(len - 1);
    if start > end {
        return &[];
    }
    &value[start as usize..=end as usize]
}

/// `SETRANGE key offset value`.
fn setrange(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let offset = int_arg(&a[1])?;
    let offset = usize::try_from(offset).map_err(|_| err("offset is out of range"))?;
    let value = &a[2];
    let ks = ctx.ks();
    let Some(current) = ks.string(&a[0], now)? else {
        if value.is_empty() {
            return Ok(Reply::Int(0));
        }
        check_length(offset, value.len())?;
        let mut text = vec![0; offset];
        text.extend_from_slice(value);
        let len = text.len();
        ks.set_string(&a[0], text, None);
        return Ok(Reply::count(len));
    };
    if value.is_empty() {
        return Ok(Reply::count(current.len()));
    }
    check_length(offset, value.len())?;
    if current.len() < offset + value.len() {
        current.resize(offset + value.len(), 0);
    }
    current[offset..offset + value.len()].copy_from_slice(value);
    let len = current.len();
    ks.touch(&a[0]);
    Ok(Reply::count(len))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// An expiry option: `EX`/`PX` (from now) or `EXAT`/`PXAT` (a Unix time).
#[derive(Debug, Clone, Copy)]
enum Expiry<'a> {
    In(Unit, &'a [u8]),
    At(Unit, &'a [u8]),
}

impl Expiry<'_> {
    /// Redis lets an option repeat (the last one wins) but not mix with another kind.
    fn same_kind(self, other: Expiry) -> bool {
        match (self, other) {
            (Expiry::In(a, _), Expiry::In(b, _)) | (Expiry::At(a, _), Expiry::At(b, _)) => a == b,
            _ => false,
        }
    }

    fn from_option<'a>(option: &[u8], value: &'a [u8]) -> Option<Expiry<'a>> {
        Some(match option.to_ascii_uppercase().as_slice() {
            b"EX" => Expiry::In(Unit::Seconds, value),
            b"PX" => Expiry::In(Unit::Millis, value),
            b"EXAT" => Expiry::At(Unit::Seconds, value),
            b"PXAT" => Expiry::At(Unit::Millis, value),
            _ => return None,
        })
    }

    /// When the key expires, with Redis's checks (`getExpireMillisecondsOrReply`): the number
    /// must be positive and not overflow; a Unix time in the past is `now` (expired at once).
    fn deadline(self, now: Instant, command: &str) -> Result<Instant, CmdError> {
        let (Expiry::In(unit, n) | Expiry::At(unit, n)) = self;
        let n = int_arg(n)?;
        let seconds = unit == Unit::Seconds;
        if n <= 0 || (seconds && n > i64::MAX / 1000) {
            return Err(invalid_expire(command));
        }
        let ms = if seconds { n * 1000 } else { n };
        match self {
            Expiry::In(..) => deadline_after(ms, now, command),
            Expiry::At(..) => deadline_at(ms, now, command),
        }
    }
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`.
fn set(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let (key, value) = (&a[0], &a[1]);
    let (mut nx, mut xx, mut get, mut keep_ttl) = (false, false, false, false);
    let mut expiry: Option<Expiry> = None;
    let mut i = 2;
    while i < a.len() {
        let opt = &a[i];
        let next = a.get(i + 1);
        if is(opt, "NX") && !xx {
            nx = true;
        } else if is(opt, "XX") && !nx {
            xx = true;
        } else if is(opt, "GET") {
            get = true;
        } else if is(opt, "KEEPTTL") && expiry.is_none() {
            keep_ttl = true;
        } else if let Some(e) = next
            .and_then(|n| Expiry::from_option(opt, n))
            .filter(|&e| !keep_ttl && expiry.is_none_or(|x| x.same_kind(e)))
        {
            expiry = Some(e);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let deadline = expiry.map(|e| e.deadline(now, "set")).transpose()?;
    let ks = ctx.ks();
    let old = ks.live(key, now);
    let exists = old.is_some();
    let old_ttl = old.as_ref().and_then(|e| e.expires);
    let old_value = match old {
        Some(Entry {
            value: Value::Str(v),
            ..
        }) => Some(v.clone()),
        Some(_) if get => return Err(CmdError::WrongType),
        _ => None,
    };
    let reply_unset = || {
        if get {
            old_value.clone().map_or(Reply::Nil, Reply::Bulk)
        } else {
            Reply::Nil
        }
    };
    if (nx && exists) || (xx && !exists) {
        return Ok(reply_unset());
    }
    let ttl = if keep_ttl { old_ttl } else { deadline };
    ks.set_string(key, value.clone(), ttl);
    Ok(if get { reply_unset() } else { Reply::OK })
}

/// `GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]`.
fn getex(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let mut expiry: Option<Expiry> = None;
    let mut persist = false;
    let mut i = 1;
    while i < a.len() {
        if is(&a[i], "PERSIST") && expiry.is_none() {
            persist = true;
        } else if let Some(e) = a
            .get(i + 1)
            .and_then(|n| Expiry::from_option(&a[i], n))
            .filter(|&e| !persist && expiry.is_none_or(|x| x.same_kind(e)))
        {
            expiry = Some(e);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    // As in Redis: the key first, then the time.
    let key = &a[0];
    let ks = ctx.ks();
    let Some(value) = ks.string(key, now)?.map(|v| v.clone()) else {
        return Ok(Reply::Nil);
    };
    let deadline = expiry.map(|e| e.deadline(now, "getex")).transpose()?;
    let ks = ctx.ks();
    let entry = ks.live(key, now);
    match (deadline, entry) {
        (Some(at), _) if at <= now => {
            ks.remove(key, now);
        }
        (Some(at), Some(entry)) => {
            entry.expires = Some(at);
            ks.touch(key);
        }
        (None, Some(entry)) if persist && entry.expires.is_some() => {
            entry.expires = None;
            ks.touch(key);
        }
        _ => {}
    }
    Ok(Reply::Bulk(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, WRONGTYPE, bulk, error};

    #[test]
    fn set_get_and_options() {
        let mut h = Harness::new();
        assert_eq!(h.run("GET k"), Reply::Nil);
        assert_eq!(h.run("SET k v1"), Reply::OK);
        assert_eq!(h.run("GET k"), bulk("v1"));
        assert_eq!(h.run("SET k v2 NX"), Reply::Nil);
        assert_eq!(h.run("SET other v NX"), Reply::OK);
        assert_eq!(h.run("SET missing v XX"), Reply::Nil);
        assert_eq!(h.run("SET k v3 XX GET"), bulk("v1"));
        assert_eq!(h.run("GET k"), bulk("v3"));
        assert_eq!(h.run("SET k v4 nx get"), bulk("v3"));
        assert_eq!(h.run("SET k a NX XX"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX 1 PX 5"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a BOGUS"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX x"), error(NOT_INT));
        assert_eq!(
            h.run("SET k a EX 0"),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(h.run("SETNX k x"), Reply::Int(0));
        assert_eq!(h.run("SETNX fresh x"), Reply::Int(1));
        assert_eq!(h.run("RPUSH l x"), Reply::Int(1));
        assert_eq!(h.run("GET l"), error(WRONGTYPE));
        assert_eq!(h.run("SET l x GET"), error(WRONGTYPE));
        assert_eq!(h.run("SET l plain"), Reply::OK, "SET overwrites any type");
        assert_eq!(h.run("GET l"), bulk("plain"));
    }

    #[test]
    fn setex_getex_getset() {
        let mut h = Harness::new();
        assert_eq!(h.run("SETEX k 10 v"), Reply::OK);
        assert_eq!(h.run("TTL k"), Reply::Int(10));
        assert_eq!(h.run("PSETEX k 1500 v"), Reply::OK);
        assert_eq!(h.run("PTTL k"), Reply::Int(1500));
        assert_eq!(
            h.run("SETEX k 0 v"),
            error("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            h.run("PSETEX k -5 v"),
            error("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(h.run("SETEX k x v"), error(NOT_INT));
        assert_eq!(h.run("GETEX nope"), Reply::Nil);
        assert_eq!(h.run("GETEX k PERSIST"), bulk("v"));
        assert_eq!(h.run("TTL k"), Reply::Int(-1));
        assert_eq!(h.run("GETEX k EX 100"), bulk("v"));
        assert_eq!(h.run("TTL k"), Reply::Int(100));
        assert_eq!(h.run("GETEX k"), bulk("v"));
        assert_eq!(h.run("TTL k"), Reply::Int(100), "plain GETEX keeps the TTL");
        assert_eq!(h.run("GETEX k EX 1 PX 1"), error("ERR syntax error"));
        assert_eq!(h.run("GETEX k KEEPTTL"), error("ERR syntax error"));
        assert_eq!(
            h.run("GETEX nope EX 0"),
            Reply::Nil,
            "the key is looked up first"
        );
        assert_eq!(
            h.run("GETEX k EX 0"),
            error("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(h.run("SET k v EX 1 EX 100"), Reply::OK, "the last EX wins");
        assert_eq!(h.run("TTL k"), Reply::Int(100));
        assert_eq!(h.run("GETEX k EXAT 1"), bulk("v"), "a past time deletes");
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
        h.run("SET k v EX 100");
        assert_eq!(h.run("GETSET k w"), bulk("v"));
        assert_eq!(h.run("TTL k"), Reply::Int(-1), "GETSET clears the TTL");
        assert_eq!(h.run("GETSET fresh w"), Reply::Nil);
        h.run("RPUSH l x");
        assert_eq!(h.run("GETSET l w"), error(WRONGTYPE));
        assert_eq!(h.run("GETEX l"), error(WRONGTYPE));
    }

    #[test]
    fn multi_key_append_and_ranges() {
        let mut h = Harness::new();
        assert_eq!(h.run("MSET a 1 b 2"), Reply::OK);
        assert_eq!(
            h.run("MGET a b nope"),
            Reply::Array(vec![bulk("1"), bulk("2"), Reply::Nil])
        );
        assert_eq!(
            h.run("MSET a"),
            error("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(h.run("MSETNX a 9 c 3"), Reply::Int(0));
        assert_eq!(h.run("GET c"), Reply::Nil, "MSETNX sets all or nothing");
        assert_eq!(h.run("MSETNX c 3 d 4"), Reply::Int(1));
        assert_eq!(h.run("APPEND a 23"), Reply::Int(3));
        assert_eq!(h.run("APPEND new xy"), Reply::Int(2));
        assert_eq!(h.run("STRLEN a"), Reply::Int(3));
        assert_eq!(h.run("GETRANGE a 0 -1"), bulk("123"));
        assert_eq!(h.run("GETRANGE a -2 5"), bulk("23"));
        assert_eq!(h.run("GETRANGE a -1 -5"), bulk(""));
        assert_eq!(h.run("GETRANGE nope 0 1"), bulk(""));
        assert_eq!(h.run("SETRANGE a 5 x"), Reply::Int(6));
        assert_eq!(h.run("GET a"), bulk("123\0\0x"));
        assert_eq!(h.run("SETRANGE nope 0 \"\""), Reply::Int(0));
        assert_eq!(h.run("EXISTS nope"), Reply::Int(0));
        assert_eq!(
            h.run("SETRANGE a -1 x"),
            error("ERR offset is out of range")
        );
        assert_eq!(
            h.run("SETRANGE a 536870912 x"),
            error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(h.run("GETDEL a"), bulk("123\0\0x"));
        assert_eq!(h.run("GETDEL a"), Reply::Nil);
    }

    #[test]
    fn counters() {
        let mut h = Harness::new();
        assert_eq!(h.run("INCR n"), Reply::Int(1));
        assert_eq!(h.run("INCRBY n 41"), Reply::Int(42));
        assert_eq!(h.run("DECR n"), Reply::Int(41));
        assert_eq!(h.run("DECRBY n 50"), Reply::Int(-9));
        assert_eq!(h.run("GET n"), bulk("-9"));
        assert_eq!(h.run("INCRBY n 1x"), error(NOT_INT));
        h.run("SET s abc");
        assert_eq!(h.run("INCR s"), error(NOT_INT));
        h.run("SET big 9223372036854775807");
        assert_eq!(
            h.run("INCR big"),
            error("ERR increment or decrement would overflow")
        );
        assert_eq!(
            h.run("DECRBY n -9223372036854775808"),
            error("ERR decrement would overflow")
        );
        h.run("LPUSH l a");
        assert_eq!(h.run("INCR l"), error(WRONGTYPE));

        assert_eq!(h.run("INCRBYFLOAT f 0.1"), bulk("0.1"));
        assert_eq!(h.run("INCRBYFLOAT f 0.2"), bulk("0.3"));
        h.run("SET f 10.50 EX 100");
        assert_eq!(h.run("INCRBYFLOAT f 0.1"), bulk("10.6"));
        assert_eq!(h.run("TTL f"), Reply::Int(100), "INCRBYFLOAT keeps the TTL");
        assert_eq!(
            h.run("INCRBYFLOAT f x"),
            error("ERR value is not a valid float")
        );
        assert_eq!(
            h.run("INCRBYFLOAT s 1"),
            error("ERR value is not a valid float")
        );
        assert_eq!(
            h.run("INCRBYFLOAT f inf"),
            error("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(h.run("INCRBYFLOAT l 1"), error(WRONGTYPE));
    }
}
