// Preloaded with `node --require` by benchmarks/http-bench: makes every server of this Node
// process listen on 127.0.0.1 only. supergateway listens on all interfaces and has no host option;
// the benchmark must only use loopback.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const callback = args.find((a) => typeof a === 'function');
    return callback
      ? listen.call(this, Number(first), '127.0.0.1', callback)
      : listen.call(this, Number(first), '127.0.0.1');
  }
  if (first && typeof first === 'object' && 'port' in first) {
    args[0] = Object.assign({}, first, { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
