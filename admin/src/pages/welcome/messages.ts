import { defineMessages } from '../../i18n/messages.ts';

const en = {
  title: 'Welcome to {tenant}',
  joined: 'You joined as {role}.',
  owner: 'owner',
  admin: 'admin',
  agent: 'agent',
  platform: 'operator',
  passwordTitle: 'Choose a password',
  passwordHint: 'So you can sign in next time with your email and this password.',
  password: 'New password',
  save: 'Save password',
  saved: 'Your password is set.',
  failed: 'The password was not saved: {reason}',
  start: 'Go to the inbox',
};

export const m = defineMessages({
  en,
  he: {
    title: 'ברוכים הבאים ל{tenant}',
    joined: 'הצטרפת בתפקיד {role}.',
    owner: 'בעלים',
    admin: 'מנהל/ת',
    agent: 'נציג/ה',
    platform: 'מפעיל/ה',
    passwordTitle: 'בחירת סיסמה',
    passwordHint: 'כדי שתוכלו להתחבר בפעם הבאה עם האימייל והסיסמה הזו.',
    password: 'סיסמה חדשה',
    save: 'שמירת הסיסמה',
    saved: 'הסיסמה נקבעה.',
    failed: 'הסיסמה לא נשמרה: {reason}',
    start: 'מעבר לתיבת השיחות',
  },
});
