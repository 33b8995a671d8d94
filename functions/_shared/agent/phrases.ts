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
    away: 'Our team is away right now and back {when}. Leave your email address here and we will write to you.',
    awayUnknown:
      'Our team is away right now. Leave your email address here and we will write to you.',
    emailThanks: 'Thank you! We will write to you at {email}.',
  },
  es: {
    found: 'Esto es lo que encontré en nuestros artículos de ayuda:',
    nothing: 'No encontré una respuesta en nuestros artículos de ayuda.',
    offerHuman: '¿Quieres hablar con una persona de nuestro equipo?',
    talkToHuman: 'Hablar con una persona',
    handoff: 'Te estoy conectando con una persona de nuestro equipo. Te responderá aquí en breve.',
    trouble: 'Lo siento, tuve un problema al responder.',
    away: 'Nuestro equipo no está disponible ahora; volverá el {when}. Deja aquí tu correo electrónico y te escribiremos.',
    awayUnknown:
      'Nuestro equipo no está disponible ahora. Deja aquí tu correo electrónico y te escribiremos.',
    emailThanks: '¡Gracias! Te escribiremos a {email}.',
  },
  pt: {
    found: 'Isto é o que encontrei nos nossos artigos de ajuda:',
    nothing: 'Não encontrei uma resposta nos nossos artigos de ajuda.',
    offerHuman: 'Quer falar com uma pessoa da nossa equipe?',
    talkToHuman: 'Falar com uma pessoa',
    handoff: 'Estou conectando você com uma pessoa da nossa equipe. Ela responderá aqui em breve.',
    trouble: 'Desculpe, tive um problema ao responder.',
    away: 'Nossa equipe não está disponível agora; volta {when}. Deixe seu e-mail aqui e escreveremos para você.',
    awayUnknown:
      'Nossa equipe não está disponível agora. Deixe seu e-mail aqui e escreveremos para você.',
    emailThanks: 'Obrigado! Escreveremos para {email}.',
  },
  fr: {
    found: "Voici ce que j'ai trouvé dans nos articles d'aide :",
    nothing: "Je n'ai pas trouvé de réponse dans nos articles d'aide.",
    offerHuman: 'Voulez-vous parler à une personne de notre équipe ?',
    talkToHuman: 'Parler à une personne',
    handoff:
      'Je vous mets en relation avec une personne de notre équipe. Elle vous répondra ici sous peu.',
    trouble: "Désolé, j'ai rencontré un problème pour répondre.",
    away: 'Notre équipe est absente pour le moment et revient {when}. Laissez votre adresse e-mail ici et nous vous écrirons.',
    awayUnknown:
      'Notre équipe est absente pour le moment. Laissez votre adresse e-mail ici et nous vous écrirons.',
    emailThanks: 'Merci ! Nous vous écrirons à {email}.',
  },
  de: {
    found: 'Das habe ich in unseren Hilfeartikeln gefunden:',
    nothing: 'Dazu habe ich in unseren Hilfeartikeln keine Antwort gefunden.',
    offerHuman: 'Möchten Sie mit einer Person aus unserem Team sprechen?',
    talkToHuman: 'Mit einem Menschen sprechen',
    handoff:
      'Ich verbinde Sie mit einer Person aus unserem Team. Sie antwortet Ihnen hier in Kürze.',
    trouble: 'Entschuldigung, beim Antworten ist ein Problem aufgetreten.',
    away: 'Unser Team ist gerade nicht da und ab {when} wieder erreichbar. Hinterlassen Sie hier Ihre E-Mail-Adresse, dann schreiben wir Ihnen.',
    awayUnknown:
      'Unser Team ist gerade nicht da. Hinterlassen Sie hier Ihre E-Mail-Adresse, dann schreiben wir Ihnen.',
    emailThanks: 'Danke! Wir schreiben Ihnen an {email}.',
  },
  he: {
    found: 'זה מה שמצאתי במאמרי העזרה שלנו:',
    nothing: 'לא מצאתי תשובה לכך במאמרי העזרה שלנו.',
    offerHuman: 'האם תרצו לדבר עם נציג מהצוות שלנו?',
    talkToHuman: 'לדבר עם נציג',
    handoff: 'אני מעביר אתכם לנציג מהצוות שלנו. הוא יענה כאן בקרוב.',
    trouble: 'מצטערים, נתקלתי בבעיה בתשובה.',
    away: 'הצוות שלנו לא זמין כרגע ויחזור {when}. השאירו כאן את כתובת האימייל שלכם ונכתוב לכם.',
    awayUnknown: 'הצוות שלנו לא זמין כרגע. השאירו כאן את כתובת האימייל שלכם ונכתוב לכם.',
    emailThanks: 'תודה! נכתוב לכם לכתובת {email}.',
  },
} satisfies Record<Locale, Record<string, string>>;

export type Phrases = (typeof PHRASES)['en'];

export function phrasesFor(locale: string | null | undefined): Phrases {
  const language = (locale ?? 'en').slice(0, 2).toLowerCase();
  return (PHRASES as Record<string, Phrases>)[language] ?? PHRASES.en;
}
