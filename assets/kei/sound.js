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

/** Say a short line (Web Speech API). Lines queue: an alert never cuts off a turn prompt
 * being said (guidance, road and over-cap lines all speak through here). */
export function speak(text) {
  try {
    const synth = window.speechSynthesis;
    if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
    const line = new SpeechSynthesisUtterance(text);
    line.lang = "en-US";
    synth.speak(line);
  } catch {
    // No voice on this phone: the band and the beep still warn.
  }
}
