import { defineMessages } from '../../i18n/messages.ts';

// Strings of the settings page's launcher and proactive-greeting section.

export const lcm = defineMessages({
  en: {
    title: 'Launcher and greetings',
    icon: 'Launcher icon',
    icon_chat: 'Chat bubble',
    icon_help: 'Question mark',
    icon_mail: 'Envelope',
    icon_heart: 'Heart',
    label: 'Text beside the icon (empty: icon only, at most 40 characters)',
    offsetX: 'Distance from the side, in pixels (0 to 200)',
    offsetY: 'Distance from the bottom, in pixels (0 to 200)',
    rules:
      'Proactive greetings, as JSON: a list of rules such as {"trigger": "time", "seconds": 20, "message": "Need a hand?"} (triggers: time, url, scroll, exit, returning; see the widget documentation)',
    badJson: 'The greetings are not valid JSON: {reason}',
    notList: 'The greetings must be a JSON list of rules.',
    badOffset: 'Distances must be whole numbers from 0 to 200.',
  },
  he: {
    title: 'כפתור הפתיחה וברכות יזומות',
    icon: 'סמל הכפתור',
    icon_chat: 'בועת צ׳אט',
    icon_help: 'סימן שאלה',
    icon_mail: 'מעטפה',
    icon_heart: 'לב',
    label: 'טקסט לצד הסמל (ריק: סמל בלבד, עד 40 תווים)',
    offsetX: 'מרחק מהצד, בפיקסלים (0 עד 200)',
    offsetY: 'מרחק מהתחתית, בפיקסלים (0 עד 200)',
    rules:
      'ברכות יזומות, כ-JSON: רשימת כללים כמו {"trigger": "time", "seconds": 20, "message": "צריכים עזרה?"} (טריגרים: time,‏ url,‏ scroll,‏ exit,‏ returning; ראו את תיעוד הווידג׳ט)',
    badJson: 'הברכות אינן JSON תקין: {reason}',
    notList: 'הברכות צריכות להיות רשימת JSON של כללים.',
    badOffset: 'המרחקים צריכים להיות מספרים שלמים בין 0 ל-200.',
  },
});
