// @parley/models: the model manifest, the resumable/verified downloader, path resolution, and
// the tiny generated test fixtures.

export * from './manifest.js';
export {
  defaultModelsDir,
  findRepoRoot,
  fixturePaths,
  fixturesDir,
  getEntry,
  modelDir,
  resolveModel,
  resolveModelPath,
  UnknownModelError,
  type ResolvedModel,
} from './paths.js';
export { pullModel, hashFile, PullError, type FetchLike, type PullOptions, type PullResult, type PulledFile } from './pull.js';
export { LOCK_FILE, lockPath, readLock, type LockData, type LockedFile } from './lock.js';
export { createProgressReporter, formatBytes, type ProgressEvent, type ProgressListener } from './progress.js';
export { phonemeIdMapToTokens, preparePiperForSherpa, sherpaMetadata, encodeMetadataProps } from './piper.js';
export { writeTinyGguf } from './fixtures/gguf.js';
export { writeTinyWhisperModel } from './fixtures/whisper.js';
export { writeTinyPiperVoice } from './fixtures/piper.js';
export { ESPEAK_NG_DATA_CANDIDATES, findEspeakNgDataDir, isEspeakNgDataDir } from './espeak-ng-data.js';
export { pulledVoices, pulledModelPath, type PulledVoice } from './resident.js';
