import { realtimeClientEventSchema } from './openai-realtime.js';
import { describeIssues } from './validation.js';

const parse = (event: unknown) => realtimeClientEventSchema.safeParse(event);
const problem = (event: unknown) => {
  const result = parse(event);
  if (result.success) throw new Error('expected a refusal');
  return describeIssues(result.error);
};

describe('OpenAI Realtime client events', () => {
  it('reads session.update in the GA shape and in the beta shape', () => {
    const ga = parse({
      type: 'session.update',
      session: { type: 'realtime', instructions: 'Hi', audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: null }, output: { voice: { id: 'tiny' } } } },
    });
    expect(ga.success && ga.data.type === 'session.update' && ga.data.session).toEqual(
      expect.objectContaining({ shape: 'ga', instructions: 'Hi', audio: expect.objectContaining({ output: { voice: 'tiny' } }) }),
    );
    const beta = parse({ type: 'session.update', session: { modalities: ['audio', 'text'], voice: 'alloy', input_audio_format: 'pcm16', turn_detection: { type: 'server_vad', threshold: 0.6 } } });
    expect(beta.success && beta.data.type === 'session.update' && beta.data.session).toEqual(expect.objectContaining({ shape: 'beta', voice: 'alloy', turn_detection: { type: 'server_vad', threshold: 0.6 } }));
  });

  it('names what it refuses in a session: other session types, formats, tools', () => {
    expect(problem({ type: 'session.update', session: { type: 'transcription' } })).toMatch(/session\.type: only "realtime" sessions/);
    expect(problem({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } } } } })).toMatch(/session\.audio\.input\.format\.type: only audio\/pcm/);
    expect(problem({ type: 'session.update', session: { input_audio_format: 'g711_ulaw' } })).toMatch(/session\.input_audio_format: only 'pcm16'/);
    expect(problem({ type: 'session.update', session: { type: 'realtime', tools: [{ type: 'function', name: 'f' }] } })).toMatch(/tools are not supported/);
  });

  it('takes user text items only, and tells an unknown event type apart', () => {
    expect(parse({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hola' }] } }).success).toBe(true);
    expect(problem({ type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'x' }] } })).toMatch(/only user messages/);
    const unknown = parse({ type: 'conversation.item.truncate' });
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues[0]).toEqual(expect.objectContaining({ code: 'invalid_union', path: ['type'] }));
  });
});
