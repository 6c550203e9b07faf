// Settings' words, in locale files of their own (locales/settings.*.json) that ship in the
// settings chunk only: importing this module adds them under `settings.` to i18next's
// translations, so t('settings.…') works once the chunk is loaded.
import i18next from 'i18next';
import en from '../locales/settings.en.json';
import es from '../locales/settings.es.json';
import fr from '../locales/settings.fr.json';

// `satisfies` makes the typecheck fail when a locale misses a key that English has.
const kBundles = {
  en,
  fr: fr satisfies typeof en,
  es: es satisfies typeof en,
};

for (const [lng, bundle] of Object.entries(kBundles)) {
  i18next.addResourceBundle(lng, 'translation', { settings: bundle }, true, true);
}
