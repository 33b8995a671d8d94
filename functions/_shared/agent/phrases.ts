// What the bot says without a model, in the widget's languages.

export type Locale = 'en' | 'es' | 'pt' | 'fr' | 'de' | 'he';

const PHRASES = {
  en: {
    found: 'Here is what I found in our help articles:',
    nothing: "I couldn't find an answer to that in our help articles.",
    offerHuman: 'Would you like to talk to a person from our team?',
    talkToHuman: 'Talk to a human',
    handoff: 'I am connecting you with a person from our team. They will reply here shortly.',
    trouble: 'Sorry, I ran into a problem answering that.',
  },
  es: {
    found: 'Esto es lo que encontré en nuestros artículos de ayuda:',
    nothing: 'No encontré una respuesta en nuestros artículos de ayuda.',
    offerHuman: '¿Quieres hablar con una persona de nuestro equipo?',
    talkToHuman: 'Hablar con una persona',
    handoff: 'Te estoy conectando con una persona de nuestro equipo. Te responderá aquí en breve.',
    trouble: 'Lo siento, tuve un problema al responder.',
  },
  pt: {
    found: 'Isto é o que encontrei nos nossos artigos de ajuda:',
    nothing: 'Não encontrei uma resposta nos nossos artigos de ajuda.',
    offerHuman: 'Quer falar com uma pessoa da nossa equipe?',
    talkToHuman: 'Falar com uma pessoa',
    handoff: 'Estou conectando você com uma pessoa da nossa equipe. Ela responderá aqui em breve.',
    trouble: 'Desculpe, tive um problema ao responder.',
  },
  fr: {
    found: "Voici ce que j'ai trouvé dans nos articles d'aide :",
    nothing: "Je n'ai pas trouvé de réponse dans nos articles d'aide.",
    offerHuman: 'Voulez-vous parler à une personne de notre équipe ?',
    talkToHuman: 'Parler à une personne',
    handoff:
      'Je vous mets en relation avec une personne de notre équipe. Elle vous répondra ici sous peu.',
    trouble: "Désolé, j'ai rencontré un problème pour répondre.",
  },
  de: {
    found: 'Das habe ich in unseren Hilfeartikeln gefunden:',
    nothing: 'Dazu habe ich in unseren Hilfeartikeln keine Antwort gefunden.',
    offerHuman: 'Möchten Sie mit einer Person aus unserem Team sprechen?',
    talkToHuman: 'Mit einem Menschen sprechen',
    handoff:
      'Ich verbinde Sie mit einer Person aus unserem Team. Sie antwortet Ihnen hier in Kürze.',
    trouble: 'Entschuldigung, beim Antworten ist ein Problem aufgetreten.',
  },
  he: {
    found: 'זה מה שמצאתי במאמרי העזרה שלנו:',
    nothing: 'לא מצאתי תשובה לכך במאמרי העזרה שלנו.',
    offerHuman: 'האם תרצו לדבר עם נציג מהצוות שלנו?',
    talkToHuman: 'לדבר עם נציג',
    handoff: 'אני מעביר אתכם לנציג מהצוות שלנו. הוא יענה כאן בקרוב.',
    trouble: 'מצטערים, נתקלתי בבעיה בתשובה.',
  },
} satisfies Record<Locale, Record<string, string>>;

export type Phrases = (typeof PHRASES)['en'];

export function phrasesFor(locale: string | null | undefined): Phrases {
  const language = (locale ?? 'en').slice(0, 2).toLowerCase();
  return (PHRASES as Record<string, Phrases>)[language] ?? PHRASES.en;
}
