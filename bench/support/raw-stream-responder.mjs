#!/usr/bin/env node
// Baseline for the relay overhead: a bare NATS request/stream on the same broker, no NestJS, no
// gateway. Answers each request on `subject` with `chunks` messages (each stamped when sent) to
// the request's reply subject, `intervalMs` apart, then an empty message; at most `parallel`
// streams at once, the rest wait (as the llm-service's sequences do).
//   node raw-stream-responder.mjs <nats-url> <subject> <parallel>
import { connect } from '@nats-io/transport-node';

const [url, subject, parallel = '2'] = process.argv.slice(2);
const nc = await connect({ servers: url, name: 'bench-raw-responder' });
const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let active = 0;
const waiting = [];

async function serve(m) {
  const { chunks, intervalMs } = JSON.parse(new TextDecoder().decode(m.data));
  for (let n = 0; n < chunks; n++) {
    if (n > 0) await sleep(intervalMs);
    nc.publish(m.reply, JSON.stringify({ n, at_ms: epochMs(), text: ' palabra' }));
  }
  nc.publish(m.reply, '');
}

async function next() {
  while (active < Number(parallel) && waiting.length > 0) {
    active++;
    void serve(waiting.shift()).finally(() => {
      active--;
      void next();
    });
  }
}

const sub = nc.subscribe(subject);
console.log('ready');
for await (const m of sub) {
  waiting.push(m);
  void next();
}
