// Peer of the messaging benchmark (tests/bench/messaging.sh): class notices as socket.io rooms.
//
//   node socketio-rooms.mjs [PORT]
//
// Listens on 127.0.0.1:PORT (0 or nothing: a free port) and prints
// `listening on 127.0.0.1:PORT pid PID` once ready. Websocket transport only (no long-polling),
// socket.io's defaults otherwise (ping every 25 s, no compression). A client connects to
// `ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket&room=ROOM` and joins the room named
// in the handshake query; a publisher emits `publish` with `{room, payload}` and the server does
// `io.to(room).emit('notice', payload)` (socket.io encodes the packet once for the whole room).
// Exits 0 on SIGTERM or SIGINT.

import { createServer } from 'node:http';

import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 0);

const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
});

io.on('connection', (socket) => {
  const { room } = socket.handshake.query;
  if (typeof room === 'string' && room !== '') socket.join(room);
  socket.on('publish', (msg) => {
    if (msg && typeof msg.room === 'string') io.to(msg.room).emit('notice', msg.payload);
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port} pid ${process.pid}`);
});

function stop() {
  io.disconnectSockets(true);
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
