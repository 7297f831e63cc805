//! Commands on keys of any type: `DEL`, `EXISTS`, `TYPE`, `KEYS`, `SCAN`, `RENAME`, expiry
//! (`EXPIRE` and friends, `TTL`, `PERSIST`), `FLUSHDB` and so on.

use super::command::{
    CmdError, Ctx, deadline_after, deadline_at, err, int_arg, invalid_expire, is, no_handler,
    unix_ms,
};
use super::keyspace::{Entry, Keyspace, glob_match};
use super::protocol::Reply;
use super::{Bytes, lossy};

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    Ok(match name {
        "DEL" | "UNLINK" => {
            let ks = ctx.ks();
            Reply::count(a.iter().filter(|k| ks.remove(k, now)).count())
        }
        "EXISTS" | "TOUCH" => {
            let ks = ctx.ks();
            Reply::count(a.iter().filter(|k| ks.live(k, now).is_some()).count())
        }
        "TYPE" => Reply::Simple(
            ctx.ks()
                .live(&a[0], now)
                .map_or("none", |e| e.value.type_name()),
        ),
        "KEYS" => Reply::Array(
            ctx.ks()
                .keys(&a[0], now)
                .into_iter()
                .map(Reply::Bulk)
                .collect(),
        ),
        "SCAN" => scan(ctx, a)?,
        "RANDOMKEY" => ctx.ks().random_key(now).map_or(Reply::Nil, Reply::Bulk),
        "DBSIZE" => Reply::count(ctx.ks().len(now)),
        "RENAME" | "RENAMENX" => rename(ctx, name == "RENAMENX", &a[0], &a[1])?,
        "FLUSHDB" | "FLUSHALL" => {
            match a {
                [] => {}
                [mode] if is(mode, "SYNC") || is(mode, "ASYNC") => {}
                _ => return Err(CmdError::Syntax),
            }
            if name == "FLUSHDB" {
                ctx.ks().flush();
            } else {
                ctx.store.dbs.iter_mut().for_each(Keyspace::flush);
            }
            Reply::OK
        }
        "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" => expire(ctx, name, a)?,
        "PERSIST" => {
            let ks = ctx.ks();
            let had_ttl = ks.live(&a[0], now).and_then(|e| e.expires.take()).is_some();
            if had_ttl {
                ks.touch(&a[0]);
            }
            Reply::bool(had_ttl)
        }
        "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME" => {
            Reply::Int(match ctx.ks().live(&a[0], now) {
                None => -2,
                Some(Entry { expires: None, .. }) => -1,
                Some(Entry {
                    expires: Some(at), ..
                }) => {
                    let ms = at.saturating_duration_since(now).as_millis() as i64;
                    match name {
                        "TTL" => (ms + 500) / 1000,
                        "PTTL" => ms,
                        "EXPIRETIME" => unix_ms(*at) / 1000,
                        _ => unix_ms(*at),
                    }
                }
            })
        }
        _ => return Err(no_handler(name)),
    })
}

/// `RENAME src dst` / `RENAMENX src dst`: moves the value and its time to live.
fn rename(ctx: &mut Ctx, nx: bool, src: &[u8], dst: &[u8]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    if ks.live(src, now).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    let done = if nx { Reply::Int(1) } else { Reply::OK };
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::OK });
    }
    if nx && ks.live(dst, now).is_some() {
        return Ok(Reply::Int(0));
    }
    if let Some(entry) = ks.take(src, now) {
        ks.insert(dst, entry);
    }
    Ok(done)
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`, `PEXPIRE` (milliseconds), `EXPIREAT` and `PEXPIREAT`
/// (a Unix time). Like Redis, the options are checked before the number.
fn expire(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[2..] {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => return Err(err(format!("Unsupported option {}", lossy(opt)))),
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err("GT and LT options at the same time are not compatible"));
    }
    let command = name.to_ascii_lowercase();
    let amount = int_arg(&a[1])?;
    let seconds = !name.starts_with('P');
    let ms = if seconds {
        amount
            .checked_mul(1000)
            .ok_or_else(|| invalid_expire(&command))?
    } else {
        amount
    };
    let clock = unix_ms(now);
    let absolute = name.ends_with("AT");
    // The expiry as a Unix time in milliseconds.
    let when = if absolute {
        ms
    } else {
        ms.checked_add(clock)
            .ok_or_else(|| invalid_expire(&command))?
    };
    let ks = ctx.ks();
    let Some(entry) = ks.live(&a[0], now) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expires.map(unix_ms);
    let allowed = (!nx || current.is_none())
        && (!xx || current.is_some())
        && (!gt || current.is_some_and(|c| when > c))
        && (!lt || current.is_none_or(|c| when < c));
    if !allowed {
        return Ok(Reply::Int(0));
    }
    if when <= clock {
        // A time to live in the past deletes the key, as in Redis.
        ks.remove(&a[0], now);
    } else {
        let at = if absolute {
            deadline_at(when, now, &command)?
        } else {
            deadline_after(ms, now, &command)?
        };
        if let Some(entry) = ks.live(&a[0], now) {
            entry.expires = Some(at);
        }
        ks.touch(&a[0]);
    }
    Ok(Reply::Int(1))
}

/// Parses a `SCAN` cursor like Redis's `strtoul`: an optional sign, decimal digits (none at
/// all reads as 0), nothing else, within 64 bits; `-n` wraps around as in C.
pub(super) fn cursor_arg(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || err("invalid cursor");
    let (negative, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if arg.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let value: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(invalid)?;
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// The options of `SCAN`, `HSCAN` and `SSCAN`: `MATCH pattern`, `COUNT n` and (`SCAN` only)
/// `TYPE t`, in any order, the last of each winning.
pub(super) struct ScanOptions {
    pub(super) pattern: Option<Bytes>,
    pub(super) count: usize,
    pub(super) type_name: Option<Bytes>,
}

impl ScanOptions {
    pub(super) fn parse(a: &[Bytes], allow_type: bool) -> Result<ScanOptions, CmdError> {
        let mut options = ScanOptions {
            pattern: None,
            count: 10,
            type_name: None,
        };
        let mut i = 0;
        while i < a.len() {
            let value = a.get(i + 1).ok_or(CmdError::Syntax)?;
            if is(&a[i], "COUNT") {
                let count = int_arg(value)?;
                if count < 1 {
                    return Err(CmdError::Syntax);
                }
                options.count = usize::try_from(count).unwrap_or(usize::MAX);
            } else if is(&a[i], "MATCH") {
                options.pattern = Some(value.clone()).filter(|p| p != b"*");
            } else if is(&a[i], "TYPE") && allow_type {
                options.type_name = Some(value.clone());
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(options)
    }

    pub(super) fn matches(&self, name: &[u8]) -> bool {
        self.pattern.as_ref().is_none_or(|p| glob_match(p, name))
    }
}

/// The reply of the `SCAN` family: `[cursor, [items...]]`.
pub(super) fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(cursor.to_string().into_bytes()),
        Reply::Array(items),
    ])
}

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]`.
fn scan(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let cursor = cursor_arg(&a[0])?;
    let options = ScanOptions::parse(&a[1..], true)?;
    let ks = ctx.ks();
    let (next, page) = ks.scan(cursor, options.count, now);
    let items = page
        .into_iter()
        .filter(|k| options.matches(k))
        .filter(|k| {
            options.type_name.as_ref().is_none_or(|t| {
                ks.live(k, now)
                    .is_some_and(|e| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
            })
        })
        .map(Reply::Bulk)
        .collect();
    Ok(scan_reply(next, items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, bulk, bulks, error};

    #[test]
    fn keys_family() {
        let mut h = Harness::new();
        for line in [
            "SET user:1 a",
            "SET user:2 b",
            "SET user:10 c",
            "RPUSH q x",
            "HSET h f v",
            "SADD s m",
        ] {
            h.run(line);
        }
        assert_eq!(h.run("KEYS user:?"), bulks(&["user:1", "user:2"]));
        assert_eq!(
            h.run("KEYS *"),
            bulks(&["h", "q", "s", "user:1", "user:10", "user:2"])
        );
        assert_eq!(h.run("KEYS user:[^1]*"), bulks(&["user:2"]));
        assert_eq!(h.run("EXISTS user:1 user:1 nope"), Reply::Int(2));
        assert_eq!(h.run("TOUCH user:1 nope"), Reply::Int(1));
        assert_eq!(h.run("TYPE user:1"), Reply::Simple("string"));
        assert_eq!(h.run("TYPE q"), Reply::Simple("list"));
        assert_eq!(h.run("TYPE h"), Reply::Simple("hash"));
        assert_eq!(h.run("TYPE s"), Reply::Simple("set"));
        assert_eq!(h.run("TYPE nope"), Reply::Simple("none"));
        assert_eq!(h.run("DBSIZE"), Reply::Int(6));
        assert_eq!(h.run("DEL user:1 user:2 nope"), Reply::Int(2));
        assert_eq!(h.run("DBSIZE"), Reply::Int(4));
        assert_eq!(h.run("FLUSHDB"), Reply::OK);
        assert_eq!(h.run("DBSIZE"), Reply::Int(0));
        assert_eq!(h.run("RANDOMKEY"), Reply::Nil);
        h.run("SET only 1");
        assert_eq!(h.run("RANDOMKEY"), bulk("only"));
        assert_eq!(h.run("FLUSHALL NOW"), error("ERR syntax error"));
    }

    #[test]
    fn rename_moves_value_and_ttl() {
        let mut h = Harness::new();
        assert_eq!(h.run("RENAME nope x"), error("ERR no such key"));
        assert_eq!(h.run("RENAMENX nope x"), error("ERR no such key"));
        h.run("SET a 1 EX 100");
        assert_eq!(h.run("RENAME a a"), Reply::OK);
        assert_eq!(h.run("RENAMENX a a"), Reply::Int(0));
        h.run("RPUSH l x");
        assert_eq!(h.run("RENAME a l"), Reply::OK, "overwrites any type");
        assert_eq!(h.run("GET l"), bulk("1"));
        assert_eq!(h.run("TTL l"), Reply::Int(100));
        assert_eq!(h.run("EXISTS a"), Reply::Int(0));
        h.run("SET b 2");
        assert_eq!(h.run("RENAMENX l b"), Reply::Int(0));
        assert_eq!(h.run("RENAMENX l c"), Reply::Int(1));
        assert_eq!(h.run("KEYS *"), bulks(&["b", "c"]));
    }

    #[test]
    fn expiry_is_lazy_and_honoured_everywhere() {
        let mut h = Harness::new();
        assert_eq!(h.run("SET k v PX 100"), Reply::OK);
        h.run("SET forever v");
        assert_eq!(h.run("PTTL k"), Reply::Int(100));
        assert_eq!(h.run("TTL k"), Reply::Int(0));
        assert_eq!(h.run("TTL forever"), Reply::Int(-1));
        assert_eq!(h.run("TTL nope"), Reply::Int(-2));
        assert_eq!(h.run("EXPIRETIME forever"), Reply::Int(-1));
        assert_eq!(h.run("PEXPIRETIME nope"), Reply::Int(-2));
        h.advance(99);
        assert_eq!(h.run("GET k"), bulk("v"));
        h.advance(1);
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
        assert_eq!(h.run("KEYS *"), bulks(&["forever"]));
        assert_eq!(h.run("DBSIZE"), Reply::Int(1));
        assert_eq!(h.run("GET k"), Reply::Nil);
        assert_eq!(h.run("TTL k"), Reply::Int(-2));

        // Expired lists vanish too, and INCR on an expired key starts from zero.
        h.run("RPUSH q a");
        h.run("PEXPIRE q 10");
        h.run("SET n 5 EX 1");
        h.advance(1000);
        assert_eq!(h.run("LLEN q"), Reply::Int(0));
        assert_eq!(h.run("INCR n"), Reply::Int(1));
        assert_eq!(h.run("TTL n"), Reply::Int(-1));

        // INCR keeps a TTL; SET clears it unless KEEPTTL.
        h.run("SET c 1 EX 100");
        h.run("INCR c");
        assert_eq!(h.run("TTL c"), Reply::Int(100));
        h.run("SET c 1 KEEPTTL");
        assert_eq!(h.run("TTL c"), Reply::Int(100));
        h.run("SET c 1");
        assert_eq!(h.run("TTL c"), Reply::Int(-1));
    }

    #[test]
    fn expire_options_and_persist() {
        let mut h = Harness::new();
        assert_eq!(h.run("EXPIRE nope 10"), Reply::Int(0));
        h.run("SET k v");
        assert_eq!(h.run("EXPIRE k 10 XX"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 10 NX"), Reply::Int(1));
        assert_eq!(h.run("EXPIRE k 20 NX"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 5 GT"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 50 GT"), Reply::Int(1));
        assert_eq!(h.run("EXPIRE k 60 LT"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 30 LT"), Reply::Int(1));
        assert_eq!(h.run("TTL k"), Reply::Int(30));
        assert_eq!(h.run("PERSIST k"), Reply::Int(1));
        assert_eq!(h.run("PERSIST k"), Reply::Int(0));
        assert_eq!(h.run("TTL k"), Reply::Int(-1));
        assert_eq!(
            h.run("EXPIRE k 10 NX XX"),
            error("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            h.run("EXPIRE k 10 GT LT"),
            error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            h.run("EXPIRE k x FOO"),
            error("ERR Unsupported option FOO"),
            "options are checked first"
        );
        assert_eq!(h.run("EXPIRE k x"), error(NOT_INT));
        assert_eq!(
            h.run("EXPIRE k 9223372036854775807"),
            error("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            h.run("PEXPIRE k 9223372036854775807"),
            error("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(h.run("EXPIREAT k 99999999999"), Reply::Int(1));
        assert!(matches!(h.run("EXPIRETIME k"), Reply::Int(99_999_999_999)));
        assert_eq!(h.run("PEXPIREAT k 1"), Reply::Int(1), "a past time deletes");
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
        h.run("SET k v");
        assert_eq!(h.run("EXPIRE k 0"), Reply::Int(1), "a past TTL deletes");
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        for (text, expected) in [
            ("0", Some(0)),
            ("", Some(0)),
            ("+5", Some(5)),
            ("-1", Some(u64::MAX)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("x", None),
            (" 1", None),
            ("1 ", None),
            ("-", None),
        ] {
            assert_eq!(cursor_arg(text.as_bytes()).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn scan_visits_every_key_once_while_keys_come_and_go() {
        let mut h = Harness::new();
        for i in 0..100 {
            h.run(&format!("SET key:{i} v"));
        }
        h.run("RPUSH list x");
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = "0".to_owned();
        let mut pages = 0;
        loop {
            let Reply::Array(reply) = h.run(&format!("SCAN {cursor} COUNT 7 MATCH key:*")) else {
                panic!("SCAN replies an array");
            };
            let [Reply::Bulk(next), Reply::Array(keys)] = reply.as_slice() else {
                panic!("SCAN replies [cursor, keys]");
            };
            for key in keys {
                let Reply::Bulk(key) = key else { panic!() };
                assert!(seen.insert(key.clone()), "{} seen twice", lossy(key));
            }
            // Churn: keys that come and go during the scan must not hide the others.
            h.run(&format!("SET extra:{pages} v"));
            h.run(&format!("DEL key:{}", 99 - pages));
            pages += 1;
            cursor = lossy(next);
            if cursor == "0" {
                break;
            }
        }
        assert!(pages > 5, "COUNT 7 pages through 100 keys: {pages} pages");
        for i in 0..100 - pages {
            assert!(
                seen.contains(format!("key:{i}").as_bytes()),
                "key:{i} missed"
            );
        }
        assert_eq!(
            h.run("SCAN 0 TYPE list COUNT 1000"),
            Reply::Array(vec![bulk("0"), bulks(&["list"])])
        );
        assert_eq!(h.run("SCAN x"), error("ERR invalid cursor"));
        assert_eq!(h.run("SCAN 0 COUNT 0"), error("ERR syntax error"));
        assert_eq!(h.run("SCAN 0 COUNT x"), error(NOT_INT));
        assert_eq!(h.run("SCAN 0 MATCH"), error("ERR syntax error"));
    }
}
