// The launcher's own words, so it is labelled before the app (and its full dictionary) loads.
const LABELS: Record<string, [open: string, close: string, unread: string]> = {
  en: ['Open chat', 'Close chat', 'unread'],
  es: ['Abrir chat', 'Cerrar chat', 'sin leer'],
  pt: ['Abrir chat', 'Fechar chat', 'não lidas'],
  fr: ['Ouvrir le chat', 'Fermer le chat', 'non lus'],
  de: ['Chat öffnen', 'Chat schließen', 'ungelesen'],
  he: ['פתיחת צ׳אט', 'סגירת צ׳אט', 'שלא נקראו'],
};

export function launcherLabel(locale: string, open: boolean, unread: number): string {
  const labels = LABELS[locale.slice(0, 2).toLowerCase()] ?? LABELS.en;
  const [openLabel, closeLabel, unreadLabel] = labels as [string, string, string];
  const base = open ? closeLabel : openLabel;
  return unread > 0 ? `${base} (${unread} ${unreadLabel})` : base;
}
