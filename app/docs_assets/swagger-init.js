// Swagger UI for this API, from bundled assets. Authorize logs in with the OAuth2 password flow
// (or client credentials); every request it sends carries X-Requested-With, which the API asks
// of a change authenticated by the session cookie.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  persistAuthorization: false,
  requestInterceptor: (request) => {
    request.headers["X-Requested-With"] = "XMLHttpRequest";
    return request;
  },
});
