import { defineMessages } from '../../i18n/messages.ts';

export const m = defineMessages({
  en: {
    title: 'Create your Parley account',
    passwordHint: 'Password (at least 8 characters)',
    create: 'Create the account',
    failed: 'The account was not created: {reason}',
    codeSent: 'We sent a 6-digit code to {email}. Enter it to confirm your address.',
    code: 'Code',
    confirm: 'Confirm',
    confirming: 'Confirming…',
    codeFailed: 'That code did not work: {reason}',
    back: 'I have an account: sign in',
  },
  he: {
    title: 'יצירת חשבון Parley',
    passwordHint: 'סיסמה (8 תווים לפחות)',
    create: 'יצירת החשבון',
    failed: 'החשבון לא נוצר: {reason}',
    codeSent: 'שלחנו קוד בן 6 ספרות אל {email}. הזינו אותו כדי לאשר את הכתובת.',
    code: 'קוד',
    confirm: 'אישור',
    confirming: 'מאשר…',
    codeFailed: 'הקוד לא התקבל: {reason}',
    back: 'יש לי חשבון: כניסה',
  },
});
