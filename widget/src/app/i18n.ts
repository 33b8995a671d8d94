// UI strings for the built-in languages; anything else falls back to English.

const en = {
  title: 'Chat',
  online: 'Connected',
  offline: 'Reconnecting…',
  connecting: 'Connecting…',
  placeholder: 'Write a message…',
  send: 'Send',
  close: 'Close chat',
  human: 'Talk to a human',
  newConversation: 'Start a new conversation',
  typing: 'is typing…',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
  sources: 'Sources',
  sending: 'Sending…',
  failed: 'Not sent.',
  retry: 'Retry',
  csatQuestion: 'How did we do?',
  csatThanks: 'Thanks for your feedback!',
  star: 'Rate {n} of 5',
  resolved: 'This conversation is closed.',
  handoffRequested: 'A person will join shortly.',
  error: 'Something went wrong. Please try again.',
  messages: 'Messages',
  characters: '{n} of {max} characters',
  you: 'You',
};
export type Strings = typeof en;

const es: Strings = {
  title: 'Chat',
  online: 'Conectado',
  offline: 'Reconectando…',
  connecting: 'Conectando…',
  placeholder: 'Escribe un mensaje…',
  send: 'Enviar',
  close: 'Cerrar chat',
  human: 'Hablar con una persona',
  newConversation: 'Iniciar una nueva conversación',
  typing: 'está escribiendo…',
  helpful: 'Útil',
  notHelpful: 'No es útil',
  sources: 'Fuentes',
  sending: 'Enviando…',
  failed: 'No enviado.',
  retry: 'Reintentar',
  csatQuestion: '¿Qué tal lo hicimos?',
  csatThanks: '¡Gracias por tu opinión!',
  star: 'Valorar {n} de 5',
  resolved: 'Esta conversación está cerrada.',
  handoffRequested: 'Una persona se unirá en breve.',
  error: 'Algo salió mal. Inténtalo de nuevo.',
  messages: 'Mensajes',
  characters: '{n} de {max} caracteres',
  you: 'Tú',
};

const pt: Strings = {
  title: 'Chat',
  online: 'Conectado',
  offline: 'Reconectando…',
  connecting: 'Conectando…',
  placeholder: 'Escreva uma mensagem…',
  send: 'Enviar',
  close: 'Fechar chat',
  human: 'Falar com uma pessoa',
  newConversation: 'Iniciar uma nova conversa',
  typing: 'está digitando…',
  helpful: 'Útil',
  notHelpful: 'Não foi útil',
  sources: 'Fontes',
  sending: 'Enviando…',
  failed: 'Não enviada.',
  retry: 'Tentar de novo',
  csatQuestion: 'Como nos saímos?',
  csatThanks: 'Obrigado pela avaliação!',
  star: 'Avaliar {n} de 5',
  resolved: 'Esta conversa foi encerrada.',
  handoffRequested: 'Uma pessoa vai atender em breve.',
  error: 'Algo deu errado. Tente novamente.',
  messages: 'Mensagens',
  characters: '{n} de {max} caracteres',
  you: 'Você',
};

const fr: Strings = {
  title: 'Chat',
  online: 'Connecté',
  offline: 'Reconnexion…',
  connecting: 'Connexion…',
  placeholder: 'Écrivez un message…',
  send: 'Envoyer',
  close: 'Fermer le chat',
  human: 'Parler à une personne',
  newConversation: 'Démarrer une nouvelle conversation',
  typing: 'écrit…',
  helpful: 'Utile',
  notHelpful: 'Pas utile',
  sources: 'Sources',
  sending: 'Envoi…',
  failed: 'Non envoyé.',
  retry: 'Réessayer',
  csatQuestion: 'Comment était notre aide ?',
  csatThanks: 'Merci pour votre avis !',
  star: 'Noter {n} sur 5',
  resolved: 'Cette conversation est terminée.',
  handoffRequested: 'Une personne va vous répondre.',
  error: 'Une erreur est survenue. Réessayez.',
  messages: 'Messages',
  characters: '{n} sur {max} caractères',
  you: 'Vous',
};

const de: Strings = {
  title: 'Chat',
  online: 'Verbunden',
  offline: 'Verbindung wird wiederhergestellt…',
  connecting: 'Verbinde…',
  placeholder: 'Nachricht schreiben…',
  send: 'Senden',
  close: 'Chat schließen',
  human: 'Mit einem Menschen sprechen',
  newConversation: 'Neues Gespräch beginnen',
  typing: 'schreibt…',
  helpful: 'Hilfreich',
  notHelpful: 'Nicht hilfreich',
  sources: 'Quellen',
  sending: 'Wird gesendet…',
  failed: 'Nicht gesendet.',
  retry: 'Erneut versuchen',
  csatQuestion: 'Wie zufrieden waren Sie?',
  csatThanks: 'Danke für Ihr Feedback!',
  star: '{n} von 5 bewerten',
  resolved: 'Dieses Gespräch ist beendet.',
  handoffRequested: 'Gleich meldet sich ein Mensch.',
  error: 'Etwas ist schiefgelaufen. Bitte erneut versuchen.',
  messages: 'Nachrichten',
  characters: '{n} von {max} Zeichen',
  you: 'Sie',
};

const he: Strings = {
  title: 'צ׳אט',
  online: 'מחובר',
  offline: 'מתחבר מחדש…',
  connecting: 'מתחבר…',
  placeholder: 'כתבו הודעה…',
  send: 'שליחה',
  close: 'סגירת הצ׳אט',
  human: 'שיחה עם נציג',
  newConversation: 'התחלת שיחה חדשה',
  typing: 'מקליד/ה…',
  helpful: 'מועיל',
  notHelpful: 'לא מועיל',
  sources: 'מקורות',
  sending: 'שולח…',
  failed: 'לא נשלח.',
  retry: 'ניסיון חוזר',
  csatQuestion: 'איך היה השירות?',
  csatThanks: 'תודה על המשוב!',
  star: 'דירוג {n} מתוך 5',
  resolved: 'השיחה הסתיימה.',
  handoffRequested: 'נציג יצטרף בקרוב.',
  error: 'משהו השתבש. נסו שוב.',
  messages: 'הודעות',
  characters: '{n} מתוך {max} תווים',
  you: 'את/ה',
};

const catalog: Record<string, Strings> = { en, es, pt, fr, de, he };

/** The base language, shaped the way the chat API accepts it. */
export function baseLanguage(locale: string): string {
  const base = /^[a-z]{2,3}/i.exec(locale.trim())?.[0]?.toLowerCase();
  return base ?? 'en';
}

export function stringsFor(locale: string): Strings {
  return catalog[baseLanguage(locale)] ?? en;
}

const RTL_LANGUAGES = new Set(['he', 'ar', 'fa', 'ur', 'yi']);
export const isRtlLocale = (locale: string) => RTL_LANGUAGES.has(baseLanguage(locale));

export const format = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
