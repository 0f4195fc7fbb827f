import type { Logger } from '@nestjs/common';
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project's build script (builds whisper-server from nodejs-whisper's bundled whisper.cpp into .cache). */
export const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-whisper-server.mjs', import.meta.url));

interface BuildScript {
  whisperBinaryPaths(): { server: string };
  buildWhisperServer(): Promise<{ server: string; built: boolean; seconds: number }>;
}

/**
 * The whisper-server executable: WHISPER_SERVER_BIN if set (images ship a prebuilt one), else the
 * project's build in .cache, built now by the project's script if it is missing (~1–2.5 min).
 */
export async function resolveWhisperServerBinary(configured: string | undefined, logger: Logger): Promise<string> {
  if (configured) {
    try {
      accessSync(configured, constants.X_OK);
    } catch {
      throw new Error(`WHISPER_SERVER_BIN=${configured} is not an executable file`);
    }
    return configured;
  }
  if (!existsSync(BUILD_SCRIPT)) {
    throw new Error(`whisper-server not configured: set WHISPER_SERVER_BIN (the build script ${BUILD_SCRIPT} is not here)`);
  }
  const script = (await import(pathToFileURL(BUILD_SCRIPT).href)) as BuildScript;
  const expected = script.whisperBinaryPaths().server;
  if (existsSync(expected)) return expected;
  logger.warn(`whisper-server is not built yet (${expected}); building it now with ${BUILD_SCRIPT} (takes minutes)`);
  const result = await script.buildWhisperServer();
  logger.log(`whisper-server built in ${result.seconds} s: ${result.server}`);
  return result.server;
}
