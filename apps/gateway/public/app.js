// Parley's web client: text or voice in, the answer streamed as text while each sentence's
// speech plays as soon as it arrives (SSE over POST, read with fetch). Hands-free mode streams
// the microphone over a WebSocket instead (/api/conversation/live).
const $ = (id) => document.getElementById(id);
const state = {
  sessionId: localStorage.getItem('parley.session') || undefined,
  apiKey: localStorage.getItem('parley.apiKey') || undefined,
  busy: false,
};
/** The learner's progress is kept under this id (created once per browser). */
const learnerId = localStorage.getItem('parley.learner') || crypto.randomUUID();
localStorage.setItem('parley.learner', learnerId);
/** Exposed for tests and curious users: what the page has played. */
window.parley = { audioPlayed: 0, lastComplete: null, lastFeedback: null, learnerId };

// ---- catalog and health
async function loadCatalog() {
  const [languages, scenarios] = await Promise.all([
    fetch('/api/health/languages').then((r) => r.json()),
    fetch('/api/health/scenarios').then((r) => r.json()),
  ]);
  for (const [code, info] of Object.entries(languages.languages)) {
    $('language').add(new Option(`${info.name} (${code})`, code));
    $('native-language').add(new Option(info.name, code));
  }
  for (const [id, text] of Object.entries(scenarios.scenarios)) $('scenario').add(new Option(text, id));
  $('language').value = localStorage.getItem('parley.language') || 'es';
  $('native-language').value = localStorage.getItem('parley.native') || 'en';
}

async function showDemoBanner() {
  const body = await fetch('/api/health').then((r) => r.json()).catch(() => ({}));
  $('demo-banner').hidden = body.demo !== true;
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

// ---- API key: asked for when the server answers 401, kept in this browser
/** fetch with the stored key; on 401 asks for a key, keeps it in localStorage and tries again. */
async function apiFetch(url, init = {}) {
  for (;;) {
    const headers = { ...init.headers, ...(state.apiKey ? { Authorization: `Bearer ${state.apiKey}` } : {}) };
    const response = await fetch(url, { ...init, headers });
    if (response.status !== 401) return response;
    const key = prompt(state.apiKey ? 'That API key was refused. API key:' : 'This Parley server needs an API key:')?.trim();
    if (!key) return response;
    state.apiKey = key;
    localStorage.setItem('parley.apiKey', key);
  }
}

// ---- audio: play each sentence in order, as soon as it arrives
const audio = { context: null, playAt: 0, sources: new Set() };
async function playWav(base64, { count = true } = {}) {
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
  if (count) window.parley.audioPlayed += 1;
}

/** Stops the answer being spoken (the learner started talking). */
function stopPlayback() {
  for (const source of audio.sources) source.stop();
  audio.sources.clear();
  audio.playAt = 0;
}

// ---- conversation
/** A bubble: its text in `.text`, room for tools (translate, replay) after it. */
function addMessage(role, text = '') {
  const li = document.createElement('li');
  li.className = role;
  const span = document.createElement('span');
  span.className = 'text';
  span.textContent = text;
  li.append(span);
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function element(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

let nextId = 0;
/** A button that shows and hides `target` (keyboard and screen readers get its state). */
function toggleButton(label, target) {
  target.id ||= `toggle-${nextId++}`;
  target.hidden = true;
  const button = element('button', { type: 'button', textContent: label });
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', target.id);
  button.addEventListener('click', () => {
    target.hidden = !target.hidden;
    button.setAttribute('aria-expanded', String(!target.hidden));
  });
  return button;
}

function toolsOf(bubble) {
  return bubble.querySelector('.tools') ?? bubble.appendChild(element('div', { className: 'tools' }));
}

/** Corrections under the learner's bubble (wrong part struck through, right one beside it), translation toggle on the answer. */
function showFeedback(turn, feedback) {
  window.parley.lastFeedback = feedback;
  if (turn.user) {
    const block = element('li', { className: 'corrections' });
    block.setAttribute('aria-label', 'Corrections');
    if (feedback.corrections.length === 0) block.append(element('p', { className: 'correction none', textContent: '✓ Nothing to correct' }));
    for (const c of feedback.corrections) {
      const explanation = element('span', { className: 'explanation', textContent: c.explanation });
      const line = element('p', { className: 'correction', title: c.explanation });
      line.append(element('del', { textContent: c.original }), ' → ', element('ins', { textContent: c.corrected }), ' ');
      if (c.explanation) line.append(toggleButton('Why?', explanation), explanation);
      block.append(line);
    }
    turn.user.after(block);
  }
  if (turn.answer && feedback.translation) {
    const translation = element('p', { className: 'translation', textContent: feedback.translation });
    const button = toggleButton('Translate', translation);
    button.className = 'translate';
    toolsOf(turn.answer).append(button);
    turn.answer.append(translation);
  }
}

function addReplay(turn) {
  if (!turn.answer || turn.audio.length === 0) return;
  const button = element('button', { type: 'button', className: 'replay', textContent: '▶ Replay' });
  button.setAttribute('aria-label', 'Replay this answer');
  button.addEventListener('click', () => turn.audio.forEach((wav) => void playWav(wav, { count: false })));
  toolsOf(turn.answer).prepend(button);
}

/** The learner's words in the current language, and the CSV export of them. */
async function refreshVocabulary() {
  const language = $('language').value;
  const base = `/api/learners/${learnerId}/vocabulary?language=${encodeURIComponent(language)}`;
  $('vocabulary-export').href = `${base}&format=csv`;
  const body = await apiFetch(base).then((r) => r.json()).catch(() => ({ vocabulary: [] }));
  $('vocabulary').replaceChildren(
    ...(body.vocabulary ?? []).map((w) =>
      element('li', {}, element('strong', { textContent: w.word }), ` — ${w.translation} `, element('span', { className: 'seen', textContent: `×${w.times_seen}` })),
    ),
  );
  if (!body.vocabulary?.length) $('vocabulary').append(element('li', { className: 'seen', textContent: 'No words yet: they appear after each answer.' }));
}

function settings() {
  return {
    language: $('language').value,
    native_language: $('native-language').value,
    difficulty: $('difficulty').value,
    scenario: $('scenario').value,
    feedback: $('feedback').checked,
    learner_id: learnerId,
  };
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
  const turn = { user: userBubble, answer: undefined, audio: [] };
  try {
    const response = await apiFetch(request.url, request.init);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `HTTP ${response.status}`);
    }
    await readEvents(response, (event, data) => {
      if (data.session_id) saveSession(data.session_id);
      if (event === 'transcription') {
        turn.user = addMessage('user', data.text);
        $('status').textContent = 'Thinking…';
      } else if (event === 'response_start') {
        turn.answer = addMessage('assistant');
      } else if (event === 'response_chunk') {
        turn.answer.querySelector('.text').textContent += data.chunk;
      } else if (event === 'audio') {
        turn.audio.push(data.audio);
        void playWav(data.audio);
      } else if (event === 'feedback') {
        showFeedback(turn, data);
      } else if (event === 'complete') {
        window.parley.lastComplete = data;
        addReplay(turn);
        void refreshVocabulary();
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
    for (const [key, value] of Object.entries(settings())) form.append(key, String(value));
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
const live = { socket: null, stream: null, context: null, answers: new Map(), users: new Map() };
window.parley.live = { completes: 0, turns: 0 };

function liveUrl() {
  const params = new URLSearchParams(settings());
  if (state.sessionId) params.set('session_id', state.sessionId);
  if (speechRate()) params.set('speech_rate', speechRate());
  // A socket cannot carry an Authorization header from the browser: the key goes in the query.
  if (state.apiKey) params.set('api_key', state.apiKey);
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
    live.users.set(turn, addMessage('user', data.text));
  } else if (event === 'response_start') live.answers.set(turn, addMessage('assistant'));
  else if (event === 'response_chunk') live.answers.get(turn).querySelector('.text').textContent += data.chunk;
  else if (event === 'feedback') showFeedback({ user: live.users.get(turn), answer: live.answers.get(turn) }, data);
  else if (event === 'audio') void playWav(data.audio);
  else if (event === 'interrupted') live.answers.get(turn)?.classList.add('interrupted');
  else if (event === 'complete') {
    window.parley.lastComplete = data;
    window.parley.live.completes += 1;
    void refreshVocabulary();
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
  if (state.sessionId) await apiFetch(`/api/conversation/session/${state.sessionId}`, { method: 'DELETE' });
  state.sessionId = undefined;
  localStorage.removeItem('parley.session');
  $('messages').replaceChildren();
});
$('language').addEventListener('change', () => {
  localStorage.setItem('parley.language', $('language').value);
  void refreshVocabulary();
});
$('native-language').addEventListener('change', () => localStorage.setItem('parley.native', $('native-language').value));
// Hands-free: a changed setting applies from the next turn on the open socket.
for (const id of ['language', 'native-language', 'difficulty', 'scenario', 'feedback']) {
  $(id).addEventListener('change', () => {
    if (live.socket?.readyState === WebSocket.OPEN) live.socket.send(JSON.stringify({ type: 'settings', ...settings() }));
  });
}

await loadCatalog();
await Promise.all([showHealth(), showDemoBanner(), refreshVocabulary()]);
setInterval(showHealth, 15000);
