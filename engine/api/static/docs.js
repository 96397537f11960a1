// The interactive API page: Swagger UI (shipped in the swagger-ui-bundle package, no CDN) on the
// OpenAPI document this server publishes. A file, not an inline script, so a strict CSP allows it.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
