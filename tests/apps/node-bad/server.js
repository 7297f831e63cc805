// notes, broken three ways for `twelve audit`'s tests: a port written in the code (VII),
// a log file of its own and nothing on stdout (XI), and no SIGTERM handling (IX).
'use strict';
const fs = require('fs');
const http = require('http');

const log = fs.createWriteStream('notes.log', { flags: 'a' });

const server = http.createServer((req, res) => {
  log.write(`${new Date().toISOString()} ${req.method} ${req.url}\n`);
  const body = req.url === '/health' ? 'ok' : 'not found';
  res.writeHead(req.url === '/health' ? 200 : 404, { 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});

server.listen(47913, '127.0.0.1', () => log.write('listening on 47913\n'));
