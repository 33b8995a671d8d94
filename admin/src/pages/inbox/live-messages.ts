import { defineMessages } from '../../i18n/messages.ts';

// The inbox's live-chat strings: presence, read receipts, handoff reasons, the follow-up email.

export const live = defineMessages({
  en: {
    myStatus: 'My status',
    team: 'Team',
    online: 'Online',
    away: 'Away',
    offline: 'Offline',
    load: '{count} open',
    presenceFailed: 'Presence could not be updated: {message}',
    seen: 'Seen',
    handoffReason: 'Handed over',
    reasonVisitor: 'the visitor asked',
    reasonBot: 'the bot handed over',
    reasonKeyword: 'keyword',
    reasonLowConfidence: 'low confidence',
    reasonRepeatedQuestion: 'asked twice',
    reasonFlow: 'a flow handed over',
    followupEmail: 'Follow-up email',
    followupWaiting: 'Asked, none left yet',
  },
  he: {
    myStatus: 'הסטטוס שלי',
    team: 'צוות',
    online: 'מחובר',
    away: 'לא ליד המחשב',
    offline: 'לא מחובר',
    load: '{count} פתוחות',
    presenceFailed: 'לא ניתן לעדכן נוכחות: {message}',
    seen: 'נקרא',
    handoffReason: 'הועבר לנציג',
    reasonVisitor: 'המבקר ביקש',
    reasonBot: 'הבוט העביר',
    reasonKeyword: 'מילת מפתח',
    reasonLowConfidence: 'ביטחון נמוך',
    reasonRepeatedQuestion: 'שאל פעמיים',
    reasonFlow: 'תהליך העביר',
    followupEmail: 'אימייל למעקב',
    followupWaiting: 'התבקש, טרם נמסר',
  },
});
