/**
 * Container detection from the bytes lives in service-kit (the gateway uses it too, to refuse
 * non-audio uploads before they reach the broker); re-exported here for the audio pipeline.
 */
export { describeBytes, detectContainer, sniffContainer, type AudioContainer } from '@parley/service-kit';
