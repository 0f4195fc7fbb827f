export const LLM_CONFIG = Symbol('LLM_CONFIG');
