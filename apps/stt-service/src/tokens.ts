export const STT_CONFIG = Symbol('STT_CONFIG');
