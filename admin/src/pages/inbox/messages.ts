import { defineMessages } from '../../i18n/messages.ts';

// The inbox's own strings in the first load: alerts.

export const m = defineMessages({
  en: {
    sound: 'Sound for new messages',
    soundFailed: 'The sound setting was not saved: {message}',
  },
  he: {
    sound: 'צליל להודעות חדשות',
    soundFailed: 'הגדרת הצליל לא נשמרה: {message}',
  },
});
