// A XenAPI client over JSON-RPC (POST /jsonrpc on the page's own origin). The session reference
// lives in this object only: never in a URL, cookie or storage.

export class XenApiError extends Error {
  constructor(code, params) {
    super([code, ...(params || [])].join(' '));
    this.code = code;
    this.params = params || [];
  }
}

export class Rpc {
  constructor() {
    this.session = null;
    this.nextId = 1;
    this.calls = 0;  // calls made, for the console's own cost
  }

  async raw(method, params) {
    this.calls++;
    const body = JSON.stringify({jsonrpc: '2.0', method, params, id: this.nextId++});
    const reply = await fetch('/jsonrpc', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body, cache: 'no-store'});
    let data;
    try {
      data = await reply.json();
    } catch (e) {
      throw new XenApiError('HTTP_' + reply.status, [reply.statusText]);
    }
    if (data.error) {
      const e = data.error;
      if (Array.isArray(e)) throw new XenApiError(e[0], e.slice(1));
      throw new XenApiError(e.message, e.data);
    }
    return data.result;
  }

  // A call with the session first.
  call(method, ...params) {
    return this.raw(method, [this.session, ...params]);
  }

  async login(user, password) {
    this.session = await this.raw('session.login_with_password', [user, password, '1.0', 'hvnet-console']);
    return this.session;
  }

  async logout() {
    if (!this.session) return;
    try { await this.call('session.logout'); } catch (e) { /* gone already */ }
    this.session = null;
  }
}
