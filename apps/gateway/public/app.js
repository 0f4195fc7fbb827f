// Parley's web client: text or voice in, the answer streamed as text while each sentence's
// speech plays as soon as it arrives (SSE over POST, read with fetch). Hands-free mode streams
// the microphone over a WebSocket instead (/api/conversation/live).
const $ = (id) => document.getElementById(id);
const state = { sessionId: localStorage.getItem('parley.session') || undefined, busy: false };
/** Exposed for tests and curious users: what the page has played. */
window.parley = { audioPlayed: 0, lastComplete: null };

// ---- catalog and health
async function loadCatalog() {
  const [languages, scenarios] = await Promise.all([
    fetch('/api/health/languages').then((r) => r.json()),
    fetch('/api/health/scenarios').then((r) => r.json()),
  ]);
  for (const [code, info] of Object.entries(languages.languages)) $('language').add(new Option(`${info.name} (${code})`, code));
  for (const [id, text] of Object.entries(scenarios.scenarios)) $('scenario').add(new Option(text, id));
  $('language').value = localStorage.getItem('parley.language') || 'es';
}

async function showHealth() {
  try {
    const body = await fetch('/api/health/models').then((r) => r.json());
    const el = $('health');
    el.textContent = Object.entries(body.models).map(([k, v]) => `${k}: ${v}`).join(' · ');
    el.className = `health ${body.status}`;
  } catch {
    $('health').textContent = 'gateway unreachable';
  }
}

// ---- audio: play each sentence in order, as soon as it arrives
const audio = { context: null, playAt: 0, sources: new Set() };
async function playWav(base64) {
  audio.context ??= new AudioContext();
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const buffer = await audio.context.decodeAudioData(bytes.buffer);
  const source = audio.context.createBufferSource();
  source.buffer = buffer;
  source.connect(audio.context.destination);
  const startAt = Math.max(audio.context.currentTime, audio.playAt);
  source.start(startAt);
  audio.playAt = startAt + buffer.duration;
  audio.sources.add(source);
  source.onended = () => audio.sources.delete(source);
  window.parley.audioPlayed += 1;
}

/** Stops the answer being spoken (the learner started talking). */
function stopPlayback() {
  for (const source of audio.sources) source.stop();
  audio.sources.clear();
  audio.playAt = 0;
}

// ---- conversation
function addMessage(role, text = '') {
  const li = document.createElement('li');
  li.className = role;
  li.textContent = text;
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function settings() {
  return { language: $('language').value, difficulty: $('difficulty').value, scenario: $('scenario').value };
}

/** Reads an SSE response body and calls onEvent(name, data) per event. */
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

async function runTurn(request, userBubble) {
  state.busy = true;
  $('status').textContent = userBubble ? 'Thinking…' : 'Listening to your recording…';
  let answer;
  try {
    const response = await fetch(request.url, request.init);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `HTTP ${response.status}`);
    }
    await readEvents(response, (event, data) => {
      if (data.session_id) saveSession(data.session_id);
      if (event === 'transcription') {
        addMessage('user', data.text);
        $('status').textContent = 'Thinking…';
      } else if (event === 'response_start') {
        answer = addMessage('assistant');
      } else if (event === 'response_chunk') {
        answer.textContent += data.chunk;
      } else if (event === 'audio') {
        void playWav(data.audio);
      } else if (event === 'complete') {
        window.parley.lastComplete = data;
        $('status').textContent = data.audio_available === false ? 'Speech is unavailable right now.' : '';
      } else if (event === 'error') {
        addMessage('error', data.error);
        $('status').textContent = '';
      }
    });
  } catch (error) {
    addMessage('error', error.message);
    $('status').textContent = '';
  } finally {
    state.busy = false;
  }
}

function saveSession(id) {
  state.sessionId = id;
  localStorage.setItem('parley.session', id);
}

function speechRate() {
  return $('slow').checked ? '1.2' : undefined;
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const message = $('message').value.trim();
  if (!message || state.busy) return;
  $('message').value = '';
  if (live.socket?.readyState === WebSocket.OPEN) {
    addMessage('user', message);
    live.socket.send(JSON.stringify({ type: 'text', message }));
    return;
  }
  const body = { message, ...settings(), tts: true, session_id: state.sessionId, speech_rate: $('slow').checked ? 1.2 : undefined };
  void runTurn(
    { url: '/api/conversation/text-stream', init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } },
    addMessage('user', message),
  );
});

// ---- recording (MediaRecorder makes webm/opus; the server reads it from its bytes)
let recorder;
async function startRecording() {
  if (state.busy || recorder) return;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    recorder = undefined;
    $('record').setAttribute('aria-pressed', 'false');
    const form = new FormData();
    form.append('audio', new Blob(chunks, { type: 'audio/webm' }), 'recording.webm');
    for (const [key, value] of Object.entries(settings())) form.append(key, value);
    if (state.sessionId) form.append('session_id', state.sessionId);
    if (speechRate()) form.append('speech_rate', speechRate());
    void runTurn({ url: '/api/conversation/speak-stream', init: { method: 'POST', body: form } });
  };
  recorder.start();
  $('record').setAttribute('aria-pressed', 'true');
  $('status').textContent = 'Recording… release to send';
}
function stopRecording() {
  if (recorder?.state === 'recording') recorder.stop();
}
$('record').addEventListener('pointerdown', () => void startRecording().catch((e) => addMessage('error', `Microphone: ${e.message}`)));
$('record').addEventListener('pointerup', stopRecording);
$('record').addEventListener('pointerleave', stopRecording);

// ---- hands-free: the microphone streams to /api/conversation/live; the server finds each
// utterance, answers it, and stops talking when interrupted.
const live = { socket: null, stream: null, context: null, answers: new Map() };
window.parley.live = { completes: 0, turns: 0 };

function liveUrl() {
  const params = new URLSearchParams(settings());
  if (state.sessionId) params.set('session_id', state.sessionId);
  if (speechRate()) params.set('speech_rate', speechRate());
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/conversation/live?${params}`;
}

async function startHandsFree() {
  // The browser's echo cancellation keeps the answer's speech out of the microphone (headphones work best).
  live.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  live.context = new AudioContext();
  audio.context ??= live.context;
  await live.context.audioWorklet.addModule('capture-worklet.js');
  const node = new AudioWorkletNode(live.context, 'parley-capture');
  live.context.createMediaStreamSource(live.stream).connect(node);
  const socket = new WebSocket(liveUrl());
  socket.binaryType = 'arraybuffer';
  live.socket = socket;
  node.port.onmessage = ({ data }) => {
    $('level').value = Math.min(1, data.rms * 4);
    if (socket.readyState === WebSocket.OPEN) socket.send(data.pcm);
  };
  socket.onmessage = (message) => onLiveEvent(JSON.parse(message.data));
  socket.onclose = (event) => {
    if (live.socket !== socket) return;
    stopHandsFree();
    if (event.code === 1012) $('status').textContent = 'The server restarted: press Hands-free to go on.';
  };
  $('hands-free').setAttribute('aria-pressed', 'true');
  $('live').hidden = false;
  $('status').textContent = 'Listening… just speak.';
}

function stopHandsFree() {
  const socket = live.socket;
  live.socket = null;
  socket?.close();
  live.stream?.getTracks().forEach((t) => t.stop());
  void live.context?.close();
  if (audio.context === live.context) audio.context = null;
  Object.assign(live, { stream: null, context: null });
  $('hands-free').setAttribute('aria-pressed', 'false');
  $('live').hidden = true;
  $('partial').textContent = '';
}

function onLiveEvent({ event, data }) {
  const turn = data.turn_id;
  if (event === 'ready') saveSession(data.session_id);
  else if (event === 'speech_started') {
    stopPlayback();
    window.parley.live.turns += 1;
    $('status').textContent = 'Listening…';
  } else if (event === 'partial_transcription') $('partial').textContent = data.transcript;
  else if (event === 'speech_stopped') $('status').textContent = 'Thinking…';
  else if (event === 'transcription') {
    $('partial').textContent = '';
    addMessage('user', data.text);
  } else if (event === 'response_start') live.answers.set(turn, addMessage('assistant'));
  else if (event === 'response_chunk') live.answers.get(turn).textContent += data.chunk;
  else if (event === 'audio') void playWav(data.audio);
  else if (event === 'interrupted') live.answers.get(turn)?.classList.add('interrupted');
  else if (event === 'complete') {
    window.parley.lastComplete = data;
    window.parley.live.completes += 1;
    $('status').textContent = 'Listening… just speak.';
  } else if (event === 'error') {
    if (data.code !== 'NO_SPEECH') addMessage('error', data.error);
    $('status').textContent = 'Listening… just speak.';
  }
}

$('hands-free').addEventListener('click', () => {
  if (live.socket) stopHandsFree();
  else void startHandsFree().catch((e) => {
    stopHandsFree();
    addMessage('error', `Microphone: ${e.message}${window.isSecureContext ? '' : ' (the microphone needs HTTPS or localhost)'}`);
  });
});

$('new-session').addEventListener('click', async () => {
  if (state.sessionId) await fetch(`/api/conversation/session/${state.sessionId}`, { method: 'DELETE' });
  state.sessionId = undefined;
  localStorage.removeItem('parley.session');
  $('messages').replaceChildren();
});
$('language').addEventListener('change', () => localStorage.setItem('parley.language', $('language').value));

await loadCatalog();
await showHealth();
setInterval(showHealth, 15000);
