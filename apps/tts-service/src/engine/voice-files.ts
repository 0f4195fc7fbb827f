import { readFile, stat } from 'node:fs/promises';

/**
 * Checks in JS what would otherwise crash the process inside sherpa-onnx (FACTS: a model
 * without `sample_rate` metadata exits the process, tokens.txt without `^` never settles).
 * Throws an Error that says which file is wrong and why.
 */
export async function checkVoiceFiles(voiceId: string, files: { model: string; tokens: string }): Promise<void> {
  await checkFile(voiceId, 'model', files.model);
  await checkFile(voiceId, 'tokens', files.tokens);
  const model = await readFile(files.model);
  if (model.indexOf('sample_rate') < 0) {
    throw new Error(`voice ${voiceId}: model ${files.model} has no "sample_rate" metadata; it is not a Piper/VITS voice prepared for sherpa-onnx`);
  }
  const symbols = tokenSymbols(await readFile(files.tokens, 'utf8'));
  const missing = ['_', '^', '$'].filter((symbol) => !symbols.has(symbol));
  if (missing.length) {
    throw new Error(`voice ${voiceId}: tokens ${files.tokens} lacks the symbol(s) ${missing.join(' ')} (pad, start and end) that Piper voices need`);
  }
}

async function checkFile(voiceId: string, what: string, path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`voice ${voiceId}: ${what} file not found: ${path}`);
  if (!info.isFile() || info.size === 0) throw new Error(`voice ${voiceId}: ${what} file is empty or not a file: ${path}`);
}

/** The symbols of a tokens.txt (`symbol id` per line; a line holding only an id is the space). */
export function tokenSymbols(tokens: string): Set<string> {
  const symbols = new Set<string>();
  for (const line of tokens.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (!trimmed.trim()) continue;
    const match = /^(.*)\s+(\d+)$/.exec(trimmed);
    symbols.add(match ? match[1]! : ' ');
  }
  return symbols;
}
