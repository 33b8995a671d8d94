import { describe, expect, it } from 'vitest';
import {
  answerLanguage,
  asksForPerson,
  plainSentences,
  retrievalAnswer,
  retrievalDraft,
} from '../../functions/_shared/agent/fallback.ts';
import { phrasesFor } from '../../functions/_shared/agent/phrases.ts';
import type { Passage } from '../../functions/_shared/agent/retrieval.ts';

// The answer without a model, as the visitor reads it.

function passage(document: string, title: string, heading: string, content: string): Passage {
  return {
    chunk_id: `${document}-chunk`,
    document_id: document,
    title,
    heading,
    content,
    score: 0.03,
    full_text_rank: 1,
    semantic_rank: 1,
    similarity: 0.5,
  };
}

const SHIPPING_COSTS = passage(
  'shipping',
  'Shipping',
  'Shipping > Costs',
  [
    'Service | Order total | Cost',
    'Standard | over $75 | free',
    'Express | any | $19.95',
    'Standard shipping is free on orders over $75; below that it costs $6.95. Express shipping costs $19.95.',
  ].join('\n'),
);
const SHIPPING_TIMES = passage(
  'shipping',
  'Shipping',
  'Shipping > Delivery times',
  'Orders placed before 2 pm ship the same business day.\n- **Standard shipping** takes 3 to 5 business days.\n- **Express shipping** takes 1 to 2 business days.',
);
const RETURNS = passage(
  'returns',
  'Returns and exchanges',
  'Returns and exchanges > Policy',
  'You can return unused gear within **60 days of delivery** for a full refund.',
);
const VERSAND = passage(
  'versand',
  'Versand nach Deutschland',
  'Versand nach Deutschland > Lieferzeiten',
  'Die Lieferung dauert 3 bis 5 Werktage. Der Versand kostet 6,95 Euro.',
);

describe('the answer without a model', () => {
  it('quotes the sentences that answer, without heading paths or table syntax', () => {
    const answer = retrievalAnswer([SHIPPING_COSTS, RETURNS, SHIPPING_TIMES], 'en', {
      question: 'How much does express shipping cost?',
      offerHuman: false,
    });
    expect(answer.content).toContain('Express shipping costs $19.95.');
    expect(answer.content).not.toContain('|');
    expect(answer.content).not.toContain('>');
    expect(answer.content).not.toContain('**');
    expect(answer.content).not.toContain('Shipping > Costs');
    expect(answer.content).not.toContain('Order total');
    // It quotes the shipping article only, so it cites only that.
    expect(answer.quoted).toEqual(['shipping']);
    expect(answer.content).not.toContain('60 days');
    // Confident: no offer of a person the visitor did not ask for.
    expect(answer.quickReplies).toEqual([]);
    expect(answer.content).not.toContain(phrasesFor('en').offerHuman);
  });

  it('cites only the documents it quotes', () => {
    const sources = [
      { document_id: 'returns', title: 'Returns and exchanges' },
      { document_id: 'shipping', title: 'Shipping' },
    ];
    const draft = retrievalDraft(
      [RETURNS, SHIPPING_TIMES],
      sources,
      {
        message: { content: 'How long does express shipping take?' },
        conversation: { locale: 'en' },
      },
      { offerHuman: false },
    );
    expect(draft.content).toContain('1 to 2 business days');
    expect(draft.sources).toEqual([{ document_id: 'shipping', title: 'Shipping' }]);
  });

  it('says plainly that nothing matched, and offers a person, when nothing answers', () => {
    const answer = retrievalAnswer([RETURNS, SHIPPING_COSTS], 'en', {
      question: 'Do you sell pizza?',
      offerHuman: false,
    });
    expect(answer.content).toBe(`${phrasesFor('en').nothing} ${phrasesFor('en').offerHuman}`);
    expect(answer.quoted).toEqual([]);
    expect(answer.quickReplies).toEqual([phrasesFor('en').talkToHuman]);
    expect(retrievalAnswer([], 'de', { question: 'Hallo?' }).content).toContain(
      phrasesFor('de').nothing,
    );
  });

  it('offers a person when the visitor asks for one', () => {
    expect(asksForPerson('Can I talk to a real person about my return?')).toBe(true);
    expect(asksForPerson('Ich möchte mit einem Mitarbeiter sprechen')).toBe(true);
    expect(asksForPerson('How do returns work?')).toBe(false);
    const answer = retrievalAnswer([RETURNS], 'en', {
      question: 'Can I return unused gear or talk to a person?',
      offerHuman: false,
    });
    expect(answer.quickReplies).toEqual([phrasesFor('en').talkToHuman]);
  });

  it('answers in the visitor’s language', () => {
    const answer = retrievalAnswer([VERSAND, SHIPPING_TIMES], 'en', {
      question: 'Wie lange dauert der Versand nach Deutschland?',
      offerHuman: false,
    });
    expect(answer.content.startsWith(phrasesFor('de').found)).toBe(true);
    expect(answer.content).toContain('3 bis 5 Werktage');
    expect(answer.quoted).toEqual(['versand']);
    // The widget's locale decides when the question does not say.
    const french = retrievalAnswer([SHIPPING_TIMES], 'fr', {
      question: 'express shipping',
      offerHuman: false,
    });
    expect(french.content.startsWith(phrasesFor('fr').found)).toBe(true);
    expect(answerLanguage('¿Cuánto cuesta el envío a España?', 'en')).toBe('es');
    expect(answerLanguage('כמה עולה משלוח?', 'en')).toBe('he');
    expect(answerLanguage('TH-10421', 'pt')).toBe('pt');
  });

  it('reads Markdown lists and tables as plain sentences', () => {
    expect(plainSentences(SHIPPING_TIMES.content)).toEqual([
      'Orders placed before 2 pm ship the same business day.',
      'Standard shipping takes 3 to 5 business days.',
      'Express shipping takes 1 to 2 business days.',
    ]);
    expect(plainSentences('| A | B |\n| --- | --- |\n| x | 1 |')).toEqual(['x, 1']);
  });
});
