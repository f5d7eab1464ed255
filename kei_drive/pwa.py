"""Progressive Web App head tags: manifest, icons, iOS meta tags, service worker."""

import reflex as rx
from reflex_base.constants import Env
from reflex_base.environment import environment

THEME_COLOR = "#111317"

# Registered only in production builds: in dev mode a worker would cache Vite's modules.
# After registration the page hands the worker every URL it already loaded, so the
# first visit is enough to open the app offline later. Registered once the page is loaded
# and then idle (a few seconds in): the worker's install downloads the app shell and the
# state lines and fetches every URL again, which on a phone's CPU would otherwise compete
# with the Drive screen's first seconds (docs/performance.md).
REGISTER_SERVICE_WORKER = """
if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', function () {
    function register() {
      navigator.serviceWorker.register('/sw.js').then(function () {
        function send() {
          var urls = performance.getEntriesByType('resource').map(function (e) { return e.name; });
          urls.push(location.href);
          navigator.serviceWorker.ready.then(function (reg) {
            reg.active && reg.active.postMessage({type: 'cache-urls', urls: urls});
          });
        }
        send();
        setTimeout(send, 5000);
      }).catch(function (err) { console.warn('service worker not registered', err); });
    }
    var idle = window.requestIdleCallback || function (run) { setTimeout(run, 0); };
    setTimeout(function () { idle(register, {timeout: 5000}); }, 3000);
  });
}
"""


def is_production_build() -> bool:
    return environment.REFLEX_ENV_MODE.get() == Env.PROD


def head_components() -> list[rx.Component]:
    tags = [
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="icon", type="image/png", href="/icons/favicon-32.png"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        rx.el.link(rel="stylesheet", href="/kei/kei.css"),
        rx.el.meta(name="theme-color", content=THEME_COLOR),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="black-translucent"),
        rx.el.meta(name="apple-mobile-web-app-title", content="Kei Drive"),
    ]
    if is_production_build():
        tags.append(rx.el.script(REGISTER_SERVICE_WORKER))
    return tags
