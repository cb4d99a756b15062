#!/usr/bin/env node
// The benchmark peer: the lightest Parley-speaking server a user could pick instead of parleyd.
//
// Node.js + the `ws` package, rooms in memory: no storage, auth, presence, history or resume.
// It speaks the same v1 frames as parleyd for what the benchmark workloads use:
//   hello -> welcome; join -> joined (at most 1,000 members listed, as parleyd does);
//   leave -> left; send -> ack + message to every member of the room, the sender included
//   (docs/protocol.md); heartbeat -> heartbeat_ack; anything else -> error{code}.
// Each room has its own seq counter (1, 2, 3, ...), so the load generator's ordering checks apply
// to the peer too. A message is serialized once per fanout and the same Buffer is handed to every
// member's socket, which is what a careful user of `ws` would write.
//
// Usage: node server.js PORT [HOST]   (PORT 0 = any free port). Prints
// "peer listening on HOST:PORT" once it accepts connections.
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const host = process.argv[3] || '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('usage: node server.js PORT [HOST]');
    process.exit(2);
}
if (!/^127\./.test(host)) {
    // A benchmark peer with no auth must never listen beyond loopback.
    console.error('peer: refusing to listen on a non-loopback address');
    process.exit(2);
}

const LIMITS = { max_frame_bytes: 65536, max_body_bytes: 16384, max_rooms: 100, max_history_limit: 500 };
// joined.members lists at most this many users, as parleyd does (RoomHub::kMaxMembersListed).
const MEMBERS_IN_JOINED = 1000;
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const EPOCH = 'peer-' + Date.now().toString(36);

const rooms = new Map(); // name -> { seq, members: Set<ws> }
let nextSession = 1;
let nextMsg = 1;

function reply(ws, obj) {
    ws.send(JSON.stringify(obj));
}

function error(ws, id, code, message, clientId) {
    const frame = { type: 'error', code, message, retryable: false };
    if (id) frame.id = id;
    if (clientId) frame.client_id = clientId;
    reply(ws, frame);
}

function leaveAll(ws) {
    for (const name of ws.parley.rooms) {
        const room = rooms.get(name);
        if (room) {
            room.members.delete(ws);
            if (room.members.size === 0) rooms.delete(name);
        }
    }
    ws.parley.rooms.clear();
}

function onFrame(ws, data) {
    let f;
    try {
        f = JSON.parse(data);
    } catch (e) {
        return error(ws, undefined, 'bad_json', 'not JSON');
    }
    if (typeof f !== 'object' || f === null || Array.isArray(f)) {
        return error(ws, undefined, 'bad_json', 'not a JSON object');
    }
    const id = typeof f.id === 'string' ? f.id : undefined;
    const s = ws.parley;
    if (f.type !== 'hello' && !s.user) {
        return error(ws, id, 'hello_required', 'send hello first');
    }
    switch (f.type) {
    case 'hello': {
        if (s.user) return error(ws, id, 'already_welcomed', 'hello already done');
        if (typeof f.user !== 'string' || !NAME_RE.test(f.user)) {
            return error(ws, id, 'unauthorized', 'bad user name');
        }
        s.user = f.user;
        const w = { type: 'welcome', session: 'p' + nextSession++, node: 'peer', user: s.user,
            heartbeat_ms: 30000, protocol: 1, limits: LIMITS };
        if (id) w.id = id;
        return reply(ws, w);
    }
    case 'join': {
        if (typeof f.room !== 'string' || !NAME_RE.test(f.room)) {
            return error(ws, id, 'bad_room', 'bad room name');
        }
        if (!s.rooms.has(f.room) && s.rooms.size >= LIMITS.max_rooms) {
            return error(ws, id, 'too_many_rooms', 'too many rooms');
        }
        let room = rooms.get(f.room);
        if (!room) {
            room = { seq: 0, members: new Set() };
            rooms.set(f.room, room);
        }
        room.members.add(ws);
        s.rooms.add(f.room);
        const members = [];
        for (const m of room.members) {
            if (members.length >= MEMBERS_IN_JOINED) break;
            members.push(m.parley.user);
        }
        const j = { type: 'joined', room: f.room, epoch: EPOCH, last_seq: room.seq, members };
        if (id) j.id = id;
        return reply(ws, j);
    }
    case 'leave': {
        const room = rooms.get(f.room);
        if (!room || !s.rooms.has(f.room)) return error(ws, id, 'not_joined', 'not in that room');
        room.members.delete(ws);
        s.rooms.delete(f.room);
        if (room.members.size === 0) rooms.delete(f.room);
        const l = { type: 'left', room: f.room };
        if (id) l.id = id;
        return reply(ws, l);
    }
    case 'send': {
        const room = rooms.get(f.room);
        if (!room || !s.rooms.has(f.room)) {
            return error(ws, id, 'not_joined', 'not in that room', f.client_id);
        }
        if (typeof f.client_id !== 'string' || !f.client_id || typeof f.body !== 'string') {
            return error(ws, id, 'bad_frame', 'client_id and body are required', f.client_id);
        }
        if (f.body.length === 0) return error(ws, id, 'empty_body', 'empty body', f.client_id);
        if (Buffer.byteLength(f.body) > LIMITS.max_body_bytes) {
            return error(ws, id, 'body_too_large', 'body too large', f.client_id);
        }
        const seq = ++room.seq;
        const msgId = 'm' + nextMsg++;
        const ts = Date.now();
        const ack = { type: 'ack', client_id: f.client_id, room: f.room, epoch: EPOCH, seq,
            msg_id: msgId, ts };
        if (id) ack.id = id;
        reply(ws, ack);
        const out = Buffer.from(JSON.stringify({ type: 'message', room: f.room, epoch: EPOCH, seq,
            msg_id: msgId, sender: s.user, client_id: f.client_id, body: f.body, ts }));
        for (const m of room.members) {
            m.send(out, { binary: false });
        }
        return;
    }
    case 'heartbeat': {
        const h = { type: 'heartbeat_ack', ts: Date.now() };
        if (id) h.id = id;
        return reply(ws, h);
    }
    default:
        return error(ws, id, 'unknown_type', 'unknown frame type');
    }
}

const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok\n');
    }
    res.writeHead(404);
    res.end();
});
const wss = new WebSocketServer({ server, path: '/v1/ws', maxPayload: LIMITS.max_frame_bytes });

wss.on('connection', (ws) => {
    ws.parley = { user: null, rooms: new Set() };
    ws.on('message', (data, isBinary) => {
        if (isBinary) return error(ws, undefined, 'bad_frame', 'text frames only');
        onFrame(ws, data.toString());
    });
    ws.on('close', () => leaveAll(ws));
    ws.on('error', () => leaveAll(ws));
});

// A deep backlog so connection bursts are not dropped (the kernel caps it at somaxconn).
server.listen({ port, host, backlog: 4096 }, () => {
    const a = server.address();
    console.log(`peer listening on ${a.address}:${a.port}`);
});

function shutdown() {
    for (const ws of wss.clients) ws.close(1001, 'going away');
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
