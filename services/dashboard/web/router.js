// The route lives in the URL's hash: #/pods/NAMESPACE/NAME, #/nodes/NAME, ...
export function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return parts.length ? parts : ['overview'];
}

export function go(...parts) {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/');
}
