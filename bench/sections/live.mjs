// (4) Live conversation: from the last voiced sample reaching the server to `transcription` and
// to the first `audio`, with the VAD's silence wait beside it. Measured once the
// /api/conversation/live WebSocket exists in this tree; until then one row says so.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unavailable } from '../lib/report.mjs';
import { REPO } from '../lib/system.mjs';

/** Whether the built gateway serves the live WebSocket route. */
function liveRouteBuilt() {
  const dist = join(REPO, 'apps/gateway/dist');
  const files = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
    );
  return (
    existsSync(dist) &&
    files(dist).some((f) => f.endsWith('.js') && readFileSync(f, 'utf8').includes('conversation/live'))
  );
}

export async function liveConversation() {
  const reason = liveRouteBuilt()
    ? 'GET /api/conversation/live exists in this build, but this harness does not measure it yet'
    : 'GET /api/conversation/live (WebSocket) is not in this tree yet';
  return {
    title: '4. Live conversation (WebSocket)',
    rows: [
      unavailable('last voiced sample → transcription', reason),
      unavailable('last voiced sample → first audio', reason),
      unavailable('VAD silence wait (beside them)', reason),
    ],
  };
}
