import { LOCALE_NAMES, LOCALES, type Locale, locale, setLocale, t } from '../i18n/index.ts';
import { setTheme, type Theme, theme } from './theme.ts';

/** Language and theme pickers: plain selects, so every browser and screen reader knows them. */
export function Preferences() {
  return (
    <div class="preferences">
      <label>
        <span class="visually-hidden">{t('language')}</span>
        <select
          value={locale.value}
          onChange={(e) => setLocale((e.currentTarget as HTMLSelectElement).value as Locale)}
          data-admin="locale"
        >
          {(Object.keys(LOCALES) as Locale[]).map((l) => (
            <option key={l} value={l} lang={l}>
              {LOCALE_NAMES[l]}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span class="visually-hidden">{t('theme')}</span>
        <select
          value={theme.value}
          onChange={(e) => setTheme((e.currentTarget as HTMLSelectElement).value as Theme)}
          data-admin="theme"
        >
          <option value="system">{t('themeSystem')}</option>
          <option value="light">{t('themeLight')}</option>
          <option value="dark">{t('themeDark')}</option>
        </select>
      </label>
    </div>
  );
}
