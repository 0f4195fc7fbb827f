// Cancel → generation stopped (folds in the former apps/llm-service/bench/cancel-latency.mjs):
// a caller publishes the request's cancel subject after the 10th chunk; the llm-service's
// histogram parley_cancel_to_stop_seconds measures from the cancel to node-llama-cpp having
// stopped, and the caller sees the in-flight gauge return to 0 (polled on /metrics).
import { connect } from '@nats-io/transport-node';
import { cancelSubject, SUBJECTS } from '@parley/contracts';
import { metricValue, waitUntil } from '@parley/service-kit/testing';
import { figure } from '../lib/report.mjs';
import { LlmNatsClient } from '../lib/clients.mjs';
import { Stack } from '../lib/system.mjs';

export async function cancelToStop({ models, counts }) {
  // A private broker: the main stack's llm-service must not take these requests.
  const stack = await Stack.start(models);
  const llm = await stack.startLlm('llm-service', { LLM_MODEL_PATH: models.llmEndless });
  const client = new LlmNatsClient(stack.nats.url);
  const nc = await connect({ servers: stack.nats.url, name: 'bench-cancel' });
  const metrics = () => fetch(llm.metricsUrl).then((r) => r.text());
  const callerMs = [];
  try {
    for (let i = 0; i < counts.cancel; i++) {
      const request_id = `bench-cancel-${i}`.padEnd(16, 'x');
      await new Promise((resolve, reject) => {
        let chunks = 0;
        const subscription = client.proxy
          .send(SUBJECTS.llm.chat, { request_id, messages: [{ role: 'user', content: 'Hola' }], max_tokens: 2048 })
          .subscribe({
            next: (message) => {
              if (message.type !== 'chunk' || ++chunks !== 10) return;
              const cancelledAt = performance.now();
              nc.publish(cancelSubject('llm', request_id));
              subscription.unsubscribe();
              waitUntil(
                async () => metricValue(await metrics(), 'parley_requests_in_flight', { operation: 'chat' }) === 0,
                'generation stopped',
                10_000,
                1,
              )
                .then(() => callerMs.push(performance.now() - cancelledAt))
                .then(resolve, reject);
            },
            error: reject,
          });
      });
    }
    const text = await metrics();
    const count = metricValue(text, 'parley_cancel_to_stop_seconds_count');
    const sum = metricValue(text, 'parley_cancel_to_stop_seconds_sum');
    return {
      title: '8. Cancel → generation stopped (llm-service)',
      setup: 'cancel published after the 10th chunk of an endless answer',
      rows: [
        figure('cancel → engine stopped, inside the llm-service (histogram mean)', 'ms', [(1000 * sum) / count], {
          note: `${count} cancels`,
        }),
        figure('cancel → in-flight gauge 0, seen by the caller (polling /metrics)', 'ms', callerMs),
      ],
    };
  } finally {
    await nc.close();
    await client.close();
    await stack.close();
  }
}
