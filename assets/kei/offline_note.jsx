// A line on the pages that need the server (Plan, Trips, States, Garage) while the phone has
// no connection: they opened from the phone's copy but cannot load anything, and without it
// they said "Loading trips…" for ever beside Reflex's "Cannot connect to server".
import { useEffect, useState } from "react";
import { Link } from "react-router";

export function OfflineNote() {
  const [offline, setOffline] = useState(false); // read after hydration: no mismatch
  useEffect(() => {
    const update = () => setOffline(navigator.onLine === false);
    update();
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  if (!offline) return null;
  return (
    <div id="offline-note" className="kd-offline-note" role="status">
      No connection: this page needs one, and shows what it has once the phone is back online.
      The <Link to="/">Drive screen</Link> works without one, recording included.
    </div>
  );
}
