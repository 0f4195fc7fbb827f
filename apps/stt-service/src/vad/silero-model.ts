import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The npm package that ships the real Silero VAD model (we never copy it into the repository). */
export const SILERO_PACKAGE = '@ricky0123/vad-web';
export const SILERO_V5_FILE = 'dist/silero_vad_v5.onnx';

/**
 * Where the Silero v5 model is: STT_VAD_MODEL_PATH when set, else the file inside the npm package,
 * resolved at run time (node_modules may be hoisted anywhere).
 */
export function resolveSileroModelPath(override: string | undefined): string {
  if (override) {
    if (!existsSync(override)) throw new Error(`STT_VAD_MODEL_PATH=${override} does not exist`);
    return override;
  }
  try {
    return createRequire(import.meta.url).resolve(`${SILERO_PACKAGE}/${SILERO_V5_FILE}`);
  } catch (error) {
    throw new Error(
      `the Silero VAD model was not found in ${SILERO_PACKAGE} (${(error as Error).message}); run npm ci, or set STT_VAD_MODEL_PATH to a silero_vad_v5.onnx`,
      { cause: error },
    );
  }
}
