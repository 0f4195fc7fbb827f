import { SCENARIOS } from '@parley/contracts';
import { buildSystemPrompt } from './tutor-prompt.js';

describe('buildSystemPrompt', () => {
  it('names the language and scenario, and asks beginners for English with translated phrases', () => {
    const prompt = buildSystemPrompt({ language: 'fr', difficulty: 'beginner', scenario: 'restaurant' });
    expect(prompt).toContain('French');
    expect(prompt).toContain(SCENARIOS.restaurant);
    expect(prompt).toMatch(/mostly in English/);
    expect(prompt).toMatch(/1-3 short sentences/);
  });

  it('asks advanced learners to be answered in the target language only', () => {
    const prompt = buildSystemPrompt({ language: 'de', difficulty: 'advanced', scenario: 'hotel' });
    expect(prompt).toMatch(/natural German only/);
    expect(prompt).not.toMatch(/mostly in English/);
  });
});
