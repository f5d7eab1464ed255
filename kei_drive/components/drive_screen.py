"""The Drive screen's speedometer: a browser-side React component (assets/kei/drive.jsx).

Everything time-critical (GPS, speed, alert, odometer, recording buffer) runs in the
browser, so the screen keeps working when the phone loses its connection.
"""

import reflex as rx


class DriveScreen(rx.NoSSRComponent):
    library = "$/public/kei/drive.jsx"
    tag = "DriveScreen"


drive_screen = DriveScreen.create
