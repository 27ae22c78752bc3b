// The login page: keeps the route the user came for (the part after '#', which the server never
// sees; a redirect keeps it, so /ui/#/jobs/x arrives here as /ui/login#/jobs/x) and says why the
// last attempt failed.
const params = new URLSearchParams(location.search);
document.addEventListener('DOMContentLoaded', () => {
  const error = document.getElementById('login-error');
  if (params.has('failed')) error.textContent = 'That access key id and secret do not match this server\'s.';
  else if (params.has('link')) error.textContent = 'That login link is invalid, expired or already used; run `lathe ui` again.';
  error.hidden = !error.textContent;
  const next = location.hash || '';
  document.getElementById('next').value = next.startsWith('#/') ? next : '';
  document.getElementById('accessKeyId').focus();
});
