// Location, asked for with a tap, never on page load: the first-run card says what the
// app does; when the browser refuses, the steps to allow it in the browser in use.

/** "chrome-android" | "safari-ios" | "firefox" | "other", from the user agent. */
export function browserKind(ua = navigator.userAgent) {
  if (/Firefox|FxiOS/.test(ua)) return "firefox";
  if (/iPhone|iPad|iPod/.test(ua)) return "safari-ios"; // every iOS browser is Safari inside
  if (/Android/.test(ua) && /Chrome/.test(ua)) return "chrome-android";
  return "other";
}

const STEPS = {
  "chrome-android": [
    "Tap the icon left of the address (a lock or two sliders).",
    "Tap Permissions (or Site settings), then Location, and choose Allow.",
    "If Location is greyed out: Android Settings → Apps → Chrome → Permissions → Location → Allow.",
  ],
  "safari-ios": [
    "Open the Settings app → Privacy & Security → Location Services: make sure it is on.",
    "In the same list, tap Safari Websites and choose “While Using the App”.",
    "Back in Safari, tap “aA” in the address bar → Website Settings → Location → Allow.",
  ],
  firefox: [
    "Tap the lock icon left of the address.",
    "Set Location to Allow (or tap Clear permissions, then Try again and allow).",
    "On Android, also check Settings → Apps → Firefox → Permissions → Location → Allow.",
  ],
  other: [
    "Click or tap the icon left of the address (a lock or sliders).",
    "Open the site settings, set Location to Allow.",
    "Check that the phone's own location setting is on.",
  ],
};

export function FirstRunCard({ permission, onAsk, asking }) {
  const denied = permission === "denied";
  const kind = browserKind();
  return (
    <section id="first-run" className="kd-first-run" data-permission={permission}>
      {denied ? (
        <>
          <h2 className="kd-first-title">Location is blocked for Kei Drive</h2>
          <p>Without it there is no speed, no state rule and no trip. To allow it:</p>
          <ol id="location-steps" className="kd-steps" data-browser={kind}>
            {STEPS[kind].map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ol>
          <button id="location-retry" className="kd-btn kd-btn-start" onClick={onAsk} disabled={asking}>
            Try again
          </button>
        </>
      ) : (
        <>
          <h2 className="kd-first-title">Your speed and the Kei rules where you drive</h2>
          <p>
            Kei Drive shows your speed from the phone’s GPS, warns above your Kei cap and on roads a Kei
            may not use, tells you the state’s Kei rule, and can record your trips. Your position stays
            on this phone unless you record a trip.
          </p>
          <button id="location-allow" className="kd-btn kd-btn-start" onClick={onAsk} disabled={asking}>
            Use my location
          </button>
        </>
      )}
    </section>
  );
}
