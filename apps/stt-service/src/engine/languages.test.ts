import { chooseCandidate } from './languages.js';

describe('chooseCandidate', () => {
  it("picks the candidate whisper finds likeliest, whatever whisper's own top language is", () => {
    const probabilities = { en: 0.2, es: 0.3, pt: 0.45 };
    expect(chooseCandidate(['es', 'en'], { language: 'pt', probabilities })).toBe('es');
    expect(chooseCandidate(['es', 'en'], { language: 'en', probabilities: { en: 0.7, es: 0.1 } })).toBe('en');
  });

  it("falls back to whisper's language when it is a candidate, else to the first candidate, without probabilities", () => {
    expect(chooseCandidate(['es', 'en'], { language: 'en' })).toBe('en');
    expect(chooseCandidate(['es', 'en'], { language: 'fr' })).toBe('es');
    expect(chooseCandidate(['es', 'en'], { language: 'fr', probabilities: { de: 0.9 } })).toBe('es');
  });
});
