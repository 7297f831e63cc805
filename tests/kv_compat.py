"""Exercises sandbox-apps/_shared/kv.py against a server: python3 tests/kv_compat.py URL

Run it against the built-in store and against a real redis-server: both must pass, which is
what lets a learner swap one for the other by changing REDIS_URL only. Needs kv.py on
PYTHONPATH. WARNING: flushes every database of the server it is pointed at.

Exits 0 when every check passes; otherwise prints each failing check and exits 1. Leaves these
keys behind for the caller to inspect: compat:left (string "behind"), compat:left:list
(["a", "b"]), compat:left:hash ({"f": "v"}) in db 0, and compat:db3 (string "three") in db 3.
"""

import sys
import threading
import time
import traceback
from urllib.parse import urlparse

from kv import KV, KVError

URL = sys.argv[1]
_u = urlparse(URL)
URL_DB3 = "redis://%s:%s/3" % (_u.hostname, _u.port)
URL_NO_DB = "redis://%s:%s" % (_u.hostname, _u.port)

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def eq(actual, expected, what=""):
    assert actual == expected, "%s: expected %r, got %r" % (what or "value", expected, actual)


def raises(fn, fragment):
    """fn() must raise KVError whose message contains fragment."""
    try:
        fn()
    except KVError as e:
        assert fragment in str(e), "expected an error containing %r, got %r" % (fragment, str(e))
        return
    raise AssertionError("expected KVError containing %r, nothing was raised" % fragment)


def eventually(condition, what, within=3.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.01)


kv = KV.from_url(URL)


@check
def flushall_and_ping():
    eq(kv.flushall(), True, "flushall")
    eq(kv.keys(), [], "keys after flushall")
    eq(kv.ping(), True, "ping")


@check
def url_parsing():
    eq((kv.host, kv.port, kv.db), (_u.hostname, _u.port, 0), "host, port, db")
    eq(KV.from_url(URL_NO_DB).db, 0, "db without /db suffix")
    eq(KV.from_url(URL_DB3).db, 3, "db from /3 suffix")
    try:
        KV.from_url("http://localhost:6379")
    except ValueError:
        pass
    else:
        raise AssertionError("a non-redis URL must be refused")


@check
def strings():
    eq(kv.get("s:missing"), None, "get missing")
    eq(kv.set("s:a", "hello"), True, "set")
    eq(kv.get("s:a"), "hello", "get")
    eq(kv.set("s:int", 42), True, "set int")
    eq(kv.get("s:int"), "42", "ints are stored as text")
    eq(kv.set("s:utf8", "héllo ✓ 世界"), True, "set utf-8")
    eq(kv.get("s:utf8"), "héllo ✓ 世界", "utf-8 round trip")
    eq(kv.set("s:spaces", "a b\r\nc"), True, "set with CRLF inside")
    eq(kv.get("s:spaces"), "a b\r\nc", "binary-safe value")
    eq(kv.set("s:empty", ""), True, "set empty")
    eq(kv.get("s:empty"), "", "empty string is not None")
    eq(kv.exists("s:a"), True, "exists")
    eq(kv.exists("s:missing"), False, "exists missing")
    eq(kv.delete("s:a", "s:int", "s:missing"), 2, "delete counts removed keys")
    eq(kv.exists("s:a"), False, "deleted")


@check
def set_nx():
    eq(kv.set("nx:k", "first", nx=True), True, "nx on a missing key sets")
    eq(kv.set("nx:k", "second", nx=True), False, "nx on an existing key does not")
    eq(kv.get("nx:k"), "first", "value kept")
    eq(kv.set("nx:k", "third"), True, "plain set overwrites")
    eq(kv.get("nx:k"), "third", "overwritten")


@check
def counters():
    eq(kv.incr("c:n"), 1, "incr creates")
    eq(kv.incr("c:n", 5), 6, "incr by")
    eq(kv.incr("c:n", by=-2), 4, "incr negative")
    eq(kv.get("c:n"), "4", "counter as text")
    kv.set("c:text", "abc")
    raises(lambda: kv.incr("c:text"), "not an integer")


@check
def expiry_px():
    eq(kv.set("e:px", "v", px=150), True, "set px")
    eq(kv.get("e:px"), "v", "alive before px")
    eq(kv.ttl("e:px") in (0, 1), True, "ttl of a 150 ms key")
    eventually(lambda: kv.get("e:px") is None, "the px key to expire")
    eq(kv.exists("e:px"), False, "expired key does not exist")
    eq(kv.ttl("e:px"), -2, "ttl of a missing key")


@check
def expiry_ex_expire_ttl():
    eq(kv.set("e:ex", "v", ex=100), True, "set ex")
    eq(0 < kv.ttl("e:ex") <= 100, True, "ttl after ex=100")
    kv.set("e:plain", "v")
    eq(kv.ttl("e:plain"), -1, "ttl without expiry")
    eq(kv.expire("e:plain", 50), True, "expire")
    eq(0 < kv.ttl("e:plain") <= 50, True, "ttl after expire 50")
    eq(kv.expire("e:missing", 50), False, "expire on a missing key")
    kv.set("e:gone", "v", px=50)
    eventually(lambda: "e:gone" not in kv.keys("e:*"), "keys() to drop the expired key")


@check
def keys_glob():
    for k in ["g:hello", "g:hallo", "g:hxllo", "g:hllo", "g:heeello", "g:a*b", "g:a?b"]:
        kv.set(k, "1")
    cases = {
        "g:*": ["g:a*b", "g:a?b", "g:hallo", "g:heeello", "g:hello", "g:hllo", "g:hxllo"],
        "g:h?llo": ["g:hallo", "g:hello", "g:hxllo"],
        "g:h*llo": ["g:hallo", "g:heeello", "g:hello", "g:hllo", "g:hxllo"],
        "g:h[ae]llo": ["g:hallo", "g:hello"],
        "g:h[^e]llo": ["g:hallo", "g:hxllo"],
        "g:h[a-f]llo": ["g:hallo", "g:hello"],
        "g:a\\*b": ["g:a*b"],
        "g:a\\?b": ["g:a?b"],
        "nothing:*": [],
    }
    for pattern, expected in cases.items():
        eq(sorted(kv.keys(pattern)), expected, "keys(%r)" % pattern)
    eq("g:hello" in kv.keys(), True, "keys() defaults to *")


@check
def lists():
    eq(kv.rpush("l:a", "b", "c"), 2, "rpush returns the length")
    eq(kv.lpush("l:a", "a", "z"), 4, "lpush returns the length")
    eq(kv.lrange("l:a", 0, -1), ["z", "a", "b", "c"], "lrange all")
    eq(kv.lrange("l:a", -2, -1), ["b", "c"], "lrange negative")
    eq(kv.lrange("l:a", 1, 100), ["a", "b", "c"], "lrange past the end")
    eq(kv.lrange("l:missing", 0, -1), [], "lrange missing")
    eq(kv.llen("l:a"), 4, "llen")
    eq(kv.llen("l:missing"), 0, "llen missing")
    eq(kv.lpop("l:a"), "z", "lpop")
    eq(kv.rpop("l:a"), "c", "rpop")
    eq(kv.lpop("l:missing"), None, "lpop missing")
    eq(kv.rpop("l:missing"), None, "rpop missing")
    kv.rpush("l:r", "x", "a", "x", "b", "x")
    eq(kv.lrem("l:r", 1, "x"), 1, "lrem from the head")
    eq(kv.lrange("l:r", 0, -1), ["a", "x", "b", "x"], "after lrem 1")
    eq(kv.lrem("l:r", -1, "x"), 1, "lrem from the tail")
    eq(kv.lrange("l:r", 0, -1), ["a", "x", "b"], "after lrem -1")
    eq(kv.lrem("l:r", 0, "x"), 1, "lrem all")
    eq(kv.lrem("l:r", 0, "nope"), 0, "lrem nothing")


@check
def moves():
    kv.rpush("m:src", "1", "2", "3")
    eq(kv.lmove("m:src", "m:dst"), "3", "lmove defaults RIGHT -> LEFT")
    eq(kv.lmove("m:src", "m:dst", "LEFT", "RIGHT"), "1", "lmove LEFT -> RIGHT")
    eq(kv.lrange("m:dst", 0, -1), ["3", "1"], "dst after lmove")
    eq(kv.rpoplpush("m:src", "m:dst"), "2", "rpoplpush")
    eq(kv.lrange("m:dst", 0, -1), ["2", "3", "1"], "dst after rpoplpush")
    eq(kv.lmove("m:src", "m:dst"), None, "lmove from an empty list")
    eq(kv.rpoplpush("m:src", "m:dst"), None, "rpoplpush from an empty list")
    eq(kv.exists("m:src"), False, "an emptied list is gone")


@check
def blocking_pops_with_data_and_timeout():
    kv.rpush("b:q2", "x", "y")
    eq(kv.blpop(["b:q1", "b:q2"], timeout=1), ("b:q2", "x"), "blpop takes from the first non-empty key")
    eq(kv.brpop("b:q2", timeout=1), ("b:q2", "y"), "brpop with a str key")
    start = time.monotonic()
    eq(kv.blpop("b:empty", timeout=0.3), None, "blpop times out with None")
    waited = time.monotonic() - start
    assert 0.25 <= waited < 3, "blpop waited %.3f s for a 0.3 s timeout" % waited
    eq(kv.brpop(["b:empty", "b:empty2"], timeout=0.1), None, "brpop times out with None")
    eq(kv.ping(), True, "the connection still works after a timeout")


@check
def brpop_woken_by_a_push_from_another_connection():
    pusher = KV.from_url(URL)
    result = {}

    def consume():
        consumer = KV.from_url(URL)
        result["value"] = consumer.brpop("w:jobs", timeout=10)
        consumer.close()

    thread = threading.Thread(target=consume)
    start = time.monotonic()
    thread.start()
    time.sleep(0.1)  # let the consumer block first
    eq(pusher.lpush("w:jobs", "job-1"), 1, "lpush while a consumer waits")
    thread.join(10)
    eq(result.get("value"), ("w:jobs", "job-1"), "the blocked brpop receives the job")
    assert time.monotonic() - start < 5, "brpop was not woken promptly"
    eq(pusher.llen("w:jobs"), 0, "the job was handed over, not left in the list")
    pusher.close()


@check
def blmove_reliable_queue():
    kv.rpush("r:jobs", "job-1")
    eq(kv.blmove("r:jobs", "r:processing", timeout=1), "job-1", "blmove with data")
    eq(kv.lrange("r:processing", 0, -1), ["job-1"], "job parked in processing")
    eq(kv.blmove("r:jobs", "r:processing", timeout=0.1), None, "blmove times out with None")
    eq(kv.lrem("r:processing", 1, "job-1"), 1, "ack removes the job")


@check
def hashes():
    eq(kv.hset("h:u", "name", "ada"), 1, "hset one field")
    eq(kv.hset("h:u", mapping={"name": "Ada", "lang": "en", "n": 1}), 2, "hset mapping counts new fields")
    eq(kv.hget("h:u", "name"), "Ada", "hget")
    eq(kv.hget("h:u", "missing"), None, "hget missing field")
    eq(kv.hget("h:missing", "name"), None, "hget missing key")
    eq(kv.hgetall("h:u"), {"name": "Ada", "lang": "en", "n": "1"}, "hgetall")
    eq(kv.hgetall("h:missing"), {}, "hgetall missing")
    eq(kv.hincrby("h:u", "n"), 2, "hincrby")
    eq(kv.hincrby("h:u", "n", 10), 12, "hincrby by")
    eq(kv.hincrby("h:u", "fresh", -3), -3, "hincrby a new field")
    raises(lambda: kv.hincrby("h:u", "name"), "not an integer")
    eq(kv.hdel("h:u", "lang", "missing"), 1, "hdel")
    eq(sorted(kv.hgetall("h:u")), ["fresh", "n", "name"], "fields after hdel")


@check
def select_via_url():
    db3 = KV.from_url(URL_DB3)
    eq(db3.set("compat:db3", "three"), True, "set in db 3")
    eq(db3.get("compat:db3"), "three", "get in db 3")
    eq(kv.get("compat:db3"), None, "db 0 does not see db 3")
    eq(db3.keys("compat:*"), ["compat:db3"], "keys in db 3")
    db3.close()
    eq(KV.from_url(URL_DB3).get("compat:db3"), "three", "a new connection selects db 3 again")


@check
def errors():
    kv.set("x:str", "v")
    kv.rpush("x:list", "a")
    raises(lambda: kv.lpush("x:str", "a"), "WRONGTYPE")
    raises(lambda: kv.get("x:list"), "WRONGTYPE")
    raises(lambda: kv.hget("x:list", "f"), "WRONGTYPE")
    raises(lambda: kv.command("NOSUCHCOMMAND", "a"), "unknown command")
    raises(lambda: kv.command("GET"), "wrong number of arguments")
    assert issubclass(KVError, Exception), "KVError is an Exception"
    eq(kv.get("x:str"), "v", "the connection still works after errors")


@check
def generic_command():
    eq(kv.command("ECHO", "hi"), "hi", "ECHO")
    eq(kv.command("SET", "g:c", "1"), "OK", "SET via command")
    eq(kv.command("TYPE", "g:c"), "string", "TYPE")
    eq(kv.command("LRANGE", "nope", 0, -1), [], "array reply")


@check
def close_and_reconnect():
    other = KV.from_url(URL)
    eq(other.ping(), True, "ping before close")
    other.close()
    other.close()  # closing twice is harmless
    eq(other.ping(), True, "a closed KV reconnects on the next command")
    eq(other.command("QUIT"), "OK", "QUIT")  # the server now closes the connection
    eq(other.get("nx:k"), "third", "reconnects once after the server dropped the connection")
    other.close()


@check
def shared_between_threads():
    shared = KV.from_url(URL)
    errors = []

    def work(i):
        try:
            for j in range(50):
                shared.incr("t:counter")
                eq(shared.get("t:key%d" % i), None if j == 0 else str(j - 1), "own key")
                shared.set("t:key%d" % i, j)
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, "errors in threads: %r" % errors
    eq(shared.get("t:counter"), "200", "every increment counted")
    shared.close()


@check
def leave_keys_behind():
    eq(kv.set("compat:left", "behind"), True, "leave a string")
    kv.delete("compat:left:list", "compat:left:hash")
    eq(kv.rpush("compat:left:list", "a", "b"), 2, "leave a list")
    eq(kv.hset("compat:left:hash", "f", "v"), 1, "leave a hash")


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print("FAIL %s: %s: %s (%s line %d)" % (fn.__name__, type(e).__name__, e, where.name, where.lineno))
        else:
            print("ok   %s" % fn.__name__)
    kv.close()
    print("%d of %d checks passed against %s" % (len(CHECKS) - failed, len(CHECKS), URL))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
