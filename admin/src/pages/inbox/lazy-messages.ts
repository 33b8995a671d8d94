import { defineMessages } from '../../i18n/messages.ts';

// Strings of the conversation view's Copilot and earlier conversations.

export const m = defineMessages({
  en: {
    earlier: 'Earlier conversations',
    noEarlier: 'No earlier conversations.',
    messagesCount: '{n} messages',
    copilot: 'Copilot',
    suggest: 'Suggest a reply',
    summarize: 'Summarize',
    drafting: 'Drafting a reply…',
    summarizing: 'Summarizing…',
    suggestionTitle: 'Suggested reply: check and edit it before sending',
    use: 'Put in the reply box',
    discard: 'Discard',
    sources: 'From: {titles}',
    summaryTitle: 'Summary',
    failed: 'Copilot could not help: {message}',
    noModel:
      'Copilot needs a language model, and none is configured for this workspace. An owner or admin can set one in the bot settings.',
  },
  he: {
    earlier: 'שיחות קודמות',
    noEarlier: 'אין שיחות קודמות.',
    messagesCount: '{n} הודעות',
    copilot: 'קופיילוט',
    suggest: 'הצע תשובה',
    summarize: 'סכם',
    drafting: 'מנסח תשובה…',
    summarizing: 'מסכם…',
    suggestionTitle: 'תשובה מוצעת: בדקו וערכו אותה לפני השליחה',
    use: 'העבר לתיבת התשובה',
    discard: 'בטל',
    sources: 'מתוך: {titles}',
    summaryTitle: 'סיכום',
    failed: 'קופיילוט לא הצליח לעזור: {message}',
    noModel:
      'קופיילוט צריך מודל שפה, ואין מודל מוגדר לסביבת העבודה הזו. בעלים או מנהל יכולים להגדיר אחד בהגדרות הבוט.',
  },
});
