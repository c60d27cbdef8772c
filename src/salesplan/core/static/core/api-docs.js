// Starts Swagger UI for /api/v1/docs. A separate file, not inline script, so the page
// works under the content security policy (script-src 'self').
(function () {
  "use strict";
  var page = document.body.dataset;
  window.ui = SwaggerUIBundle({
    url: page.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never send the schema to an outside validator
    requestInterceptor: function (request) {
      // "Try it out" from a logged-in browser uses the session, which needs the CSRF token.
      if (page.csrfToken) {
        request.headers["X-CSRFToken"] = page.csrfToken;
      }
      return request;
    },
  });
})();
