// The login link's page: the token travels from the link's query into the form, which the user
// POSTs; a GET (a link preview) never spends it.
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token').value = new URLSearchParams(location.search).get('token') || '';
  document.getElementById('use-link').focus();
});
