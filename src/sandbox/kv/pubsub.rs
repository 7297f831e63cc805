//! Pub/sub: `SUBSCRIBE`, `PSUBSCRIBE`, their `UN` forms, `PUBLISH`, `PUBSUB`.
//!
//! A published message goes into each receiver's outbox in [`PubSub`] (under the state lock)
//! and the receiver's executor thread is woken with [`Incoming::Wake`] to write it. An
//! executor also empties its outbox, in the same critical section, before the reply to any
//! command, so messages and replies reach the client in the order they happened.
//!
//! A subscriber that stops reading keeps at most [`OUTBOX_MAX`] messages waiting; later ones
//! are dropped (Redis disconnects such a client once its output buffer passes 32 MB).

use std::collections::HashMap;
use std::sync::mpsc::SyncSender;

use super::command::{CmdError, Ctx, err, no_handler};
use super::keyspace::glob_match;
use super::protocol::Reply;
use super::server::Incoming;
use super::{Bytes, lossy};

/// Messages kept for one subscriber that is not reading.
const OUTBOX_MAX: usize = 65_536;

/// Who listens to what, and the messages not yet written.
#[derive(Debug, Default)]
pub(super) struct PubSub {
    /// Channel -> subscribed connections.
    channels: HashMap<Bytes, Vec<u64>>,
    /// (pattern, connection), in subscription order.
    patterns: Vec<(Bytes, u64)>,
    outbox: HashMap<u64, Vec<Reply>>,
    /// Each connection's way to wake its executor.
    wakers: HashMap<u64, SyncSender<Incoming>>,
}

impl PubSub {
    pub(super) fn add_waker(&mut self, conn: u64, waker: SyncSender<Incoming>) {
        self.wakers.insert(conn, waker);
    }

    pub(super) fn remove_waker(&mut self, conn: u64) {
        self.wakers.remove(&conn);
    }

    /// The messages for `conn` not written yet.
    pub(super) fn take_outbox(&mut self, conn: u64) -> Vec<Reply> {
        if self.outbox.is_empty() {
            return Vec::new();
        }
        self.outbox.remove(&conn).unwrap_or_default()
    }

    /// Forgets every subscription of `conn` (it reset or disconnected).
    pub(super) fn remove_conn(&mut self, conn: u64) {
        self.channels.retain(|_, conns| {
            conns.retain(|&c| c != conn);
            !conns.is_empty()
        });
        self.patterns.retain(|&(_, c)| c != conn);
        self.outbox.remove(&conn);
    }

    fn deliver(&mut self, conn: u64, message: Reply) {
        let outbox = self.outbox.entry(conn).or_default();
        if outbox.len() >= OUTBOX_MAX {
            return;
        }
        outbox.push(message);
        if let Some(waker) = self.wakers.get(&conn) {
            // A full queue means the executor has commands to run, and it empties the outbox
            // before each reply anyway.
            let _ = waker.try_send(Incoming::Wake);
        }
    }

    /// `PUBLISH`: the number of receivers.
    fn publish(&mut self, channel: &[u8], message: &[u8]) -> usize {
        let direct: Vec<u64> = self.channels.get(channel).cloned().unwrap_or_default();
        for &conn in &direct {
            self.deliver(
                conn,
                Reply::Array(vec![
                    Reply::bulk(b"message"),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ]),
            );
        }
        let by_pattern: Vec<(Bytes, u64)> = self
            .patterns
            .iter()
            .filter(|(p, _)| glob_match(p, channel))
            .cloned()
            .collect();
        for (pattern, conn) in &by_pattern {
            self.deliver(
                *conn,
                Reply::Array(vec![
                    Reply::bulk(b"pmessage"),
                    Reply::bulk(pattern),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ]),
            );
        }
        direct.len() + by_pattern.len()
    }
}

fn confirmation(kind: &[u8], name: Option<&Bytes>, count: usize) -> Reply {
    Reply::Array(vec![
        Reply::bulk(kind),
        name.map_or(Reply::Nil, |n| Reply::Bulk(n.clone())),
        Reply::count(count),
    ])
}

pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let conn = ctx.session.id;
    let session = &mut *ctx.session;
    let pubsub = &mut *ctx.pubsub;
    Ok(match name {
        "PUBLISH" => Reply::count(pubsub.publish(&a[0], &a[1])),
        "SUBSCRIBE" => {
            let mut replies = Vec::new();
            for channel in a {
                if !session.channels.contains(channel) {
                    session.channels.push(channel.clone());
                    pubsub
                        .channels
                        .entry(channel.clone())
                        .or_default()
                        .push(conn);
                }
                replies.push(confirmation(
                    b"subscribe",
                    Some(channel),
                    session.subscriptions(),
                ));
            }
            Reply::Many(replies)
        }
        "PSUBSCRIBE" => {
            let mut replies = Vec::new();
            for pattern in a {
                if !session.patterns.contains(pattern) {
                    session.patterns.push(pattern.clone());
                    pubsub.patterns.push((pattern.clone(), conn));
                }
                replies.push(confirmation(
                    b"psubscribe",
                    Some(pattern),
                    session.subscriptions(),
                ));
            }
            Reply::Many(replies)
        }
        "UNSUBSCRIBE" => {
            let names = if a.is_empty() {
                session.channels.clone()
            } else {
                a.to_vec()
            };
            if names.is_empty() {
                return Ok(confirmation(b"unsubscribe", None, session.subscriptions()));
            }
            let mut replies = Vec::new();
            for channel in &names {
                if let Some(i) = session.channels.iter().position(|c| c == channel) {
                    session.channels.remove(i);
                    if let Some(conns) = pubsub.channels.get_mut(channel) {
                        conns.retain(|&c| c != conn);
                        if conns.is_empty() {
                            pubsub.channels.remove(channel);
                        }
                    }
                }
                replies.push(confirmation(
                    b"unsubscribe",
                    Some(channel),
                    session.subscriptions(),
                ));
            }
            Reply::Many(replies)
        }
        "PUNSUBSCRIBE" => {
            let names = if a.is_empty() {
                session.patterns.clone()
            } else {
                a.to_vec()
            };
            if names.is_empty() {
                return Ok(confirmation(b"punsubscribe", None, session.subscriptions()));
            }
            let mut replies = Vec::new();
            for pattern in &names {
                if let Some(i) = session.patterns.iter().position(|p| p == pattern) {
                    session.patterns.remove(i);
                    pubsub
                        .patterns
                        .retain(|(p, c)| !(p == pattern && *c == conn));
                }
                replies.push(confirmation(
                    b"punsubscribe",
                    Some(pattern),
                    session.subscriptions(),
                ));
            }
            Reply::Many(replies)
        }
        "PUBSUB" => {
            let sub = a[0].to_ascii_uppercase();
            let arity = |ok: bool| {
                if ok {
                    Ok(())
                } else {
                    Err(CmdError::Arity(format!(
                        "pubsub|{}",
                        lossy(&sub).to_ascii_lowercase()
                    )))
                }
            };
            match sub.as_slice() {
                b"CHANNELS" => {
                    if a.len() > 2 {
                        return Err(err(format!(
                            "unknown subcommand or wrong number of arguments for '{}'. Try \
                             PUBSUB HELP.",
                            lossy(&a[0])
                        )));
                    }
                    let mut names: Vec<&Bytes> = pubsub
                        .channels
                        .keys()
                        .filter(|c| a.get(1).is_none_or(|p| glob_match(p, c)))
                        .collect();
                    names.sort();
                    Reply::Array(names.into_iter().map(|c| Reply::Bulk(c.clone())).collect())
                }
                b"NUMSUB" => Reply::Array(
                    a[1..]
                        .iter()
                        .flat_map(|c| {
                            let n = pubsub.channels.get(c).map_or(0, Vec::len);
                            [Reply::Bulk(c.clone()), Reply::count(n)]
                        })
                        .collect(),
                ),
                b"NUMPAT" => {
                    arity(a.len() == 1)?;
                    let mut distinct: Vec<&Bytes> =
                        pubsub.patterns.iter().map(|(p, _)| p).collect();
                    distinct.sort();
                    distinct.dedup();
                    Reply::count(distinct.len())
                }
                _ => {
                    return Err(err(format!(
                        "unknown subcommand '{}'. Try PUBSUB HELP.",
                        lossy(&a[0])
                    )));
                }
            }
        }
        _ => return Err(no_handler(name)),
    })
}
