//! The hash commands: `HSET`, `HGET`, `HGETALL`, `HDEL`, `HINCRBY`, `HINCRBYFLOAT`, `HSCAN`, ...
//! Fields come back in insertion order, as from a small Redis hash.

use super::Bytes;
use super::command::{CmdError, Ctx, err, int_arg, no_handler};
use super::float::LongDouble;
use super::keys::{ScanOptions, cursor_arg, scan_reply};
use super::protocol::{Reply, parse_i64};

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    let key = &a[0];
    let bulk_or_nil = |v: Option<&Bytes>| v.map_or(Reply::Nil, |v| Reply::Bulk(v.clone()));
    Ok(match name {
        "HSET" | "HMSET" => {
            if (a.len() - 1) % 2 != 0 {
                return Err(CmdError::Arity(name.to_ascii_lowercase()));
            }
            let hash = ks.hash_or_new(key, now)?;
            let added = a[1..]
                .chunks_exact(2)
                .filter(|pair| hash.insert(&pair[0], pair[1].clone()))
                .count();
            ks.touch(key);
            if name == "HSET" {
                Reply::count(added)
            } else {
                Reply::OK
            }
        }
        "HSETNX" => {
            let hash = ks.hash_or_new(key, now)?;
            let fresh = !hash.contains(&a[1]);
            if fresh {
                hash.insert(&a[1], a[2].clone());
                ks.touch(key);
            }
            Reply::bool(fresh)
        }
        "HGET" => bulk_or_nil(ks.hash(key, now)?.and_then(|h| h.get(&a[1]))),
        "HMGET" => {
            let hash = ks.hash(key, now)?;
            Reply::Array(
                a[1..]
                    .iter()
                    .map(|f| bulk_or_nil(hash.as_ref().and_then(|h| h.get(f))))
                    .collect(),
            )
        }
        "HGETALL" | "HKEYS" | "HVALS" => {
            let Some(hash) = ks.hash(key, now)? else {
                return Ok(Reply::Array(Vec::new()));
            };
            let mut items = Vec::new();
            for (field, value) in hash.iter() {
                if name != "HVALS" {
                    items.push(Reply::Bulk(field.clone()));
                }
                if name != "HKEYS" {
                    items.push(Reply::Bulk(value.clone()));
                }
            }
            Reply::Array(items)
        }
        "HLEN" => Reply::count(ks.hash(key, now)?.map_or(0, |h| h.len())),
        "HEXISTS" => Reply::bool(ks.hash(key, now)?.is_some_and(|h| h.contains(&a[1]))),
        "HSTRLEN" => Reply::count(
            ks.hash(key, now)?
                .and_then(|h| h.get(&a[1]))
                .map_or(0, Vec::len),
        ),
        "HDEL" => {
            let Some(hash) = ks.hash(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let removed = a[1..].iter().filter(|f| hash.remove(f)).count();
            if removed > 0 {
                ks.touch(key);
            }
            ks.drop_if_empty(key);
            Reply::count(removed)
        }
        "HINCRBY" => {
            let by = int_arg(&a[2])?;
            let hash = ks.hash_or_new(key, now)?;
            let outcome = match hash.get(&a[1]) {
                Some(v) => parse_i64(v).ok_or_else(|| err("hash value is not an integer")),
                None => Ok(0),
            }
            .and_then(|value| {
                value
                    .checked_add(by)
                    .ok_or_else(|| err("increment or decrement would overflow"))
            });
            let value = match outcome {
                Ok(value) => value,
                Err(e) => {
                    ks.drop_if_empty(key);
                    return Err(e);
                }
            };
            hash.insert(&a[1], value.to_string().into_bytes());
            ks.touch(key);
            Reply::Int(value)
        }
        "HINCRBYFLOAT" => {
            let by = LongDouble::parse(&a[2]).ok_or(CmdError::NotFloat)?;
            if !by.is_finite() {
                return Err(err("value is NaN or Infinity"));
            }
            let hash = ks.hash_or_new(key, now)?;
            let outcome = match hash.get(&a[1]) {
                Some(v) => LongDouble::parse(v).ok_or_else(|| err("hash value is not a float")),
                None => Ok(LongDouble::ZERO),
            }
            .and_then(|value| {
                value
                    .add(by)
                    .filter(|sum| sum.is_finite())
                    .ok_or_else(|| err("increment would produce NaN or Infinity"))
            });
            let sum = match outcome {
                Ok(sum) => sum.to_human().into_bytes(),
                Err(e) => {
                    ks.drop_if_empty(key);
                    return Err(e);
                }
            };
            hash.insert(&a[1], sum.clone());
            ks.touch(key);
            Reply::Bulk(sum)
        }
        "HSCAN" => {
            cursor_arg(&a[1])?;
            let Some(hash) = ks.hash(key, now)? else {
                return Ok(scan_reply(0, Vec::new()));
            };
            let options = ScanOptions::parse(&a[2..], false)?;
            // A whole small hash in one page, as Redis answers for one.
            let items = hash
                .iter()
                .filter(|(f, _)| options.matches(f))
                .flat_map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())])
                .collect();
            scan_reply(0, items)
        }
        _ => return Err(no_handler(name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, WRONGTYPE, bulk, bulks, error};

    #[test]
    fn hashes() {
        let mut h = Harness::new();
        assert_eq!(h.run("HSET h b 2 a 1"), Reply::Int(2));
        assert_eq!(h.run("HSET h b 20 c 3"), Reply::Int(1));
        assert_eq!(h.run("HGET h b"), bulk("20"));
        assert_eq!(h.run("HGET h nope"), Reply::Nil);
        assert_eq!(h.run("HGET nope a"), Reply::Nil);
        assert_eq!(
            h.run("HGETALL h"),
            bulks(&["b", "20", "a", "1", "c", "3"]),
            "insertion order"
        );
        assert_eq!(h.run("HKEYS h"), bulks(&["b", "a", "c"]));
        assert_eq!(h.run("HVALS h"), bulks(&["20", "1", "3"]));
        assert_eq!(
            h.run("HMGET h a nope"),
            Reply::Array(vec![bulk("1"), Reply::Nil])
        );
        assert_eq!(h.run("HLEN h"), Reply::Int(3));
        assert_eq!(h.run("HEXISTS h b"), Reply::Int(1));
        assert_eq!(h.run("HSTRLEN h b"), Reply::Int(2));
        assert_eq!(h.run("HSTRLEN h nope"), Reply::Int(0));
        assert_eq!(h.run("HINCRBY h a 5"), Reply::Int(6));
        assert_eq!(h.run("HINCRBY h new -2"), Reply::Int(-2));
        assert_eq!(h.run("HINCRBY h a x"), error(NOT_INT));
        h.run("HSET h text abc");
        assert_eq!(
            h.run("HINCRBY h text 1"),
            error("ERR hash value is not an integer")
        );
        assert_eq!(h.run("HDEL h b nope"), Reply::Int(1));
        assert_eq!(h.run("HKEYS h"), bulks(&["a", "c", "new", "text"]));
        assert_eq!(h.run("HSETNX h c 99"), Reply::Int(0));
        assert_eq!(h.run("HSETNX fresh f v"), Reply::Int(1), "on a missing key");
        assert_eq!(h.run("HMSET h2 f v"), Reply::OK);
        assert_eq!(h.run("HDEL h2 f"), Reply::Int(1));
        assert_eq!(
            h.run("EXISTS h2"),
            Reply::Int(0),
            "an emptied hash is deleted"
        );
        assert_eq!(h.run("HGETALL h2"), bulks(&[]));
        assert_eq!(
            h.run("HSET h a"),
            error("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            h.run("HSET h a 1 b"),
            error("ERR wrong number of arguments for 'hset' command")
        );
        h.run("SET s x");
        assert_eq!(h.run("HSET s f v"), error(WRONGTYPE));
        assert_eq!(h.run("HGETALL s"), error(WRONGTYPE));
    }

    #[test]
    fn float_increments_and_scan() {
        let mut h = Harness::new();
        assert_eq!(h.run("HINCRBYFLOAT h f 0.1"), bulk("0.1"));
        assert_eq!(h.run("HINCRBYFLOAT h f 0.2"), bulk("0.3"));
        assert_eq!(
            h.run("HINCRBYFLOAT h f inf"),
            error("ERR value is NaN or Infinity")
        );
        assert_eq!(
            h.run("HINCRBYFLOAT h f x"),
            error("ERR value is not a valid float")
        );
        h.run("HSET h s abc");
        assert_eq!(
            h.run("HINCRBYFLOAT h s 1"),
            error("ERR hash value is not a float")
        );
        assert_eq!(
            h.run("HINCRBYFLOAT nope f 1e5000"),
            error("ERR value is not a valid float")
        );
        assert_eq!(h.run("EXISTS nope"), Reply::Int(0));
        assert_eq!(
            h.run("HSCAN h 0"),
            Reply::Array(vec![bulk("0"), bulks(&["f", "0.3", "s", "abc"])])
        );
        assert_eq!(
            h.run("HSCAN h 0 MATCH s*"),
            Reply::Array(vec![bulk("0"), bulks(&["s", "abc"])])
        );
        assert_eq!(h.run("HSCAN h 0 TYPE string"), error("ERR syntax error"));
        assert_eq!(h.run("HSCAN h x"), error("ERR invalid cursor"));
        assert_eq!(
            h.run("HSCAN nope 0"),
            Reply::Array(vec![bulk("0"), bulks(&[])])
        );
    }
}
