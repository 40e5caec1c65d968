// Preloaded with `node --require` into servers that listen on every interface and have no host
// option (server-everything's streamableHttp mode): every TCP listen goes to 127.0.0.1 instead.
"use strict";
const net = require("node:net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    if (first.path === undefined && first.fd === undefined && first.handle === undefined && first._handle === undefined) {
      args[0] = { ...first, host: "127.0.0.1" };
    }
    return listen.apply(this, args);
  }
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    const callback = args.find((a) => typeof a === "function");
    const options = { port: Number(first), host: "127.0.0.1" };
    if (typeof args[1] === "number") options.backlog = args[1];
    if (typeof args[2] === "number") options.backlog = args[2];
    return callback ? listen.call(this, options, callback) : listen.call(this, options);
  }
  if (first === undefined || typeof first === "function") {
    const options = { port: 0, host: "127.0.0.1" };
    return typeof first === "function" ? listen.call(this, options, first) : listen.call(this, options);
  }
  return listen.apply(this, args); // a pipe or socket path
};
