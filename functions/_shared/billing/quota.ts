import type { ReplyContext } from '../agent/context.ts';
import type { Draft } from '../agent/reply-types.ts';

// The plan quota on the reply path. A unit is reserved before any model or workflow is asked
// (private.reserve_bot_reply, in agent/prepare.ts: one SQL statement that cannot pass the limit,
// idempotent per visitor message), so a tenant at its limit costs nothing more. The visitor is
// never left without an answer: past the limit the bot says so politely, offers to take an email
// address, and hands the conversation to the team.

const OUT_OF_QUOTA: Record<string, string> = {
  en: "Our assistant can't answer any more questions right now, but our team is here to help. If you'd like a reply by email, leave your email address in this chat.",
  es: 'Nuestro asistente no puede responder más preguntas ahora mismo, pero nuestro equipo está aquí para ayudarte. Si prefieres una respuesta por correo, deja tu dirección de email en este chat.',
  pt: 'O nosso assistente não pode responder a mais perguntas agora, mas a nossa equipe está aqui para ajudar. Se preferir uma resposta por e-mail, deixe seu endereço de e-mail neste chat.',
  fr: 'Notre assistant ne peut plus répondre aux questions pour le moment, mais notre équipe est là pour vous aider. Si vous préférez une réponse par e-mail, laissez votre adresse e-mail dans ce chat.',
  de: 'Unser Assistent kann gerade keine weiteren Fragen beantworten, aber unser Team hilft Ihnen gern. Wenn Sie eine Antwort per E-Mail möchten, hinterlassen Sie Ihre E-Mail-Adresse in diesem Chat.',
  he: 'העוזר שלנו לא יכול לענות על שאלות נוספות כרגע, אבל הצוות שלנו כאן כדי לעזור. אם תרצו תשובה במייל, השאירו את כתובת המייל שלכם בצ׳אט.',
};

export function outOfQuotaMessage(locale: string | null | undefined): string {
  const language = (locale ?? 'en').slice(0, 2).toLowerCase();
  return OUT_OF_QUOTA[language] ?? (OUT_OF_QUOTA.en as string);
}

/** The reply made without any model when a quota is reached; the handoff adds the offer of a person. */
export function outOfQuotaDraft(context: ReplyContext, reason: string): Draft {
  return {
    content: outOfQuotaMessage(context.conversation.locale),
    quickReplies: [],
    engine: 'quota',
    provider: null,
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    rounds: 0,
    fallbackReason: reason,
    tools: [],
    handoff: { reason: `quota:${reason}` },
    passages: [],
    sources: [],
  };
}
