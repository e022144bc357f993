// The console's copy of the objects it draws, kept current by event.from: one full read (the
// empty token), then long polls that answer only with what changed. No table is polled.

export const CLASSES = ['host', 'pif', 'network', 'vif', 'vm', 'bond', 'vlan', 'tunnel', 'pool'];

export class Model extends EventTarget {
  constructor(rpc) {
    super();
    this.rpc = rpc;
    this.records = new Map(CLASSES.map((c) => [c, new Map()]));
    this.token = '';
    this.running = false;
  }

  all(cls) {
    return [...this.records.get(cls).entries()];
  }
  get(cls, ref) {
    return this.records.get(cls).get(ref);
  }
  // The class of a ref, searching every class.
  classOf(ref) {
    for (const [cls, recs] of this.records) if (recs.has(ref)) return cls;
    return null;
  }

  apply(reply) {
    if (this.token === '') for (const recs of this.records.values()) recs.clear();
    for (const ev of reply.events) {
      const recs = this.records.get(ev.class);
      if (!recs) continue;
      if (ev.operation === 'del') recs.delete(ev.ref);
      else recs.set(ev.ref, ev.snapshot);
    }
    this.token = reply.token;
    this.dispatchEvent(new CustomEvent('change', {detail: reply.events}));
  }

  async start() {
    this.running = true;
    this.apply(await this.rpc.call('event.from', CLASSES, '', 0));
    this.loop();
  }

  stop() {
    this.running = false;
  }

  async loop() {
    while (this.running) {
      try {
        const reply = await this.rpc.call('event.from', CLASSES, this.token, 30);
        if (this.running) this.apply(reply);
      } catch (e) {
        if (!this.running) return;
        if (e.code === 'EVENTS_LOST') {
          this.token = '';  // read everything again
          continue;
        }
        if (e.code === 'SESSION_INVALID') {
          this.dispatchEvent(new CustomEvent('lost', {detail: e}));
          return;
        }
        this.dispatchEvent(new CustomEvent('trouble', {detail: e}));
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }
}
