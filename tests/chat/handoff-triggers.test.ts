import { describe, expect, it } from 'vitest';
import {
  formatBack,
  handoffRules,
  keywordIn,
  lowConfidence,
  repeatsQuestion,
  triggerBeforeAnswer,
} from '../../functions/_shared/agent/handoff.ts';

// The tenant's handoff rules as the reply job reads them (functions/_shared/agent/handoff.ts).

describe('keywords', () => {
  const rules = handoffRules({
    keywords: { en: ['refund', 'speak to a manager'], fr: ['remboursé'], he: ['החזר כספי'] },
  });

  it('match whole words and phrases, case and accents ignored, in the conversation language', () => {
    expect(keywordIn(rules, 'I want a REFUND!', 'en')).toBe('refund');
    expect(keywordIn(rules, 'Can I speak to a   manager?', 'en-GB')).toBe('speak to a manager');
    expect(keywordIn(rules, 'Je veux être rembourse', 'fr')).toBe('remboursé');
    expect(keywordIn(rules, 'אני רוצה החזר כספי בבקשה', 'he')).toBe('החזר כספי');
  });

  it('do not match inside a word or in another language', () => {
    expect(keywordIn(rules, 'Is this refundable?', 'en')).toBeNull();
    expect(keywordIn(rules, 'I want a refund', 'fr')).toBeNull();
    expect(keywordIn(rules, 'I want a refund', null)).toBeNull();
  });

  it('a plain list applies to every language; malformed rules are no rules', () => {
    expect(keywordIn(handoffRules({ keywords: ['GDPR'] }), 'gdpr request', 'de')).toBe('GDPR');
    expect(handoffRules({ keywords: 'refund' })).toEqual({});
    expect(handoffRules(null)).toEqual({});
    expect(triggerBeforeAnswer(handoffRules({ low_confidence: 7 }), 'x y', 'en', [])).toBeNull();
  });
});

describe('the same question twice', () => {
  const history = [
    { role: 'user', content: 'How long does standard shipping take?' },
    { role: 'assistant', content: 'Three to five days.' },
  ];

  it('is seen across case and punctuation, not for a different question or a one-word reply', () => {
    expect(repeatsQuestion('how long does standard shipping take', history)).toBe(true);
    expect(repeatsQuestion('How long does express shipping take to Canada?', history)).toBe(false);
    expect(repeatsQuestion('ok', [{ role: 'user', content: 'ok' }])).toBe(false);
    // The bot's own words are not the visitor's question.
    expect(repeatsQuestion('Three to five days.', history)).toBe(false);
  });

  it('hands over only when the tenant asks for it', () => {
    const message = 'How long does standard shipping take?';
    expect(triggerBeforeAnswer(handoffRules({}), message, 'en', history)).toBeNull();
    expect(
      triggerBeforeAnswer(handoffRules({ repeated_question: true }), message, 'en', history),
    ).toEqual({ reason: 'repeated_question', detail: message });
  });
});

describe('confidence floor and the time people are back', () => {
  it('hands over below the floor only', () => {
    const rules = handoffRules({ low_confidence: 0.4 });
    expect(lowConfidence(rules, 0.39)?.reason).toBe('low_confidence');
    expect(lowConfidence(rules, 0.4)).toBeNull();
    expect(lowConfidence(handoffRules({}), 0)).toBeNull();
  });

  it('says the day and time in the visitor language and the tenant zone', () => {
    const monday9Berlin = new Date('2026-12-07T08:00:00Z');
    expect(formatBack(monday9Berlin, 'en', 'Europe/Berlin')).toMatch(/^Monday.*09:00/);
    expect(formatBack(monday9Berlin, 'de', 'Europe/Berlin')).toMatch(/^Montag.*09:00/);
    // An unknown zone falls back to UTC rather than failing the reply.
    expect(formatBack(monday9Berlin, 'en', 'Mars/Base')).toMatch(/^Monday.*08:00/);
  });
});
