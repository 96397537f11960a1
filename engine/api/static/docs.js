// The interactive API page: Swagger UI (Swagger UI 5, shipped in the fastapi-offline package, no CDN) on the
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
