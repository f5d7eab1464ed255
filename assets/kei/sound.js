// A short beep and a vibration for the speed alert.
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
