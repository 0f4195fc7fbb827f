// AudioWorklet: the microphone at the context's rate → 16 kHz mono PCM16, posted in 40 ms
// frames with their loudness (RMS, for the level meter). Downsampling averages the input
// samples that fall in each output sample's span (a box low-pass against aliasing): exact in
// rate over time, with at most one input sample of jitter, which speech recognition ignores.
const TARGET_RATE = 16000;
const FRAME_SAMPLES = 640; // 40 ms at 16 kHz

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample (e.g. 3 at 48 kHz)
    this.span = 0; // input samples gathered towards the next output sample
    this.sum = 0;
    this.count = 0;
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
    this.energy = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    for (let i = 0; i < channels[0].length; i++) {
      let sample = 0;
      for (const channel of channels) sample += channel[i];
      this.sum += sample / channels.length;
      this.count += 1;
      this.span += 1;
      if (this.span >= this.step) {
        this.span -= this.step;
        this.emit(Math.max(-1, Math.min(1, this.sum / this.count)));
        this.sum = 0;
        this.count = 0;
      }
    }
    return true;
  }

  emit(value) {
    this.frame[this.filled++] = Math.round(value * 32767);
    this.energy += value * value;
    if (this.filled < FRAME_SAMPLES) return;
    const pcm = this.frame.slice();
    this.port.postMessage({ pcm: pcm.buffer, rms: Math.sqrt(this.energy / FRAME_SAMPLES) }, [pcm.buffer]);
    this.filled = 0;
    this.energy = 0;
  }
}

registerProcessor('parley-capture', CaptureProcessor);
