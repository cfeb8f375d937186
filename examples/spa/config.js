// The API this page talks to. A query parameter wins: index.html?api=http://127.0.0.1:8000
// The API must list this page's origin in CORS_ORIGINS, and (for its SameSite=Strict session
// cookie to be sent) be on the same site: the same host name, any port.
window.SPA_CONFIG = {
  apiBase: "http://127.0.0.1:8000",
};
