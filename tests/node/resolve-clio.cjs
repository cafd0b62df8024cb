// Test harness only (node --require): connect Clio's host names to the mock's loopback port, like an
// /etc/hosts entry that also maps the port (CLIO_MOCK_RESOLVE=127.0.0.1:PORT). URLs, SNI and the
// certificate check keep the real names: the client code under test is unchanged.
'use strict';
const net = require('net');

const HOSTS = new Set(['app.clio.com', 'eu.app.clio.com', 'ca.app.clio.com', 'au.app.clio.com']);
const target = process.env.CLIO_MOCK_RESOLVE || '';
const cut = target.lastIndexOf(':');
const address = target.slice(0, cut);
const port = Number(target.slice(cut + 1));

function mapped(options) {
  return options && typeof options === 'object' && HOSTS.has(options.host) ? { ...options, host: address, port } : options;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  if (Array.isArray(args[0])) {
    args[0][0] = mapped(args[0][0]); // net.connect() passes its normalized [options, callback]
  } else {
    args[0] = mapped(args[0]); // tls.connect() passes its options object
  }
  return connect.apply(this, args);
};
