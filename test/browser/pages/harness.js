// Loads the built package as a user's page would and hands it to the tests as window.tokenwise.
// Content-Security-Policy violations are recorded from the start, before the package loads, so a
// test can tell whether tokenwise itself ever tripped the page's policy.
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"}`);
});
// Code that page.evaluate runs directly is exempt from the policy's eval rules (DevTools allows
// it), and so are the microtasks it queues. A test awaits pageTask() first: what follows runs in a
// new task of the page's own event loop, as the page's code, under its policy.
window.pageTask = () => new Promise((resolve) => setTimeout(resolve, 0));
try {
  window.tokenwise = await import("../../../dist/index.js");
  window.harnessReady = true;
} catch (e) {
  window.harnessError = String(e && e.stack ? e.stack : e);
}
