// The one WebSocket of this tab. Every view subscribes on it under an id of its own;
// after a reconnect each live subscription is sent again as it stands, so views go on.
export class Connection {
  constructor(url) {
    this.url = url;
    this.subs = new Map();
    // calls are not sent again after a reconnect: a change is made once
    this.calls = new Map();
    this.nextId = 1;
    this.queue = [];
    this.state = 'connecting';
    this.stateListeners = new Set();
    this.open();
  }

  open() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.setState('open');
      for (const s of this.subs.values()) ws.send(JSON.stringify(s.request));
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      const sub = this.subs.get(msg.id);
      if (sub) sub.onMessage(msg);
      else this.calls.get(msg.id)?.(msg);
    };
    ws.onclose = () => {
      this.setState('closed');
      setTimeout(() => this.open(), 1000);
    };
  }

  setState(s) {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  onState(l) {
    this.stateListeners.add(l);
    return () => this.stateListeners.delete(l);
  }

  send(msg) {
    const text = JSON.stringify(msg);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
  }

  /** One call ({op: 'call'}): resolves with the result, rejects with {message, causes, status}. */
  call(method, args) {
    return new Promise((resolve, reject) => {
      const id = `c${this.nextId++}`;
      this.calls.set(id, (m) => {
        this.calls.delete(id);
        if (m.type === 'result') resolve(m.result);
        else reject(Object.assign(new Error(m.message), { causes: m.causes ?? [], status: m.status }));
      });
      this.send({ op: 'call', id, method, args });
    });
  }

  /**
   * Starts a subscription; `request` is {op, ...}. Returns {update(fields), close()}:
   * update sends {op: fields.op, id, ...} and folds the fields into what a reconnect resends.
   */
  subscribe(request, onMessage) {
    const id = `s${this.nextId++}`;
    const sub = { request: { ...request, id }, onMessage };
    this.subs.set(id, sub);
    // not open yet: the opening sends every subscription, this one included
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(sub.request));
    return {
      id,
      update: (op, fields) => {
        Object.assign(sub.request, fields);
        this.send({ op, id, ...fields });
      },
      close: () => {
        this.subs.delete(id);
        this.send({ op: 'close', id });
      },
    };
  }
}

export const conn = new Connection(`ws://${location.host}/ws`);
