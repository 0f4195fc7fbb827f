/** The model services behind the gateway: the names in subjects, queue groups, health, logs and metrics. */
export const SERVICE_NAMES = ['stt', 'llm', 'tts'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
