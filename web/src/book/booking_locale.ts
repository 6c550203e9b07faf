// The booking pages' words, in locale files of their own (locales/booking.*.json) that ship in
// the booking chunk only: importing this module adds them under `booking.` to i18next's
// translations, so t('booking.…') works once the chunk is loaded.
import i18next from 'i18next';
import en from '../locales/booking.en.json';
import es from '../locales/booking.es.json';
import fr from '../locales/booking.fr.json';

// `satisfies` makes the typecheck fail when a locale misses a key that English has.
const kBundles = {
  en,
  fr: fr satisfies typeof en,
  es: es satisfies typeof en,
};

for (const [lng, bundle] of Object.entries(kBundles)) {
  i18next.addResourceBundle(lng, 'translation', { booking: bundle }, true, true);
}
