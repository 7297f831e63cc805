// notes: a small service that honours the twelve factors, for `twelve audit`'s tests.
// Node's standard library only (no npm install).
//
//   PUT /notes/<key>  (body: the note)  -> 204, kept in the store at REDIS_URL
//   GET /notes/<key>                    -> 200 with the note, or 404
//   GET /slow                           -> 200 after a second (a request to be in flight)
//   GET /health                         -> 200
'use strict';
const http = require('http');
const net = require('net');

// Config comes from the environment; without a required setting, stop at once, naming it.
function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`notes: the environment variable ${name} is required`);
    process.exit(1);
  }
  return value;
}

const PORT = Number(required('PORT'));
const REDIS_URL = new URL(required('REDIS_URL'));
required('SECRET_KEY');

// One Redis command over its own connection (RESP2): enough for GET and SET.
function redis(...args) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host: REDIS_URL.hostname, port: Number(REDIS_URL.port || 6379) });
    let buf = Buffer.alloc(0);
    sock.on('connect', () => {
      sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const reply = parse(buf);
      if (reply !== undefined) {
        sock.end();
        if (reply instanceof Error) reject(reply); else resolve(reply);
      }
    });
    sock.on('error', reject);
  });
}

function parse(buf) {
  const nl = buf.indexOf('\r\n');
  if (nl < 0) return undefined;
  const head = buf.subarray(0, nl).toString();
  if (head[0] === '+') return head.slice(1);
  if (head[0] === '-') return new Error(head.slice(1));
  if (head[0] === ':') return Number(head.slice(1));
  if (head[0] === '$') {
    const n = Number(head.slice(1));
    if (n < 0) return null;
    if (buf.length < nl + 2 + n + 2) return undefined;
    return buf.subarray(nl + 2, nl + 2 + n).toString();
  }
  return new Error(`unexpected reply ${head}`);
}

function send(res, status, body) {
  const data = body === undefined ? '' : String(body);
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

async function handle(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/health') return send(res, 200, 'ok');
  if (path === '/slow') return setTimeout(() => send(res, 200, 'slow'), 1000);
  const note = path.match(/^\/notes\/([\w-]+)$/);
  if (note && req.method === 'PUT') {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    await redis('SET', `note:${note[1]}`, Buffer.concat(chunks).toString());
    return send(res, 204);
  }
  if (note && req.method === 'GET') {
    const value = await redis('GET', `note:${note[1]}`);
    return value === null ? send(res, 404, 'no such note') : send(res, 200, value);
  }
  return send(res, 404, 'not found');
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  // One event per line on stdout; where it goes is the platform's business.
  res.on('finish', () => console.log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
  handle(req, res).catch((err) => {
    console.error(`notes: ${req.method} ${req.url} failed: ${err.message}`);
    send(res, 500, 'internal error');
  });
});

server.listen(PORT, '127.0.0.1', () => console.log(`notes: listening on port ${PORT}`));

// On SIGTERM: stop listening, let the requests in flight finish, then exit 0.
process.on('SIGTERM', () => {
  console.log('notes: SIGTERM, finishing the requests in flight');
  server.close(() => process.exit(0));
});
