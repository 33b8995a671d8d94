import type { Sql } from '../db/port.ts';
import { normalizeKeyword } from '../flows/schema.ts';

// A customer's word on broadcasts: STOP (and its equivalents in the widget's languages) opts out
// for good, START opts back in. Both are answered at once with a confirmation in the customer's
// language, stored as the reply to their message, so the bot never answers it as a question.

const OPT_OUT: Record<string, string> = {
  stop: 'en',
  unsubscribe: 'en',
  'stop all': 'en',
  cancel: 'en',
  baja: 'es',
  alto: 'es',
  parar: 'pt',
  sair: 'pt',
  arrêt: 'fr',
  arret: 'fr',
  désabonner: 'fr',
  stopp: 'de',
  abmelden: 'de',
  הסר: 'he',
  הסרה: 'he',
};
const OPT_IN: Record<string, string> = {
  start: 'en',
  subscribe: 'en',
  alta: 'es',
  iniciar: 'pt',
  démarrer: 'fr',
  anmelden: 'de',
  הצטרף: 'he',
};

const CONFIRM_OUT: Record<string, string> = {
  en: 'You will not receive any more broadcasts from us. Write START to subscribe again.',
  es: 'No recibirás más difusiones nuestras. Escribe ALTA para volver a suscribirte.',
  pt: 'Você não receberá mais transmissões nossas. Escreva INICIAR para voltar a assinar.',
  fr: 'Vous ne recevrez plus nos diffusions. Écrivez DÉMARRER pour vous réabonner.',
  de: 'Sie erhalten keine Sendungen mehr von uns. Schreiben Sie ANMELDEN, um sie wieder zu erhalten.',
  he: 'לא תקבלו מאיתנו עוד הודעות תפוצה. כתבו הצטרף כדי להירשם מחדש.',
};
const CONFIRM_IN: Record<string, string> = {
  en: 'You are subscribed to our broadcasts. Write STOP at any time to unsubscribe.',
  es: 'Te has suscrito a nuestras difusiones. Escribe BAJA cuando quieras para darte de baja.',
  pt: 'Você assinou nossas transmissões. Escreva SAIR a qualquer momento para cancelar.',
  fr: 'Vous êtes abonné à nos diffusions. Écrivez ARRET à tout moment pour vous désabonner.',
  de: 'Sie erhalten nun unsere Sendungen. Schreiben Sie STOPP, um sich abzumelden.',
  he: 'נרשמתם להודעות התפוצה שלנו. כתבו הסר בכל עת כדי להסיר.',
};

export type ConsentWord = { kind: 'out' | 'in'; locale: string } | null;

/** Whether a whole message is an opt-out or opt-in keyword, and in which language. */
export function consentWord(content: string): ConsentWord {
  const key = normalizeKeyword(content);
  if (OPT_OUT[key]) return { kind: 'out', locale: OPT_OUT[key] };
  if (OPT_IN[key]) return { kind: 'in', locale: OPT_IN[key] };
  return null;
}

/**
 * Records the customer's consent from their message, inside its transaction, and stores the
 * confirmation as the reply (sent to WhatsApp like any bot reply). Queued broadcast messages to a
 * contact who opts out are skipped.
 */
export async function applyConsent(
  sql: Sql,
  word: NonNullable<ConsentWord>,
  contactId: string,
  conversationId: string,
  messageId: string,
) {
  if (word.kind === 'out') {
    await sql.query(
      `update public.contacts set whatsapp_opted_out_at = coalesce(whatsapp_opted_out_at, now())
        where id = $1`,
      [contactId],
    );
    await sql.query(
      `update public.whatsapp_broadcast_recipients
          set status = 'skipped', reason = 'opted out', updated_at = now()
        where contact_id = $1 and status = 'queued'`,
      [contactId],
    );
  } else {
    await sql.query(
      `update public.contacts
          set whatsapp_opted_out_at = null, whatsapp_opt_in_at = coalesce(whatsapp_opt_in_at, now())
        where id = $1`,
      [contactId],
    );
  }
  const text = (word.kind === 'out' ? CONFIRM_OUT : CONFIRM_IN)[word.locale] ?? '';
  await sql.query(
    `insert into public.messages (conversation_id, role, content, in_reply_to)
     values ($1, 'assistant', $2, $3)`,
    [conversationId, text, messageId],
  );
}

/**
 * A customer answering a broadcast: its recent messages to them count as replied. Returns the flow
 * the latest of those broadcasts starts, if any (the reply is the answer to its first question).
 */
export async function markBroadcastReplied(
  sql: Sql,
  tenantId: string,
  waId: string,
): Promise<string | null> {
  const [answered] = await sql.query<{ flow_id: string | null }>(
    `with replied as (
       update public.whatsapp_broadcast_recipients
          set status = 'replied', updated_at = now()
        where tenant_id = $1 and wa_id = $2 and status in ('sent', 'delivered', 'read')
          and sent_at > now() - interval '7 days'
       returning broadcast_id, sent_at)
     select b.flow_id from replied r join public.whatsapp_broadcasts b on b.id = r.broadcast_id
      order by r.sent_at desc limit 1`,
    [tenantId, waId],
  );
  return answered?.flow_id ?? null;
}
