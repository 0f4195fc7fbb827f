// (7) Memory: each service's resident set (children included: the stt-service's whisper-server)
// idle after start-up, and its peak while sections 1–5 loaded it; the model's share is the model
// file's size against the idle RSS (weights are memory-mapped or copied once: they are resident
// whether or not a request runs).
import { figure } from '../lib/report.mjs';

const MB = 1024 * 1024;

export function memory({ stack, idle, models }) {
  const rows = [];
  const modelBytes = {
    'llm-service': models.sizes.llm,
    'stt-service': models.sizes.stt,
    'tts-service': models.sizes.tts,
  };
  for (const [name, idleBytes] of Object.entries(idle)) {
    const loaded = (stack.samples.get(name) ?? []).map((b) => b / MB);
    rows.push(figure(`${name} RSS under load (samples every 100 ms)`, 'MB', loaded));
    rows.push(
      figure(`${name} RSS peak under load`, 'MB', [Math.max(...loaded)], {
        baseline: { name: 'idle after start-up (median of 1 s)', samples: [idleBytes / MB] },
      }),
    );
    if (modelBytes[name] !== undefined) {
      rows.push(
        figure(`${name}: model files`, 'MB', [modelBytes[name] / MB], {
          note: `${((100 * modelBytes[name]) / idleBytes).toFixed(1)}% of idle RSS`,
        }),
      );
    }
  }
  return {
    title: '7. Memory per service',
    setup:
      'resident set size from /proc (a service with its child processes); V8 collects garbage under load, so RSS under load can dip below idle',
    rows,
  };
}
