// Peer of the messaging benchmark (tests/bench/messaging.sh): class notices over npm `ws`, the way
// home-school apps built directly on ws broadcast to a class.
//
//   node ws-broadcast.mjs [PORT]
//
// Listens on 127.0.0.1:PORT (0 or nothing: a free port) and prints
// `listening on 127.0.0.1:PORT pid PID` once ready. A client joins a room with the query string:
// `ws://127.0.0.1:PORT/?room=ROOM`. A publisher sends, over its own socket (no room needed), the
// text frame `{"type":"publish","room":ROOM,"payload":{…}}`; the server sends the payload as one
// JSON text frame to every open socket in that room (serialised once, the same buffer for all).
// Like the ws README's heartbeat example it pings every 20 s and drops a socket that did not
// answer the previous ping. Exits 0 on SIGTERM or SIGINT.

import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const HEARTBEAT_MS = 20_000;

/** room → Set<WebSocket> */
const rooms = new Map();

const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 1 << 20 });

wss.on('connection', (ws, req) => {
  ws.isAlive = true;
  ws.on('pong', () => { ws.isAlive = true; });
  ws.on('error', () => {});

  const room = new URL(req.url ?? '/', 'http://localhost').searchParams.get('room');
  if (room) {
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.on('close', () => {
      members.delete(ws);
      if (members.size === 0 && rooms.get(room) === members) rooms.delete(room);
    });
  }

  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg?.type !== 'publish' || typeof msg.room !== 'string') return;
    const members = rooms.get(msg.room);
    if (!members) return;
    const frame = Buffer.from(JSON.stringify(msg.payload));
    for (const client of members) {
      if (client.readyState === client.OPEN) client.send(frame, { binary: false });
    }
  });
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, HEARTBEAT_MS);

wss.on('listening', () => {
  console.log(`listening on 127.0.0.1:${wss.address().port} pid ${process.pid}`);
});

function stop() {
  clearInterval(heartbeat);
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
