// The control for the HTTP figures: Node's http module answering a tiny JSON GET.
require('http').createServer((request, response) => {
  response.setHeader('Content-Type', 'application/json');
  response.end('{"status":"ok"}');
}).listen(Number(process.argv[2] || 8090), '127.0.0.1');
