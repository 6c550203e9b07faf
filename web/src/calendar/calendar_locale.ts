// The calendar section's words, in locale files of their own (locales/calendar.*.json) that ship
// in the calendar chunk only: importing this module adds them under `calendar.` to i18next's
// translations, so t('calendar.…') works once the chunk is loaded.
import i18next from 'i18next';
import en from '../locales/calendar.en.json';
import es from '../locales/calendar.es.json';
import fr from '../locales/calendar.fr.json';

// `satisfies` makes the typecheck fail when a locale misses a key that English has.
const kBundles = {
  en,
  fr: fr satisfies typeof en,
  es: es satisfies typeof en,
};

for (const [lng, bundle] of Object.entries(kBundles)) {
  i18next.addResourceBundle(lng, 'translation', { calendar: bundle }, true, true);
}
