// Node's built-in fetch ignores HTTPS_PROXY / HTTP_PROXY before Node 24 (there: NODE_USE_ENV_PROXY=1).
// Loaded with NODE_OPTIONS="--require .../fetch-env-proxy.cjs", this routes it through undici's
// EnvHttpProxyAgent (npm install undici@6), which reads those variables and NO_PROXY.
'use strict';
const { setGlobalDispatcher, EnvHttpProxyAgent } = require('undici');

setGlobalDispatcher(new EnvHttpProxyAgent());
