// The dashboard's JSON API (/ui/api/...): GETs, and state changes carrying the session's CSRF
// token. A 401 means the session ended: back to the login page, keeping the route.
let csrfToken = null;
let sessionRead = null;

// Read while the first page loads (its GETs need no token); a POST waits for it.
export function session() {
  sessionRead = getJson('session').then((s) => { csrfToken = s.csrfToken; return s; });
  return sessionRead;
}

async function answer(response) {
  if (response.status === 401) {
    location.assign('/ui/login' + location.hash);
    const ended = new Error('Your session ended; log in again.');
    ended.status = 401;
    throw ended;
  }
  const type = response.headers.get('Content-Type') || '';
  const body = type.startsWith('application/json') ? await response.json() : null;
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.status + ' ' + response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function getJson(path, params) {
  const query = params ? '?' + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')) : '';
  return answer(await fetch('/ui/api/' + path + query, { credentials: 'same-origin' }));
}

export async function post(path, body) {
  if (!csrfToken && sessionRead) await sessionRead.catch(() => null);
  return fetch('/ui/api/' + path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken || '' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
}

export async function postJson(path, body) {
  return answer(await post(path, body));
}

// Path segments are encoded whole (ARNs hold ':' and '/').
export function seg(s) {
  return encodeURIComponent(s);
}
