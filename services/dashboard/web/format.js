// How cells show: ages as kubectl prints them (5s, 3m, 2h, 4d), statuses with a class.
export function age(ms, now = Date.now()) {
  if (!ms) return '';
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const GOOD = new Set(['Running', 'Ready', 'Succeeded', 'Completed', 'Normal', 'True']);
const BAD = new Set(['Failed', 'NotReady', 'Warning', 'Error', 'CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'Unknown', 'OOMKilled', 'False', 'Evicted']);

export function tone(text) {
  const t = String(text).split(',')[0];
  if (GOOD.has(t)) return 'good';
  if (BAD.has(t)) return 'bad';
  if (t === 'Pending' || t === 'Terminating' || t === 'ContainerCreating' || t.startsWith('Init:')) return 'warn';
  return '';
}

export function cellText(col, value) {
  return col.type === 'age' ? age(value) : String(value);
}
