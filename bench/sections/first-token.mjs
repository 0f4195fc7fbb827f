// (2) First-token overhead: the first `response_chunk` at an SSE client vs the first token of
// node-llama-cpp called in this process, on the same model file, the exact messages the gateway
// sent (taken from the llm-service's bench stamp), the same sampling settings and threads.
import { getLlama, LlamaChatSession, LlamaLogLevel, resolveChatWrapper } from 'node-llama-cpp';
import { figure } from '../lib/report.mjs';
import { THREADS } from '../lib/system.mjs';
import { postSse } from '../lib/clients.mjs';

const TURN = { language: 'es', difficulty: 'advanced', scenario: 'greeting' };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** node-llama-cpp in-process, set up as the llm-service's adapter sets it up. */
async function loadInProcess(modelPath) {
  const threads = Number(THREADS);
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({
    sequences: 1,
    threads,
    contextSize: Math.min(4096, model.trainContextSize),
  });
  const sequence = context.getSequence();
  const chatWrapper = resolveChatWrapper(model);
  return {
    async firstTokenMs(request) {
      const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
      session.setChatHistory(
        request.messages
          .slice(0, -1)
          .map((m) =>
            m.role === 'system'
              ? { type: 'system', text: m.content }
              : m.role === 'user'
                ? { type: 'user', text: m.content }
                : { type: 'model', response: [m.content] },
          ),
      );
      const abort = new AbortController();
      const t0 = performance.now();
      let first;
      await session.promptWithMeta(request.messages.at(-1).content, {
        maxTokens: request.max_tokens,
        temperature: request.temperature,
        signal: abort.signal,
        stopOnAbortSignal: true,
        onTextChunk: (text) => {
          if (text && first === undefined) {
            first = performance.now() - t0;
            abort.abort();
          }
        },
      });
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
      return first;
    },
    dispose: () => model.dispose().then(() => llama.dispose()),
  };
}

export async function firstToken({ gateway, llmClient, stamps, models, counts }) {
  const inProcess = await loadInProcess(models.llm);
  const viaSse = [];
  const viaNats = [];
  const local = [];
  const afterEngine = [];
  const beforeEngine = [];
  try {
    for (let i = -2; i < counts.firstToken; i++) {
      const message = `Hola first token ${i}`;
      const turn = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, message });
      const firstChunk = turn.events.find((e) => e.event === 'response_chunk');
      await sleep(20);
      await stamps.flush();
      const stamp = stamps.byUserMessage(message);
      if (!stamp || !firstChunk)
        throw new Error(`no first chunk or no stamp for "${message}": ${JSON.stringify(turn.events.at(-1))}`);
      const request = { temperature: 0.7, max_tokens: 256, ...stamp.request };
      const direct = await llmClient.chat({ ...request, request_id: `bench-first-${i}` });
      const localMs = await inProcess.firstTokenMs(request);
      if (i < 0) continue; // warm-up
      viaSse.push(firstChunk.at - turn.sentAt);
      viaNats.push(direct.chunks[0] - direct.sentAt);
      local.push(localMs);
      afterEngine.push(firstChunk.at - stamp.chunks[0]);
      beforeEngine.push(stamp.startedAt - turn.sentAt);
    }
  } finally {
    await inProcess.dispose();
  }
  const baseline = { name: 'node-llama-cpp in-process, same model/messages/settings', samples: local };
  return {
    title: '2. First-token overhead',
    setup: 'request sent → first text; runs interleaved (SSE, NATS, in-process) with the same messages',
    rows: [
      figure('first response_chunk at the SSE client', 'ms', viaSse, { baseline }),
      figure('first chunk at a NATS client of the llm-service', 'ms', viaNats, { baseline }),
      figure('request sent → engine starts (gateway, NATS, service)', 'ms', beforeEngine),
      figure('engine first token → SSE client', 'ms', afterEngine),
    ],
  };
}
