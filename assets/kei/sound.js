// A short beep, a vibration and a spoken line for the Drive screen's alerts.
let audio = null;

export function beep() {
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)();
    audio.resume?.();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.25;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch {
    // No audio (e.g. not yet unlocked by a tap): the colour change still warns.
  }
}

export function vibrate() {
  navigator.vibrate?.([200, 100, 200]);
}

/** Say a short line (Web Speech API); a newer line replaces one still waiting. */
export function speak(text) {
  try {
    const synth = window.speechSynthesis;
    if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
    synth.cancel?.();
    const line = new SpeechSynthesisUtterance(text);
    line.lang = "en-US";
    synth.speak(line);
  } catch {
    // No voice on this phone: the band and the beep still warn.
  }
}
