//! Connection and server commands: `PING`, `ECHO`, `SELECT`, `CLIENT`, `INFO`, `COMMAND`,
//! `CONFIG GET`, `HELLO`, `AUTH`, `TIME`, and `WATCH` / `UNWATCH` (the rest of transactions
//! is in [`super::connection`]).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::command::{COMMANDS, CmdError, Ctx, err, int_arg, no_handler};
use super::connection::ReplyMode;
use super::protocol::{Reply, parse_i64};
use super::{Bytes, DATABASES, VERSION, lossy};

/// `WATCH key...` (refused inside `MULTI` by the connection) and `UNWATCH`.
pub(super) fn watch_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let (conn, db, now) = (ctx.session.id, ctx.session.db, ctx.now);
    match name {
        "WATCH" => {
            for key in a {
                ctx.store.dbs[db].watch(key, conn, now);
                if !ctx
                    .session
                    .watching
                    .iter()
                    .any(|(d, k)| *d == db && k == key)
                {
                    ctx.session.watching.push((db, key.clone()));
                }
            }
        }
        "UNWATCH" => {
            ctx.store.unwatch(conn, &ctx.session.watching);
            ctx.session.watching.clear();
        }
        _ => return Err(no_handler(name)),
    }
    Ok(Reply::OK)
}

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    Ok(match name {
        "PING" => match (a, ctx.session.subscribed()) {
            ([], false) => Reply::Simple("PONG"),
            ([msg], false) => Reply::Bulk(msg.clone()),
            // A subscribed RESP2 client gets pings in the shape of messages.
            ([], true) => Reply::Array(vec![Reply::bulk(b"pong"), Reply::bulk(b"")]),
            ([msg], true) => Reply::Array(vec![Reply::bulk(b"pong"), Reply::Bulk(msg.clone())]),
            _ => return Err(CmdError::Arity("ping".into())),
        },
        "ECHO" => Reply::Bulk(a[0].clone()),
        "SELECT" => {
            let db = int_arg(&a[0])?;
            let db = usize::try_from(db)
                .ok()
                .filter(|&db| db < DATABASES)
                .ok_or_else(|| err("DB index is out of range"))?;
            ctx.session.db = db;
            Reply::OK
        }
        "CLIENT" => client(ctx, a)?,
        "INFO" => {
            let mut info = format!(
                "# Server\r\nredis_version:{VERSION}\r\nredis_mode:standalone\r\n\
                 executable:twelve (built-in store)\r\ntcp_port:{}\r\n\r\n\
                 # Clients\r\nblocked_clients:{}\r\n\r\n# Keyspace\r\n",
                ctx.session.port, ctx.blocked
            );
            let now = ctx.now;
            for (i, ks) in ctx.store.dbs.iter_mut().enumerate() {
                let keys = ks.len(now);
                if keys > 0 {
                    let expires = ks.volatile_len(now);
                    let _ = write!(info, "db{i}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
            Reply::Bulk(info.into_bytes())
        }
        "COMMAND" => match a.first().map(|s| s.to_ascii_uppercase()).as_deref() {
            Some(b"COUNT") => Reply::count(COMMANDS.len()),
            _ => Reply::Array(Vec::new()),
        },
        "CONFIG" => match (a[0].to_ascii_uppercase().as_slice(), a.get(1)) {
            (b"GET", Some(param)) => {
                let value: &[u8] = match param.to_ascii_lowercase().as_slice() {
                    b"databases" => b"16",
                    b"save" => b"",
                    b"appendonly" => b"no",
                    _ => return Ok(Reply::Array(Vec::new())),
                };
                Reply::Array(vec![
                    Reply::Bulk(param.to_ascii_lowercase()),
                    Reply::Bulk(value.to_vec()),
                ])
            }
            _ => return Err(err("the built-in store only supports CONFIG GET")),
        },
        "HELLO" => hello(ctx, a)?,
        "AUTH" => match a {
            [_] => {
                return Err(err(
                    "AUTH <password> called without any password configured for the default \
                     user. Are you sure your configuration is correct?",
                ));
            }
            [user, _] => auth(user)?,
            _ => return Err(CmdError::Syntax),
        },
        "TIME" => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            Reply::Array(vec![
                Reply::Bulk(now.as_secs().to_string().into_bytes()),
                Reply::Bulk(now.subsec_micros().to_string().into_bytes()),
            ])
        }
        _ => return Err(no_handler(name)),
    })
}

/// `AUTH user password`: the store has Redis's one passwordless user, `default`.
fn auth(user: &[u8]) -> Result<Reply, CmdError> {
    if user == b"default" {
        Ok(Reply::OK)
    } else {
        Err(CmdError::Coded(
            "WRONGPASS invalid username-password pair or user is disabled.".into(),
        ))
    }
}

/// `HELLO [2 [AUTH user password] [SETNAME name]]`: RESP3 is not spoken.
fn hello(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    if let Some(version) = a.first() {
        match parse_i64(version) {
            Some(2) => {}
            Some(_) => {
                return Err(CmdError::Coded(
                    "NOPROTO unsupported protocol version".into(),
                ));
            }
            None => return Err(err("Protocol version is not an integer or out of range")),
        }
    }
    let (mut user, mut name) = (None, None);
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if a[i].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            user = Some(&a[i + 1]);
            i += 3;
        } else if a[i].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(&a[i + 1]);
            i += 2;
        } else {
            return Err(err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(&a[i])
            )));
        }
    }
    if let Some(user) = user {
        auth(user)?;
    }
    if let Some(name) = name {
        set_name(ctx, name)?;
    }
    let text = |s: &str| Reply::Bulk(s.as_bytes().to_vec());
    Ok(Reply::Array(vec![
        text("server"),
        text("redis"),
        text("version"),
        text(VERSION),
        text("proto"),
        Reply::Int(2),
        text("id"),
        Reply::Int(ctx.session.id as i64),
        text("mode"),
        text("standalone"),
        text("role"),
        text("master"),
        text("modules"),
        Reply::Array(Vec::new()),
    ]))
}

/// `CLIENT SETNAME`'s rules: printable ASCII without spaces; empty clears the name.
fn set_name(ctx: &mut Ctx, name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.session.name = Some(name.to_vec()).filter(|n| !n.is_empty());
    Ok(())
}

/// `CLIENT` and the subcommands of Redis 7.0 a client library sends.
fn client(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let sub = a[0].to_ascii_uppercase();
    // Each subcommand's arity, counting `CLIENT` and the subcommand, as in Redis.
    let arity: i32 = match sub.as_slice() {
        b"SETNAME" | b"REPLY" | b"NO-EVICT" => 3,
        b"GETNAME" | b"ID" | b"INFO" => 2,
        b"LIST" => -2,
        _ => {
            return Err(err(format!(
                "unknown subcommand '{}'. Try CLIENT HELP.",
                lossy(&a[0])
            )));
        }
    };
    let argc = a.len() as i32 + 1;
    if (arity > 0 && argc != arity) || argc < arity.abs() {
        return Err(CmdError::Arity(format!(
            "client|{}",
            lossy(&sub).to_ascii_lowercase()
        )));
    }
    if sub == b"SETNAME" {
        set_name(ctx, &a[1])?;
        return Ok(Reply::OK);
    }
    let session = &mut *ctx.session;
    Ok(match sub.as_slice() {
        b"GETNAME" => session.name.clone().map_or(Reply::Nil, Reply::Bulk),
        b"ID" => Reply::Int(session.id as i64),
        b"INFO" | b"LIST" => Reply::Bulk(
            format!(
                "id={} addr={} name={} db={}\n",
                session.id,
                session.peer,
                lossy(session.name.as_deref().unwrap_or_default()),
                session.db
            )
            .into_bytes(),
        ),
        b"REPLY" => {
            session.reply = match a[1].to_ascii_uppercase().as_slice() {
                b"ON" => ReplyMode::On,
                b"OFF" => ReplyMode::Off,
                b"SKIP" => ReplyMode::SkipThis,
                _ => return Err(CmdError::Syntax),
            };
            Reply::OK
        }
        b"NO-EVICT" => match a[1].to_ascii_uppercase().as_slice() {
            b"ON" | b"OFF" => Reply::OK,
            _ => return Err(CmdError::Syntax),
        },
        _ => unreachable!("subcommands are checked above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::{Harness, NOT_INT, bulk, bulks, error};

    #[test]
    fn errors_match_redis() {
        let mut h = Harness::new();
        let Reply::Error(unknown) = h.run("FOO a b") else {
            panic!("an unknown command is an error")
        };
        assert!(
            unknown.starts_with("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "),
            "{unknown}"
        );
        assert!(unknown.contains("--store redis-server"), "{unknown}");
        assert_eq!(
            h.run("get"),
            error("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            h.run("PING a b"),
            error("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(
            h.run("LRANGE l 0"),
            error("ERR wrong number of arguments for 'lrange' command")
        );
    }

    #[test]
    fn select_isolates_databases() {
        let mut h = Harness::new();
        h.run("SET k zero");
        assert_eq!(h.run("SELECT 3"), Reply::OK);
        assert_eq!(h.run("GET k"), Reply::Nil);
        h.run("SET k three");
        assert_eq!(h.run("SELECT 0"), Reply::OK);
        assert_eq!(h.run("GET k"), bulk("zero"));
        assert_eq!(h.run("SELECT 16"), error("ERR DB index is out of range"));
        assert_eq!(h.run("SELECT -1"), error("ERR DB index is out of range"));
        assert_eq!(h.run("SELECT x"), error(NOT_INT));
        assert_eq!(h.state.store.dbs[3].keys(b"*", h.now), [b"k".to_vec()]);
        assert_eq!(h.run("FLUSHALL"), Reply::OK);
        assert_eq!(h.state.store.dbs[3].len(h.now), 0);
    }

    #[test]
    fn server_commands_answer_harmlessly() {
        let mut h = Harness::new();
        assert_eq!(h.run("PING"), Reply::Simple("PONG"));
        assert_eq!(h.run("ping hi"), bulk("hi"));
        assert_eq!(h.run("ECHO hello"), bulk("hello"));
        assert_eq!(h.run("CLIENT SETNAME worker-1"), Reply::OK);
        assert_eq!(h.run("CLIENT GETNAME"), bulk("worker-1"));
        assert_eq!(
            h.run("CLIENT SETINFO LIB-NAME redis-py"),
            error("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP."),
            "as Redis 7.0 answers (SETINFO came in 7.2)"
        );
        assert_eq!(h.run("CLIENT ID"), Reply::Int(1));
        assert!(matches!(h.run("CLIENT SETNAME \"a b\""), Reply::Error(_)));
        assert_eq!(
            h.run("CLIENT SETNAME"),
            error("ERR wrong number of arguments for 'client|setname' command")
        );
        assert_eq!(h.run("CLIENT NO-EVICT on"), Reply::OK);
        assert_eq!(h.run("CLIENT NO-EVICT maybe"), error("ERR syntax error"));
        assert_eq!(h.run("CLIENT REPLY FOO"), error("ERR syntax error"));
        assert_eq!(
            h.run("CLIENT FOO"),
            error("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
        );
        assert_eq!(h.run("COMMAND"), bulks(&[]));
        assert_eq!(h.run("COMMAND DOCS"), bulks(&[]));
        assert_eq!(h.run("CONFIG GET databases"), bulks(&["databases", "16"]));
        h.run("SET k v");
        h.run("SET t v EX 100");
        let Reply::Bulk(info) = h.run("INFO") else {
            panic!("INFO is a bulk string")
        };
        let info = lossy(&info);
        assert!(info.contains("redis_version:"), "{info}");
        assert!(info.contains("db0:keys=2,expires=1"), "{info}");
        assert!(matches!(h.run("HELLO 2"), Reply::Array(items) if items.len() == 14));
        assert_eq!(
            h.run("HELLO 3"),
            error("NOPROTO unsupported protocol version")
        );
    }
}
