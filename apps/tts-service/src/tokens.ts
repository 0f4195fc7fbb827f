export const TTS_CONFIG = Symbol('TTS_CONFIG');
