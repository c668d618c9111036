// The control for `parley bench`: a broadcast server on Node's `ws` that speaks Parley's frames
// (subscribe, send -> ack + event to every subscriber of the channel), with no database.
// Run: NODE_PATH=<folder holding ws/> node bench/node-peer.js PORT
const { WebSocketServer } = require('ws');
const channels = new Map();
let seq = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 8090), path: '/api/v1/realtime' });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const frame = JSON.parse(data);
    if (frame.type === 'subscribe') {
      if (!channels.has(frame.channel)) channels.set(frame.channel, new Set());
      channels.get(frame.channel).add(ws);
      ws.send(JSON.stringify({ type: 'subscribed', channel: frame.channel, recovered: true }));
    } else if (frame.type === 'send') {
      const message = { id: String(++seq), seq, role: 'user', body: frame.body, clientId: frame.clientId };
      const event = JSON.stringify({ type: 'event', channel: frame.channel, seq, name: 'message.created', data: message });
      for (const peer of channels.get(frame.channel) || []) peer.send(event);
      ws.send(JSON.stringify({ type: 'ack', clientId: frame.clientId, message }));
    } else if (frame.type === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => { for (const set of channels.values()) set.delete(ws); });
});
