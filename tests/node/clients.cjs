// Unchanged client code: each named client (https, fetch, axios) asks https://app.clio.com for
// who_am_i and a page of matters, then follows the page's `next` link. Prints one JSON object.
'use strict';
const https = require('https');

const API = 'https://app.clio.com/api/v4';
const headers = { Authorization: 'Bearer dev' };

function viaHttps(url) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    }).on('error', reject);
  });
}

async function viaFetch(url) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

async function viaAxios(url) {
  const axios = require('axios');
  const res = await axios.get(url, { headers, validateStatus: () => true });
  return { status: res.status, body: res.data };
}

const CLIENTS = { https: viaHttps, fetch: viaFetch, axios: viaAxios };

async function main() {
  const out = {};
  for (const name of process.argv.slice(2)) {
    const get = CLIENTS[name];
    try {
      const me = await get(`${API}/users/who_am_i.json?fields=id,name`);
      const page = await get(`${API}/matters.json?limit=1&fields=id`);
      const next = page.body.meta.paging.next;
      const second = await get(next);
      out[name] = { status: me.status, user: me.body.data.id, next, next_status: second.status, next_id: second.body.data[0].id };
    } catch (err) {
      out[name] = { error: String(err && (err.cause || err)) };
    }
  }
  console.log(JSON.stringify(out));
}

main();
